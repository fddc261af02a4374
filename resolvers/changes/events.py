"""Reading change events in a stable order: after a position, never skipping a late commit.

Events are stamped with their transaction's id (``xid``, xid8) and a position. Positions
are taken in the order transactions write, not the order they commit, so a reader that
followed positions alone could pass an event whose transaction commits later and never
see it. Events are read in (xid, position) order, and only those of transactions older
than every transaction still running (``pg_snapshot_xmin``): all of those have ended, so
no event can appear later before the reader's position. A late commit is read late; a
long open transaction delays every reader until it ends. (FLOWS.md §2.)
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import asyncpg

# $1, $2 the last (xid, position) read — (0, 0) from the beginning —, $3 how many.
EVENTS_AFTER = """
SELECT xid::text::bigint AS xid, position, personnummer, kind, parts, previous_personnummer,
       recorded_at, post_id, applied_at
FROM change_event
WHERE (xid, position) > ($1::text::xid8, $2::bigint)
  AND xid < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY xid, position
LIMIT $3
"""

BEGINNING = (0, 0)


class ChangeEvent(NamedTuple):
    """One event; (``xid``, ``position``) is where a reader resumes after it."""

    xid: int
    position: int
    personnummer: str
    kind: str  # CREATED CHANGED DEREGISTERED PROTECTED LEFT NUMBER_CHANGED
    parts: list[str] | None  # what a CHANGED event changed
    previous_personnummer: str | None  # the number a NUMBER_CHANGED person had
    recorded_at: dt.datetime | None  # as stored (Swedish time); a feed page's: zoned
    post_id: int | None
    applied_at: dt.datetime

    @property
    def cursor(self) -> tuple[int, int]:
        return self.xid, self.position


async def events_after(
    connection: asyncpg.Connection | asyncpg.Pool,
    after: tuple[int, int] = BEGINNING,
    limit: int = 1000,
) -> list[ChangeEvent]:
    """Up to ``limit`` events after ``after``, in the order every reader sees them."""
    xid, position = after
    rows = await connection.fetch(EVENTS_AFTER, str(xid), position, limit)
    return [ChangeEvent(*row) for row in rows]
