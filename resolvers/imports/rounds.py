"""Applying a staged file to the register, round by round.

Round ``n`` applies every record that is its person's ``n``-th in the file, set-based:
decide each record's action (``plan``), write what protects and what leaves, work out the
person each changing record leaves and which parts changed (``parts``), write persons,
addresses and relations, then the round's events in PostId order (``writes``), then the
round's number changes (``numbers``); at the end, what the feed keeps of number changes
whose person ends the file protected (``moves``), and a ``PROTECTED`` for each number
shown only as a relative that the file protected (``relatives``).
"""

from __future__ import annotations

import asyncpg

from resolvers.imports import moves, numbers, parts, plan, relatives, writes
from resolvers.imports.plan import Target

# What each (action, event) of a record counts as.
_COUNTED = {
    ("CREATE", "CREATED"): "created",
    ("LIFT", "CREATED"): "created",
    ("UPDATE", "CHANGED"): "changed",
    ("UPDATE", "DEREGISTERED"): "deregistered",
    ("UPDATE", None): "unchanged",
    ("KEEP_PROTECTED", None): "unchanged",
    ("PROTECT", None): "protected",
    ("PROTECT_NEW", None): "protected",
    ("LEAVE", None): "left",
    ("STALE", None): "stale",
    ("SKIP", None): "skipped",
}
COUNTS = (
    "created", "changed", "deregistered", "protected", "left", "number_changed",
    "unchanged", "stale", "skipped",
)  # fmt: skip

_PURGE = (writes.PURGE_ADDRESSES, writes.PURGE_RELATIONS, writes.PURGE_RELATIONS_TO)
_PARTS = (parts.NEW_ADDRESSES, parts.NEW_RELATIONS, parts.ANALYZE_PARTS,
          parts.ADDRESSES_CHANGED, parts.RELATIONS_CHANGED, plan.NEXT_EVENTS)  # fmt: skip
_WRITE_PERSONS = (writes.UPDATE_PERSONS, writes.CREATE_PERSONS)
_WRITE_PARTS = (
    writes.CREATED_IDS, writes.DELETE_ADDRESSES, writes.INSERT_ADDRESSES,
    writes.DELETE_RELATIONS, writes.INSERT_RELATIONS,
)  # fmt: skip


Counts = dict[str, int]


def no_counts() -> Counts:
    return dict.fromkeys(COUNTS, 0)


def add(counts: Counts, more: Counts) -> None:
    for name, value in more.items():
        counts[name] += value


async def apply_rounds(connection: asyncpg.Connection, target: Target) -> Counts:
    """Apply the staged records in rounds; the counts of what they did."""
    counts = no_counts()
    await moves.start(connection)
    await relatives.remember(connection, target.known_persons)
    await connection.execute(plan.LATER_RECORDS)
    last = await connection.fetchval(plan.LAST_ROUND)
    for turn in range(1, last + 1):
        add(counts, await _round(connection, turn, target))
        add(counts, await numbers.apply_number_changes(connection, turn, target))
    counts["protected"] += await numbers.protect_under_former_numbers(connection, target)
    await moves.hide_protected(connection)
    await relatives.tell(connection, target.file_id)
    return counts


async def _round(connection: asyncpg.Connection, turn: int, target: Target) -> Counts:
    full_extract, order_id, file_id = target.full_extract, target.order_id, target.file_id
    await connection.execute(plan.DROP_ROUND)
    await connection.execute(plan.PLAN_ROUND, turn, target.region, order_id)
    await _run(connection, plan.PLAN_INDEX, plan.ANALYZE_PLAN, writes.LEAVE)
    for statement in (writes.PROTECT, writes.PROTECT_NEW):
        await connection.execute(statement, full_extract, order_id)
    await _run(connection, *_PURGE)
    await connection.execute(plan.NEXT_PERSONS)
    await _run(connection, plan.NEXT_INDEX, plan.ANALYZE_NEXT, *_PARTS)
    for statement in _WRITE_PERSONS:
        await connection.execute(statement, full_extract, order_id)
    await _run(connection, *_WRITE_PARTS)
    await connection.execute(writes.ROUND_EVENTS, file_id, target.known_persons)
    await connection.execute(writes.LIFTED_RELATIONS, file_id)
    if full_extract is not None:
        await connection.execute(writes.CARRIED_STALE, full_extract)
    counts = no_counts()
    for action, event, records in await connection.fetch(plan.ROUND_COUNTS):
        counts[_COUNTED[action, event]] += records
    return counts


async def _run(connection: asyncpg.Connection, *statements: str) -> None:
    for statement in statements:
        await connection.execute(statement)
