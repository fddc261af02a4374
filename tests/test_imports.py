"""Applying deliveries: full extracts, change notices, total and partial records, stale
records, deregistration and leaving the region (docs/imports.md)."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from tests.factories import number
from tests.importing import (
    apply,
    changes,
    deregistered,
    full_extract,
    home,
    names,
    partial,
    record,
    registered,
    relation,
)

RESET = """
TRUNCATE person, address, relation, change_event, import_file, former_personnummer,
    key_code_area RESTART IDENTITY CASCADE
"""


@pytest.fixture
async def register(pool: asyncpg.Pool) -> asyncpg.Pool:
    """An empty register, with no events and no files imported."""
    await pool.execute(RESET)
    return pool


async def person(pool: asyncpg.Pool, personnummer: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM person WHERE personnummer = $1", personnummer)


async def events(pool: asyncpg.Pool) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT personnummer, kind, parts FROM change_event ORDER BY xid, position"
    )
    return [tuple(row) for row in rows]


async def test_a_full_extract_fills_an_empty_register(
    register: asyncpg.Pool, database_url: str
) -> None:
    mother, child = number(dt.date(1980, 1, 1)), number(dt.date(2015, 6, 1))
    source = full_extract(
        record(mother, 1, relations=(relation("B", child),)),
        record(child, 2, names=names("Lisa"), relations=(relation("MO", mother),)),
    )
    outcome = await apply(database_url, source)
    assert outcome.status == "applied"
    assert outcome.counts["created"] == 2
    stored = await person(register, child)
    assert stored is not None and stored["first_names"] == "Lisa"
    assert stored["birth_date"] == dt.date(2015, 6, 1)
    assert await register.fetchval("SELECT count(*) FROM address") == 2
    assert await register.fetchval("SELECT count(*) FROM relation") == 2
    assert await events(register) == [(mother, "CREATED", None), (child, "CREATED", None)]


async def test_a_change_notice_changes_only_what_changed(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, b = number(), number()
    await apply(database_url, full_extract(record(a, 1), record(b, 2)))
    source = changes(
        record(a, 10, names=names(last="Berg")),
        record(b, 11),
    )
    outcome = await apply(database_url, source)
    assert outcome.counts["changed"] == 1 and outcome.counts["unchanged"] == 1
    assert (await person(register, a))["last_name"] == "Berg"
    assert (await events(register))[-1] == (a, "CHANGED", ["NAMES"])


async def test_a_partial_record_changes_only_the_parts_it_carries(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, addresses=(home("Lilla gatan 2"),))))
    stored = await person(register, a)
    assert stored["last_name"] == "Svensson" and stored["civil_status"] == "OG"
    line = await register.fetchval("SELECT line2 FROM address WHERE person_id = $1", stored["id"])
    assert line == "Lilla gatan 2"
    assert (await events(register))[-1] == (a, "CHANGED", ["ADDRESSES"])


async def test_deregistration_keeps_the_person(register: asyncpg.Pool, database_url: str) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, deregistration=deregistered())))
    stored = await person(register, a)
    assert stored["deregistration_code"] == "AV"
    assert (await events(register))[-1] == (a, "DEREGISTERED", None)


async def test_leaving_the_region_deletes_the_person(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, registration=registered("80", "01"))))
    assert await person(register, a) is None
    assert await register.fetchval("SELECT count(*) FROM address") == 0
    assert (await events(register))[-1] == (a, "LEFT", None)
