"""The fast path: a full extract into an empty register, written while it is read.

The later files of a full delivery that comes in several take it too, while the register
holds nothing but what the delivery's earlier files wrote: their persons are new as well,
and a record for a person an earlier file wrote is applied afterwards, in rounds, as in
a filled register (compared with what is stored: a protection is never lost).
The first file sets the register's secondary indexes and foreign keys aside; they stay
aside through the delivery's later files and are built again by the file that completes
it, or earlier by a file that goes on in rounds or moves numbers (those rely on the keys'
cascades). See ``resolvers.imports.bulk``.

See ``resolvers.imports.full`` for what it writes and ``resolvers.imports.pipeline`` for
how. The caller's ``check`` runs once every record is read, before the indexes are
built again: it may refuse the file, or find it applied already; either way the
transaction then rolls back and nothing of it stays.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator

import asyncpg

from resolvers.imports import bulk, full, moves, numbers, pipeline, plan, relatives, rounds
from resolvers.imports.plan import Target
from resolvers.imports.records import Record
from resolvers.imports.rounds import Counts, add, no_counts


async def fill_new(
    connection: asyncpg.Connection,
    records: Iterator[Record],
    progress: Callable[[int], None],
    check: Callable[[int], Awaitable[None]],
    target: Target,
    *,
    empty: bool,
    completes: bool,
) -> Counts:
    """Write ``records``, persons new to the register; the counts of what they did.

    ``target``: the file (of a full delivery). ``empty``: the register is empty (its
    indexes and keys are then set aside). ``completes``: the file is its delivery's last.
    """
    if empty:
        await bulk.set_aside(connection)
    known, superseded = await _write_new(connection, records, progress, check, target)
    created, protected, for_persons = await connection.fetchrow(full.WRITTEN_COUNTS, known)
    carried_before = await connection.fetchval(full.CARRIED_BEFORE)
    moving = carried_before or await connection.fetchval(full.NUMBERS_CHANGE)
    if completes or moving:
        await bulk.put_back(connection)
    # Last, so that the file that builds the indexes again finds the rows by one.
    await connection.execute(full.PURGE_RELATIONS_TO_PROTECTED)
    counts = no_counts()
    counts.update(created=created, protected=protected, unchanged=superseded)
    counts["skipped"] = for_persons - carried_before - created - protected - superseded
    if carried_before:  # as in a filled register, with the number changes
        await connection.execute(full.LEAVE_FOR_ROUNDS, known)
        add(counts, await rounds.apply_rounds(connection, target))
        return counts
    await connection.execute(plan.NO_LATER_RECORDS)  # number changes: one round, by PostId
    await moves.start(connection)
    add(counts, await numbers.apply_number_changes(connection, 1, target))
    counts["protected"] += await numbers.protect_under_former_numbers(connection, target)
    await moves.hide_protected(connection)
    await relatives.tell(connection, target.file_id)
    return counts


async def _write_new(
    connection: asyncpg.Connection,
    records: Iterator[Record],
    progress: Callable[[int], None],
    check: Callable[[int], Awaitable[None]],
    target: Target,
) -> tuple[int, int]:
    """Stream the records into the register; the persons known before, and how many
    records were superseded by a later one for the same person."""
    await connection.execute(full.CREATE_CONTEXT)
    await connection.execute(
        full.SET_CONTEXT, target.region, target.full_extract, target.file_id, target.order_id,
        target.known_persons,
    )  # fmt: skip
    read = await pipeline.stream_in_chunks(connection, records, full.FILL_CHUNK, progress)
    await check(read)
    known = target.known_persons
    superseded = await _rewrite_doubled(connection, known)
    await relatives.remember(connection, known)
    return known, superseded


async def _rewrite_doubled(connection: asyncpg.Connection, known: int) -> int:
    """Write persons new to the register with several records again from their latest;
    how many records their earlier ones were."""
    await connection.execute(full.DOUBLED, known)
    superseded = int(await connection.fetchval(full.SUPERSEDED))
    if superseded:
        await connection.execute(full.UNWRITE_DOUBLED)
        await connection.execute(full.WRITE_CHUNK)
        await connection.execute(full.RETELL_IN_ORDER)
    return superseded
