"""One page of the change feed: events after a position, filtered, never skipping a late commit.

A page is read in one statement (one snapshot): the events after the reader's position
whose transactions are older than every transaction still running (``events``: a late
commit is read late, never passed), at most ``scan`` of them (without filters, at most
``first``), of which those matching the filters are returned, at most ``first``. Where
the page ends (``FeedPage.end``):

- a full page: at its last event;
- a page cut short by the scan bound (a sparse filter): at the last event scanned, so a
  follower of a small part of the register moves on through the rest at a bounded cost
  per page, and sees nothing of the persons it passed over;
- otherwise the reader has everything readable: the page ends at ``(xmin, 0)``, before
  every event still to commit, so the next poll starts where nothing can appear behind.

Navet writes ändringstidpunkt in Swedish time without a zone, and it is stored so; a
page gives it as the instant it was (``timestamptz``).

Positions are ``(xid, position)`` pairs; ``(xid, 0)`` lies before every event of ``xid``.
Events are pruned a transaction at a time (``resolvers.changes.retention``); a position
before the last pruned event has missed events and is refused (``CursorExpired``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import asyncpg

from resolvers.changes.events import ChangeEvent
from resolvers.changes.retention import horizon

Position = tuple[int, int]

# $1, $2 the position read after; $3 the scan bound; $4 the page size; $5 kinds;
# $6, $7 birth dates as YYYYMMDD; $8 municipalities (county and municipality code).
# The last row (summary) carries how many events were scanned, the last one scanned,
# the snapshot's xmin and the pruning horizon, in the event columns' places.
PAGE = """
WITH snapshot AS MATERIALIZED (
    SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin
),
scanned AS MATERIALIZED (
    SELECT e.xid, e.position, e.personnummer, e.kind, e.parts, e.previous_personnummer,
           e.recorded_at, e.post_id, e.applied_at, e.municipality_before
    FROM visible_change_event AS e
    WHERE (e.xid, e.position) > ($1::text::xid8, $2::bigint)
      AND e.xid < (SELECT xmin FROM snapshot)
    ORDER BY e.xid, e.position
    LIMIT $3
),
matched AS (
    SELECT s.*
    FROM scanned AS s
    WHERE ($5::text[] IS NULL OR s.kind = ANY ($5::text[]))
      AND ($6::text IS NULL OR left(s.personnummer, 8) >= $6::text)
      AND ($7::text IS NULL OR left(s.personnummer, 8) <= $7::text)
      AND ($8::text[] IS NULL
           OR s.municipality_before = ANY ($8::text[])
           OR EXISTS (
               SELECT 1
               FROM person AS p
               JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
               WHERE p.personnummer = s.personnummer
                 AND a.county_code || a.municipality_code = ANY ($8::text[])
           ))
    ORDER BY s.xid, s.position
    LIMIT $4
)
SELECT * FROM (
    SELECT false AS summary, m.xid::text::bigint AS xid, m.position, m.personnummer, m.kind,
           m.parts, m.previous_personnummer,
           m.recorded_at AT TIME ZONE 'Europe/Stockholm' AS recorded_at, m.post_id, m.applied_at,
           NULL::bigint AS a, NULL::bigint AS b, NULL::bigint AS c
    FROM matched AS m
    ORDER BY m.xid, m.position
) AS events
UNION ALL
SELECT true, last.xid::text::bigint, last.position, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       (SELECT count(*) FROM scanned),
       (SELECT xmin::text::bigint FROM snapshot),
       NULL
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (
    SELECT s.xid, s.position FROM scanned AS s ORDER BY s.xid DESC, s.position DESC LIMIT 1
) AS last ON true
"""

# Where a reader starting now begins: before every event still to commit.
HEAD = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


class CursorExpired(Exception):
    """The position lies before events pruned by the retention: the reader has missed
    events and must load its population again."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What part of the register a reader follows; None: no limit of that kind."""

    kinds: frozenset[str] | None = None
    municipalities: frozenset[str] | None = None  # county and municipality code: '1480'
    born_from: dt.date | None = None
    born_to: dt.date | None = None


NO_FILTERS = Filters()


class FeedPage(NamedTuple):
    events: list[ChangeEvent]
    end: Position  # where the next page starts
    more: bool  # True if events that could be read now follow


def _day(date: dt.date | None) -> str | None:
    return None if date is None else date.strftime("%Y%m%d")


async def read_page(
    connection: asyncpg.Connection | asyncpg.Pool,
    after: Position | None,
    filters: Filters,
    first: int,
    *,
    scan: int,
) -> FeedPage:
    """The page after ``after`` (None: from the oldest event kept)."""
    if filters == NO_FILTERS:
        # Every event scanned is returned: scanning past the page only costs (the
        # statement took four times as long with the bound of a filtered page).
        scan = min(scan, first)
    async with _connection(connection) as conn, conn.transaction(isolation="repeatable_read"):
        oldest = await horizon(conn)
        if after is None:
            after = oldest
        elif after < oldest:
            raise CursorExpired
        rows = await conn.fetch(
            PAGE, str(after[0]), after[1], scan, first,
            None if filters.kinds is None else sorted(filters.kinds),
            _day(filters.born_from), _day(filters.born_to),
            None if filters.municipalities is None else sorted(filters.municipalities),
        )  # fmt: skip
    *found, summary = rows
    events = [ChangeEvent(*row[1:10]) for row in found]
    scanned, xmin = summary["a"], summary["b"]
    if len(events) == first:
        return FeedPage(events, events[-1].cursor, True)
    if scanned == scan:
        return FeedPage(events, (summary["xid"], summary["position"]), True)
    return FeedPage(events, max(after, (xmin, 0)), False)


async def head(connection: asyncpg.Connection | asyncpg.Pool) -> Position:
    """The position a reader that starts now begins at: every event that commits from
    now on lies after it, and none of those already readable."""
    xmin = await connection.fetchval(HEAD)
    return (xmin, 0)


class _connection:
    """A pool's connection for the page's one snapshot, or the connection given."""

    def __init__(self, source: asyncpg.Connection | asyncpg.Pool) -> None:
        self.source = source
        self.acquired: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self.source, asyncpg.Pool):
            self.acquired = await self.source.acquire()
            return self.acquired
        return self.source

    async def __aexit__(self, *exc: object) -> None:
        if self.acquired is not None:
            await self.source.release(self.acquired)
