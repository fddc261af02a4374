"""Importing the demo's Navet files through the reader and the importer — as ``serve``'s
first start and ``demo-data`` do — gives the register ``generate`` draws, protected
persons purged to number and mark, with a change event of every kind."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg
import pytest

from resolvers.changes.events import events_after
from resolvers.dev.demo import RegisterNotEmptyError, examples, fill, write_files
from resolvers.dev.demo.filling import store_key_codes
from resolvers.dev.demo.navet import deliveries
from resolvers.imports.apply import apply_file
from resolvers.imports.navet import open_delivery
from resolvers.imports.records import Record
from resolvers.imports.source import APPLIED
from tests.demo_register import Register, assert_same, expected, stored
from tests.importing import assert_registered_addresses_kept

PERSONS, SEED, TODAY = 2000, 7, dt.date(2025, 6, 1)
KEY_CODE = 6  # in a person row of tests/demo_register.py

# One question per kind of example: does this number really belong to that kind?
IS_OF_KIND = {
    "ordinary_adult": """
        SELECT p.protection IS NULL AND p.deregistration_code IS NULL
           AND p.birth_date <= current_date - interval '18 years'
           AND EXISTS (SELECT 1 FROM address a WHERE a.person_id = p.id AND a.kind = 'F')
           AND NOT EXISTS (SELECT 1 FROM address a WHERE a.person_id = p.id AND a.kind = 'S')
        FROM person p WHERE p.personnummer = $1""",
    "child_with_two_guardians": """
        SELECT p.protection IS NULL AND p.birth_date > current_date - interval '18 years'
           AND (SELECT count(*) FROM relation r JOIN person g
                  ON g.personnummer = r.related_personnummer AND g.protection IS NULL
                WHERE r.person_id = p.id AND r.kind = 'V') = 2
        FROM person p WHERE p.personnummer = $1""",
    "special_postal_address": """
        SELECT p.protection IS NULL AND p.deregistration_code IS NULL
           AND EXISTS (SELECT 1 FROM address a WHERE a.person_id = p.id AND a.kind = 'S')
        FROM person p WHERE p.personnummer = $1""",
    "emigrated": """
        SELECT p.protection IS NULL AND p.deregistration_code = 'UV'
           AND p.deregistration_date IS NOT NULL
           AND (SELECT array_agg(a.kind::text) FROM address a WHERE a.person_id = p.id) = '{U}'
        FROM person p WHERE p.personnummer = $1""",
    "deceased": """
        SELECT p.protection IS NULL AND p.deregistration_code = 'AV'
           AND NOT EXISTS (SELECT 1 FROM address a WHERE a.person_id = p.id)
        FROM person p WHERE p.personnummer = $1""",
    "protected": """
        SELECT p.protection IS NOT NULL AND p.last_name IS NULL
        FROM person p WHERE p.personnummer = $1""",
}


@pytest.fixture(scope="module")
def wanted() -> Register:
    return expected(PERSONS, SEED, TODAY)


async def test_the_imported_demo_is_the_generated_register(
    register: asyncpg.Pool, wanted: Register, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    async with register.acquire() as connection:
        filled = await fill(
            connection,
            write_files(PERSONS, SEED, TODAY, tmp_path),
            progress=lambda *read: seen.append(read),
        )
    assert filled.persons == PERSONS
    assert filled.files == sorted(tmp_path.glob("navet-*.xml")) and len(filled.files) == 5
    found = await stored(register)
    assert_same(found, wanted)
    await assert_registered_addresses_kept(register)
    assert len(wanted.protected) > 5 and found.protected == wanted.protected
    with_key_code = [row for row in found.persons.values() if row[KEY_CODE] is not None]
    assert len(with_key_code) > PERSONS * 0.9  # the key codes were there before the files
    total = seen[-1][1]
    assert seen[-1] == (total, total) and total > PERSONS
    ledger = await register.fetch("SELECT file_name, status FROM import_file ORDER BY id")
    assert [tuple(row) for row in ledger] == [(path.name, APPLIED) for path in filled.files]


# The events of the notices' records (by their place in the notices), in the order a
# reader reads them: a number change applies after the other records of its round, and
# the new number's own total record then changes nothing (it says what moved with it).
NOTICE_EVENTS = [
    (0, "CHANGED", ["ADDRESSES", "REGISTRATION", "KEY_CODE"]),  # a move
    (1, "CHANGED", ["CIVIL_STATUS", "RELATIONS"]),  # a marriage
    (2, "CHANGED", ["CIVIL_STATUS", "RELATIONS"]),
    (3, "PROTECTED", None),  # the mark alone
    (4, "CREATED", None),  # a birth
    (5, "CHANGED", ["RELATIONS"]),  # the parents
    (6, "CHANGED", ["RELATIONS"]),
    (7, "DEREGISTERED", None),  # a death
    (8, "CHANGED", ["CIVIL_STATUS", "RELATIONS"]),  # the widow(er)
    (9, "DEREGISTERED", None),  # an emigration
    (10, "CREATED", None),  # a protection lifted
    (13, "CHANGED", ["RELATIONS"]),  # the relatives of a new number
    (14, "CHANGED", ["RELATIONS"]),
    (15, "CHANGED", ["RELATIONS"]),
    (16, "CHANGED", ["RELATIONS"]),
    (17, "LEFT", None),  # a move out of the county
    (11, "NUMBER_CHANGED", None),
]


async def test_the_files_write_an_event_of_every_kind_in_order(
    register: asyncpg.Pool, tmp_path: Path
) -> None:
    async with register.acquire() as connection:
        filled = await fill(connection, write_files(PERSONS, SEED, TODAY, tmp_path))
    events = await events_after(register, limit=10 * PERSONS)
    extract, notices = _read(filled.files[0]), [r for p in filled.files[1:] for r in _read(p)]
    # A protected person new to the register is told nothing: the feed would list them.
    told = [("CREATED", r.personnummer) for r in extract if not r.protection]
    assert len(told) < len(extract)
    assert [(e.kind, e.personnummer) for e in events[: len(told)]] == told
    found = [
        (e.kind, e.parts, e.personnummer, e.previous_personnummer, e.post_id, e.recorded_at)
        for e in events[len(told) :]
    ]
    assert found == [_event(notices[at], kind, parts) for at, kind, parts in NOTICE_EVENTS]
    assert {kind for _, kind, _ in NOTICE_EVENTS} == {
        "CREATED", "CHANGED", "DEREGISTERED", "PROTECTED", "LEFT", "NUMBER_CHANGED",
    }  # fmt: skip
    # Each file's events in a transaction of its own, after the one before.
    files = await register.fetch("SELECT import_file_id FROM change_event ORDER BY xid, position")
    assert [row[0] for row in files] == sorted(row[0] for row in files)
    assert len({(e.xid) for e in events}) == len(filled.files)
    await assert_registered_addresses_kept(register)  # after every kind of event


async def test_the_events_name_the_municipality_they_took_a_person_out_of(
    register: asyncpg.Pool, tmp_path: Path
) -> None:
    async with register.acquire() as connection:
        filled = await fill(connection, write_files(PERSONS, SEED, TODAY, tmp_path))
    extract = {r.personnummer: r for r in _read(filled.files[0])}
    notices = [r for p in filled.files[1:] for r in _read(p)]
    rows = await register.fetch(
        "SELECT kind, municipality_before FROM change_event ORDER BY xid, position"
    )
    told = sum(r.protection is None for r in extract.values())
    assert all(before is None for _, before in rows[:told])
    wanted = [(kind, _moved_out(extract, notices[at], kind)) for at, kind, _ in NOTICE_EVENTS]
    assert [tuple(row) for row in rows[told:]] == wanted
    # The protection, the death, the emigration and the move out of the county at least.
    assert sum(before is not None for _, before in wanted) >= 4


def _moved_out(extract: dict[str, Record], record: Record, kind: str) -> str | None:
    """Where the person stood registered in the extract, if the record took them out."""
    before = _registered(extract.get(record.personnummer))
    if kind in ("PROTECTED", "LEFT"):
        return before
    after = before if record.addresses is None else _registered(record)
    return before if before != after else None


def _registered(record: Record | None) -> str | None:
    for address in (record.addresses or ()) if record else ():
        if address.kind == "F" and address.county_code and address.municipality_code:
            return address.county_code + address.municipality_code
    return None


async def test_a_split_extract_imports_to_the_same_register(
    register: asyncpg.Pool, wanted: Register, tmp_path: Path
) -> None:
    demo = deliveries(PERSONS, SEED, TODAY)
    files = demo.write(tmp_path, records_per_file=750)
    assert len(files) == 3 + 4
    async with register.acquire() as connection:
        await store_key_codes(connection, demo)
        for path in files:
            with open_delivery(path) as navet:
                outcome = await apply_file(connection, navet, path.name)
            assert outcome.status == APPLIED
    assert_same(await stored(register), wanted)
    await assert_registered_addresses_kept(register)


async def test_examples_are_of_their_kind(register: asyncpg.Pool, tmp_path: Path) -> None:
    async with register.acquire() as connection:
        await fill(connection, write_files(PERSONS, 11, dt.date.today(), tmp_path))
        found = await examples(connection)
        for kind, numbers in found.items():
            for number in numbers:
                assert await connection.fetchval(IS_OF_KIND[kind], number), (kind, number)
    assert set(found) == set(IS_OF_KIND)
    assert all(1 <= len(numbers) <= 3 and numbers == sorted(numbers) for numbers in found.values())


async def test_a_register_with_data_is_replaced_only_when_asked(
    register: asyncpg.Pool, tmp_path: Path
) -> None:
    async with register.acquire() as connection:
        await fill(connection, write_files(300, SEED, TODAY, tmp_path))
        with pytest.raises(RegisterNotEmptyError, match="replace"):
            await fill(connection, write_files(200, SEED, TODAY, tmp_path))
        assert await connection.fetchval("SELECT count(*) FROM person") == 300
        filled = await fill(connection, write_files(100, SEED, TODAY, tmp_path), replace=True)
    assert filled.persons == 100 and len(filled.files) == 1  # too few for the notices
    assert sorted(tmp_path.iterdir()) == filled.files  # the earlier demo's files are gone
    assert_same(await stored(register), expected(100, SEED, TODAY))
    assert await register.fetchval("SELECT count(*) FROM import_file") == 1


def _event(record: Record, kind: str, parts: list[str] | None) -> tuple[object, ...]:
    """The event ``record`` writes: a PROTECTED one carries the number and nothing else;
    a NUMBER_CHANGED one the new number and the previous."""
    if kind == "PROTECTED":
        return kind, None, record.personnummer, None, None, None
    if kind == "NUMBER_CHANGED":
        new, previous = record.new_personnummer, record.personnummer
        return kind, None, new, previous, record.post_id, record.changed_at
    return kind, parts, record.personnummer, None, record.post_id, record.changed_at


def _read(path: Path) -> list[Record]:
    with open_delivery(path) as navet:
        return list(navet.records())
