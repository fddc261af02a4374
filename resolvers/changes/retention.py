"""How long change events are kept: older ones are pruned a whole transaction at a time.

A reader resumes after the last (xid, position) it read (``resolvers.changes.events``), so
pruning must never leave part of a transaction behind, nor take events from after a
younger one: it takes the oldest transaction's events while that transaction is older
than the retention, and stops at the first that is not. ``change_event_horizon`` keeps
the last pruned event's (xid, position): a cursor before it has missed events. Only
transactions older than every one still running are pruned: a running older one could
still commit events below the horizon.

The importer prunes at the end of every file it applies, in the file's transaction;
``vastfolket changes prune`` does the same on its own.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import asyncpg

DEFAULT_RETENTION = dt.timedelta(days=90)

# The oldest transaction older than every one still running, and whether it is older
# than the retention ($1, an interval). All of a transaction's events share applied_at.
OLDEST = """
SELECT xid::text AS oldest, applied_at < now() - $1::interval AS expired
FROM change_event
WHERE xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid, position
LIMIT 1
"""
# Every event of transaction $1: how many, and the greatest position among them.
DELETE_TRANSACTION = """
WITH gone AS (
    DELETE FROM change_event
    WHERE xid = $1::text::xid8
    RETURNING position
)
SELECT count(*) AS events, max(position) AS position
FROM gone
"""
# The horizon only moves forward ($1 xid, $2 position), should two prunes meet.
MOVE_HORIZON = """
UPDATE change_event_horizon
SET xid = $1::text::xid8, position = $2
WHERE (xid, position) < ($1::text::xid8, $2::bigint)
"""
HORIZON = "SELECT xid::text::bigint, position FROM change_event_horizon"


class Pruned(NamedTuple):
    """What one prune took: ``events`` of ``transactions``; ``horizon`` is the last pruned
    event's (xid, position) after it, (0, 0) while nothing was ever pruned."""

    events: int
    transactions: int
    horizon: tuple[int, int]


async def prune(connection: asyncpg.Connection, retention: dt.timedelta) -> Pruned:
    """Delete the events older than ``retention``, whole transactions, oldest first.

    Runs in the caller's transaction, or in one of its own.
    """
    async with connection.transaction():
        events = transactions = 0
        last = None
        while (oldest := await connection.fetchrow(OLDEST, retention)) and oldest["expired"]:
            gone = await connection.fetchrow(DELETE_TRANSACTION, oldest["oldest"])
            if not gone["events"]:  # another prune took it meanwhile
                break
            events, transactions = events + gone["events"], transactions + 1
            last = oldest["oldest"], gone["position"]
        if last is not None:
            await connection.execute(MOVE_HORIZON, *last)
        return Pruned(events, transactions, await horizon(connection))


async def horizon(connection: asyncpg.Connection | asyncpg.Pool) -> tuple[int, int]:
    """The (xid, position) of the last event pruned; (0, 0) while none was."""
    row = await connection.fetchrow(HORIZON)
    return int(row[0]), int(row[1])
