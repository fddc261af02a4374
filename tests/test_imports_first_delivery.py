"""The first full delivery in several files: its indexes and keys set aside until it is whole."""

from __future__ import annotations

import asyncpg
import pytest

from resolvers import db
from resolvers.imports.records import SKYDDAD
from tests.conftest import _fresh_database
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, partial, record, relation
from tests.test_imports import person

SECONDARY = """
SELECT count(*) FROM pg_index AS i
WHERE i.indrelid IN ('person'::regclass, 'address'::regclass, 'relation'::regclass)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
"""
KEYS = """
SELECT count(*) FROM pg_constraint
WHERE contype = 'f' AND conrelid IN ('address'::regclass, 'relation'::regclass)
"""
ORPHANS = """
SELECT (SELECT count(*) FROM address AS a WHERE NOT EXISTS (
            SELECT 1 FROM person AS p WHERE p.id = a.person_id))
     + (SELECT count(*) FROM relation AS r WHERE NOT EXISTS (
            SELECT 1 FROM person AS p WHERE p.id = r.person_id))
"""


async def _shape(connection: asyncpg.Pool | asyncpg.Connection) -> tuple[int, int, int]:
    """Secondary indexes, foreign keys, and definitions kept aside."""
    return (
        await connection.fetchval(SECONDARY),
        await connection.fetchval(KEYS),
        await connection.fetchval("SELECT count(*) FROM register_set_aside"),
    )


def _delivery(files: int) -> list:
    """A full delivery of ``files`` files, one person each but the first (two)."""
    first = full_extract(
        record(number(), 1), record(number(), 2), files_in_delivery=files, file_no=1
    )
    job = first.delivery.job_id  # type: ignore[union-attr]
    rest = [
        full_extract(record(number(), 10 + no), files_in_delivery=files, file_no=no, job_id=job)
        for no in range(2, files + 1)
    ]
    return [first, *rest]


async def test_the_delivery_builds_its_indexes_and_keys_once_it_is_whole(
    register: asyncpg.Pool, database_url: str
) -> None:
    whole = await _shape(register)
    assert whole[2] == 0
    first, second, third = _delivery(3)
    await apply(database_url, first)
    aside = await _shape(register)
    assert aside[0] < whole[0] and aside[1] == 0 and aside[2] == (whole[0] - aside[0]) + whole[1]
    await apply(database_url, second)
    assert await _shape(register) == aside
    # Meanwhile lookups answer (without the indexes): the persons written are there.
    for item in (*first.records(), *second.records()):
        assert await person(register, item.personnummer) is not None
    await apply(database_url, third)
    assert await _shape(register) == whole
    assert await register.fetchval("SELECT count(*) FROM person") == 4


async def test_a_later_file_refused_leaves_them_aside_as_they_were(
    register: asyncpg.Pool, database_url: str
) -> None:
    first, second = _delivery(2)
    await apply(database_url, first)
    aside = await _shape(register)
    bad = full_extract(
        record(number(), 20), record(number(), 20),  # one PostId twice: refused
        files_in_delivery=2, file_no=2, job_id=first.delivery.job_id,  # type: ignore[union-attr]
    )  # fmt: skip
    with pytest.raises(Exception, match="PostId"):
        await apply(database_url, bad)
    assert await _shape(register) == aside
    await apply(database_url, second)
    assert (await _shape(register))[2] == 0


async def test_another_import_between_the_files_builds_them_first(
    register: asyncpg.Pool, database_url: str
) -> None:
    """A change notice before the delivery is whole: the register is in service."""
    whole = await _shape(register)
    first, second = _delivery(2)
    await apply(database_url, first)
    someone = next(iter(first.records())).personnummer
    await apply(database_url, changes(record(someone, 5, names=names(last="Ändrad"))))
    assert await _shape(register) == whole
    await apply(database_url, second)
    assert await _shape(register) == whole
    assert (await person(register, someone))["last_name"] == "Ändrad"


async def test_a_later_file_moving_numbers_builds_them_before_it_moves(
    register: asyncpg.Pool, database_url: str
) -> None:
    """A number change deletes a person row and relies on the keys' cascade: no address
    or relation of the old row may stay behind."""
    whole = await _shape(register)
    old, new, relative = number(), number(), number()
    first = full_extract(
        record(old, 1, relations=(relation("M", relative),)), record(relative, 2),
        files_in_delivery=3, file_no=1,
    )  # fmt: skip
    job = first.delivery.job_id  # type: ignore[union-attr]
    await apply(database_url, first)
    second = full_extract(
        record(new, 3), partial(old, 4, new_personnummer=new),
        files_in_delivery=3, file_no=2, job_id=job,
    )  # fmt: skip
    await apply(database_url, second)
    assert await _shape(register) == whole
    assert await register.fetchval(ORPHANS) == 0
    third = full_extract(
        record(number(), 5, protection=SKYDDAD), files_in_delivery=3, file_no=3, job_id=job
    )
    await apply(database_url, third)
    assert await _shape(register) == whole and await register.fetchval(ORPHANS) == 0


async def test_a_migration_between_the_files_builds_them_first(
    server_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await _fresh_database(server_uri, "vastfolket_set_aside")
    connection = await asyncpg.connect(url)
    try:
        whole = await _shape(connection)
        first, _second = _delivery(2)
        await apply(url, first)
        assert (await _shape(connection))[2] > 0
        shipped = db.migration_files()
        monkeypatch.setattr(db, "migration_files", lambda: [*shipped, ("9999_later", "SELECT 1")])
        assert await db.migrate(connection) == ["9999_later"]
        assert await _shape(connection) == whole
    finally:
        await connection.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute("DROP DATABASE vastfolket_set_aside WITH (FORCE)")
        await admin.close()
