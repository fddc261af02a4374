"""Streaming a file into the database in chunks, each applied while the next is read.

The fast path writes the register as the file is read: a chunk of records is copied
into ``import_chunk``, then the statements that apply it are sent and, while the server
runs them, the next chunk is parsed. Parsing (Python) and writing (PostgreSQL) each
keep a core busy, and the chunk in hand bounds memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

import asyncpg

from resolvers.imports.records import Record
from resolvers.imports.staging import COLUMNS, TABLE, read, staged_row

CHUNK_TABLE = "import_chunk"
CREATE_CHUNK = f"CREATE TEMP TABLE {CHUNK_TABLE} (LIKE {TABLE}) ON COMMIT DROP"
CHUNK_SIZE = 20_000


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[tuple[object, ...]]]:
    """Staged rows in lists of ``size``; a full extract's records are all total."""
    chunk: list[tuple[object, ...]] = []
    for record in read(records):
        chunk.append(staged_row(record, True))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def stream_in_chunks(
    connection: asyncpg.Connection,
    records: Iterator[Record],
    each_chunk: str,
    progress: Callable[[int], None],
    *,
    size: int | None = None,
) -> int:
    """Copy ``records`` chunk by chunk into ``import_chunk`` and run ``each_chunk`` (SQL
    without parameters, one or more statements) on each; how many records were read."""
    await connection.execute(CREATE_CHUNK)
    done, pending = 0, None
    try:
        for rows in _chunks(records, size or CHUNK_SIZE):  # the previous chunk is applied meanwhile
            if pending is not None:
                await pending
            await connection.copy_records_to_table(CHUNK_TABLE, records=rows, columns=COLUMNS)
            # Sent at once (one simple query, no round trip to prepare it); answered when
            # the next chunk is in hand.
            pending = asyncio.ensure_future(connection.execute(each_chunk))
            await asyncio.sleep(0)
            done += len(rows)
            progress(done)
    except BaseException:
        if pending is not None:  # the connection is free only once it has answered
            await asyncio.gather(pending, return_exceptions=True)
        raise
    if pending is not None:
        await pending
    return done
