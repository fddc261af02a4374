"""Inputs per workload, drawn from the loaded register, and the request files wrk reads.

Every input is a GraphQL variables object both servers take. The draw is seeded, so a run
on the same register asks the same questions. Name searches are slow to vet (each is run
to count its matches: minutes for 300 000 persons), so they are kept in ``.bench/inputs``
under a fingerprint of the register's names and drawn again only when those change.
"""

from __future__ import annotations

import asyncio
import json
import random
import unicodedata
from pathlib import Path
from typing import Any

import asyncpg

from tests.bench.workloads import WORKLOADS

PAGE_SIZE = 100
MAX_SEARCH_MATCHES = 200

# Visible persons with a current relation the API shows (relations: tier RELATIONS).
PERSONS_WITH_RELATIONS = """
SELECT p.personnummer
FROM visible_person AS p
WHERE NOT p.is_coordination_number
  AND EXISTS (
      SELECT 1
      FROM visible_relation AS r
      WHERE r.person_id = p.id
        AND (r.valid_to IS NULL OR r.valid_to > current_date)
  )
ORDER BY p.personnummer
"""

# What personsInRange lists, in its order.
LISTED_NUMBERS = """
SELECT personnummer
FROM visible_person
WHERE NOT is_coordination_number
ORDER BY personnummer
"""

NAMES = """
SELECT last_name, first_names
FROM visible_person
WHERE NOT is_coordination_number
ORDER BY personnummer
"""

# Changes whenever the names a search can find change.
NAMES_FINGERPRINT = """
SELECT md5(string_agg(personnummer || last_name || first_names, ',' ORDER BY personnummer))
FROM visible_person
"""

# How many persons a name search matches, up to one past the API's limit.
SEARCH_MATCHES = """
SELECT count(*)
FROM (SELECT 1 FROM peer.search_persons($1, $2) LIMIT $3) AS found
"""


async def draw_inputs(
    url: str, count: int, cache: Path, seed: int = 1
) -> dict[str, list[dict[str, Any]]]:
    """``count`` variables objects per workload."""
    rng = random.Random(seed)
    connection = await asyncpg.connect(url)
    try:
        persons = await _persons(connection, count, rng)
        pages = await _pages(connection, count, rng)
        fingerprint = await connection.fetchval(NAMES_FINGERPRINT)
    finally:
        await connection.close()
    cached = cache / f"searches-typed-{count}-{seed}-{fingerprint[:16]}.json"
    if cached.exists():
        searches = json.loads(cached.read_text(encoding="utf-8"))
    else:
        searches = await _searches(url, count, rng)
        cache.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(searches, ensure_ascii=False), encoding="utf-8")
    return {"person": persons, "page": pages, "search": searches}


async def _persons(
    connection: asyncpg.Connection, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    numbers = [row[0] for row in await connection.fetch(PERSONS_WITH_RELATIONS)]
    if not numbers:
        raise RuntimeError("no person in the register has a relation")
    return [{"p": number} for number in rng.choices(numbers, k=count)]


async def _pages(
    connection: asyncpg.Connection, count: int, rng: random.Random
) -> list[dict[str, Any]]:
    """Intervals between two listed numbers holding 100 to 500 persons."""
    numbers = [row[0] for row in await connection.fetch(LISTED_NUMBERS)]
    if len(numbers) < 5 * PAGE_SIZE:
        raise RuntimeError(f"the register lists only {len(numbers)} persons")
    pages = []
    for _ in range(count):
        held = rng.randint(PAGE_SIZE, 5 * PAGE_SIZE)
        start = rng.randrange(len(numbers) - held)
        pages.append({"from": numbers[start], "to": numbers[start + held - 1]})
    return pages


async def _searches(url: str, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """(last name, one first name) of registered persons, typed as officials type them
    (``_typed``), that match at least one and at most 200 persons.

    Candidates are vetted in batches on two connections (the machine has two cores) and
    taken in draw order, so the result depends on the seed alone.
    """
    pool = await asyncpg.create_pool(url, min_size=2, max_size=2)
    assert pool is not None
    try:
        names = await pool.fetch(NAMES)
        candidates = list(dict.fromkeys(_candidates(names, count * 20, rng)))
        searches: list[dict[str, Any]] = []
        for start in range(0, len(candidates), 64):
            batch = candidates[start : start + 64]
            matches = await asyncio.gather(
                *(
                    pool.fetchval(SEARCH_MATCHES, last, first, MAX_SEARCH_MATCHES + 1)
                    for last, first in batch
                )
            )
            for (last, first), found in zip(batch, matches, strict=True):
                if 1 <= found <= MAX_SEARCH_MATCHES:
                    searches.append({"l": last, "f": first})
                    if len(searches) == count:
                        return searches
    finally:
        await pool.close()
    raise RuntimeError(f"found only {len(searches)} name searches matching at most 200 persons")


def _candidates(
    names: list[asyncpg.Record], how_many: int, rng: random.Random
) -> list[tuple[str, str | None]]:
    drawn = []
    for _ in range(how_many):
        last_name, first_names = rng.choice(names)
        drawn.append(_typed(rng, last_name, rng.choice(first_names.split())))
    return drawn


def _typed(rng: random.Random, last: str, first: str) -> tuple[str, str | None]:
    """The names as asked: about a third as registered, a fifth in lower case without
    diacritics (``oberg`` for Öberg), a quarter with the last name misspelt, a sixth with
    the first name misspelt, and a few without a first name."""
    roll = rng.random()
    if roll < 0.35:
        return last, first
    if roll < 0.55:
        return _plain(last).lower(), _plain(first).lower()
    if roll < 0.80:
        return _misspelt(rng, last), first
    if roll < 0.95:
        return last, _misspelt(rng, first)
    return last, None


def _plain(name: str) -> str:
    """Without diacritics: Å, Ä, Ö, É as A, A, O, E."""
    decomposed = unicodedata.normalize("NFD", name)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _misspelt(rng: random.Random, name: str) -> str:
    """One slip of the keyboard past the first letter: two letters swapped, one left
    out, one doubled or one replaced by its neighbour in the alphabet."""
    if len(name) < 4:
        return name
    at = rng.randrange(1, len(name) - 1)
    slip = rng.randrange(4)
    if slip == 0:
        return name[:at] + name[at + 1] + name[at] + name[at + 2 :]
    if slip == 1:
        return name[:at] + name[at + 1 :]
    if slip == 2:
        return name[:at] + name[at] + name[at:]
    neighbour = chr(ord(name[at]) + 1) if name[at] in "abcdefghijklmnopqrstuvwxy" else "e"
    return name[:at] + neighbour + name[at + 1 :]


def write_request_files(
    inputs: dict[str, list[dict[str, Any]]], directory: Path, servers: dict[str, str]
) -> None:
    """One file per workload and server (name: dialect): a JSON request body per line,
    for ``bench.lua``."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, variables in inputs.items():
        workload = WORKLOADS[name]
        for server, dialect in servers.items():
            lines = (json.dumps(workload.body(dialect, v), ensure_ascii=False) for v in variables)
            request_file(directory, name, server).write_text("\n".join(lines) + "\n", "utf-8")


def request_file(directory: Path, workload: str, server: str) -> Path:
    return directory / f"{workload}-{server}.jsonl"
