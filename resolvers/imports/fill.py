"""The fast path: a full extract into an empty register, written while it is read.

The later files of a full delivery that comes in several take it too, while the register
holds nothing but what the delivery's earlier files wrote: their persons are new as well,
and a record for a person an earlier file wrote is applied afterwards, in rounds, as in
a filled register (compared with what is stored: a protection is never lost).
Only into an empty register are the indexes set aside (rebuilding them over the persons
already written, for every file, would cost more than keeping them up to date).

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
) -> Counts:
    """Write ``records``, persons new to the register; the counts of what they did.

    ``target``: the file (of a full delivery). ``empty``: the register is empty (its
    indexes are then set aside and built after; else they are kept, their trigram
    entries merged in batches).
    """
    kept = bulk.indexes_set_aside if empty else bulk.pending_lists_batched
    async with kept(connection):
        await connection.execute(full.CREATE_CONTEXT)
        await connection.execute(
            full.SET_CONTEXT, target.region, target.full_extract, target.file_id, target.order_id
        )
        read = await pipeline.stream_in_chunks(connection, records, full.FILL_CHUNK, progress)
        await check(read)
        known = target.known_persons
        superseded = await _rewrite_doubled(connection, known)
        await relatives.remember(connection, known)
        await connection.execute(full.PURGE_RELATIONS_TO_PROTECTED)
    created, protected, for_persons = await connection.fetchrow(full.WRITTEN_COUNTS, known)
    carried_before = await connection.fetchval(full.CARRIED_BEFORE, known) if known else 0
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
