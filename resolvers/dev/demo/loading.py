"""``load``: writing a demo register's rows straight in with COPY, in one transaction.

The benchmark fills its database of hundreds of thousands of persons this way; ``serve``
and ``demo-data`` import the demo's Navet files instead (``filling.fill``). Protected
persons keep their rows here, which an import purges.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from operator import itemgetter

import asyncpg

from resolvers.dev.demo.filling import RegisterNotEmptyError
from resolvers.dev.demo.model import Row
from resolvers.dev.demo.register import (
    ADDRESS_COLUMNS,
    PERSON_COLUMNS,
    RELATION_COLUMNS,
    DemoRegister,
)

CHUNK_SIZE = 10_000


LOCK_REGISTER = "LOCK TABLE person, address, relation IN EXCLUSIVE MODE"
PERSON_COUNT = "SELECT count(*) FROM person"
TRUNCATE_REGISTER = "TRUNCATE person, address, relation RESTART IDENTITY CASCADE"
# COPY writes the ids it is given even into a GENERATED ALWAYS identity column (PostgreSQL's
# CREATE TABLE reference says so), so the sequence is moved past them afterwards.
NEXT_PERSON_ID = """
SELECT setval(pg_get_serial_sequence('person', 'id'), coalesce(max(id), 0) + 1, false)
FROM person
"""
ANALYZE_REGISTER = "ANALYZE person, address, relation"
TABLES = (("person", PERSON_COLUMNS), ("address", ADDRESS_COLUMNS), ("relation", RELATION_COLUMNS))


async def load(
    connection: asyncpg.Connection,
    register: DemoRegister,
    *,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``register`` with COPY in one transaction; return the number of persons written.

    Args:
        replace: delete the persons already registered (and their addresses and relations).
        progress: called with the number of persons written so far after every chunk.

    Raises:
        RegisterNotEmptyError: the register holds persons and ``replace`` is false.
    """
    written = 0
    async with connection.transaction():
        await connection.execute(LOCK_REGISTER)
        if replace:
            await connection.execute(TRUNCATE_REGISTER)
        elif count := await connection.fetchval(PERSON_COUNT):
            raise RegisterNotEmptyError(count)
        for chunk in _chunks(register):
            for (table, columns), rows in zip(TABLES, chunk, strict=True):
                await connection.copy_records_to_table(table, records=rows, columns=columns)
            written += len(chunk[0])
            if progress is not None:
                progress(written)
        await connection.execute(NEXT_PERSON_ID)
    await connection.execute(ANALYZE_REGISTER)
    return written


def _chunks(register: DemoRegister) -> list[tuple[list[Row], list[Row], list[Row]]]:
    """Persons in chunks of ``CHUNK_SIZE``, each with its own addresses and relations."""
    key, chunks = itemgetter(0), []
    for start in range(0, len(register.persons), CHUNK_SIZE):
        persons = register.persons[start : start + CHUNK_SIZE]
        low, high = persons[0][0], persons[-1][0]
        parts = [
            rows[bisect.bisect_left(rows, low, key=key) : bisect.bisect_right(rows, high, key=key)]
            for rows in (register.addresses, register.relations)
        ]
        chunks.append((persons, parts[0], parts[1]))
    return chunks
