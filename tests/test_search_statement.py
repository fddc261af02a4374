"""The name search statement: it asks the trigram index for both names, and finds, ranks
and refuses exactly as the statement before migration 0008 did (tests/bench/search_before.py).

The register here is made of look-alike names (Johansson, Johanson, Jonsson, Öberg,
Åberg, …) so that every search meets similar and exact last names, first names that
begin with, contain or only resemble the one asked for, and persons that are protected
or known by a samordningsnummer; the searches come typed as officials type them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import asyncpg

from resolvers.domain.access import Tier
from resolvers.register import persons
from tests import factories
from tests.bench.search_before import PERSONS_BY_NAME_BEFORE

LAST_NAMES = (
    "Johansson", "Johanson", "Jonsson", "Jansson", "Hansson", "Andersson", "Anderson",
    "Öberg", "Åberg", "Berg", "Lind", "Lindqvist", "Lindgren", "Ek", "Eklund", "Holm",
    "ʻʻ",  # a modifier letter twice: a name without trigrams, found only when spelt so
)  # fmt: skip
FIRST_NAMES = (
    "Åsa", "Asa Eva", "Fanny Åsa", "Anna Karin Maria", "Maria", "Marie", "Mari", "Karl",
    "Carl Johan", "Eva", "Ebbe", "Elin", "Elina Sofia", "Anna-Karin",
)  # fmt: skip
TOWNS = ("GÖTEBORG", "MÖLNDAL", "BORÅS")
SEARCHED = ("Johansson", "johanssen", "Andresson", "OBERG", "Åberg", "Lind", "Ek", "ʻʻ", "Holmm")
FIRST = (None, "Åsa", "asa", "Maria", "Karin", "Elin", "Anna Karin", "Ebba")
YEARS = ((None, None), (1960, 1990), (None, 1950))
TOWN = (None, "Molndal")
MAX_MATCHES = 20


async def _register(pool: asyncpg.Pool) -> None:
    rng = random.Random(7)
    for _ in range(400):
        roll = rng.random()
        await factories.person(
            pool,
            personnummer=factories.number(
                dt.date(rng.randint(1935, 2015), rng.randint(1, 12), rng.randint(1, 28)),
                coordination=roll < 0.03,
            ),
            first_names=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            protection="SEKRETESSMARKERING" if 0.03 <= roll < 0.06 else None,
            address={"line2": "Storgatan 1", "postal_code": "41263",
                     "postal_town": rng.choice(TOWNS)},
        )  # fmt: skip


async def _answer(statement: asyncpg.prepared_stmt.PreparedStatement, *criteria: object) -> object:
    records = await statement.fetch(*criteria, MAX_MATCHES + 1, 0, 8)
    total = records[0]["total"]
    if total > MAX_MATCHES:  # refused: the page is never shown
        return total
    return total, [record["p_personnummer"] for record in records if record["p_id"] is not None]


async def test_search_finds_ranks_and_refuses_as_before(clean_db: asyncpg.Pool) -> None:
    await _register(clean_db)
    await clean_db.execute("ANALYZE person")
    answered = {"refused": 0, "found": 0, "none": 0}
    async with clean_db.acquire() as connection:
        now = await connection.prepare(persons.PERSONS_BY_NAME[Tier.BASIC])
        before = await connection.prepare(PERSONS_BY_NAME_BEFORE[Tier.BASIC])
        for last, first, (low, high), town in itertools.product(SEARCHED, FIRST, YEARS, TOWN):
            criteria = (last, first, low, high, town)
            answer = await _answer(now, *criteria)
            assert answer == await _answer(before, *criteria), criteria
            kind = "refused" if isinstance(answer, int) else "found" if answer[0] else "none"
            answered[kind] += 1
    # The grid meets every outcome, often.
    assert min(answered.values()) >= 30, answered


async def test_name_search_asks_the_index_for_both_names(pool: asyncpg.Pool) -> None:
    """The first name is a condition of the trigram index scan, beside the last name,
    not a filter on every person with a similar last name; and nothing reads the whole
    register."""
    async with pool.acquire() as connection:
        await connection.execute("SET enable_seqscan = off")
        try:
            await connection.execute(f"PREPARE search AS {persons.PERSONS_BY_NAME[Tier.BASIC]}")
            explained = await connection.fetch(
                "EXPLAIN EXECUTE search('Öberg', 'Åsa', NULL, NULL, NULL, 201, 0, 26)"
            )
            await connection.execute("DEALLOCATE search")
        finally:
            await connection.execute("RESET enable_seqscan")
    plan = "\n".join(row[0] for row in explained)
    conditions = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any("search_last_name %" in c and "search_first_names %>" in c for c in conditions), plan
    assert "Seq Scan on person" not in plan, plan
