"""One page of the change feed: events after a position, filtered, never skipping a late commit.

A page is read in one snapshot (a repeatable-read transaction: where the snapshot
stands, then the page): the events the feed lists (the view ``visible_change_event``:
migration 0013) after the reader's position whose transactions are older than every
transaction still running (``events``: a late commit is read late, never passed), at
most ``scan`` of them, of which those matching the filters are returned, at most
``first``. The scan stops once the page is full, so a page costs what it holds, or at
most ``scan`` events for a sparse filter. Where the page ends (``FeedPage.end``):

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

Position = tuple[int, int]

# Where the page's snapshot stands: the last pruned position, and the oldest transaction
# still running (every event of an older one has committed or never will).
START = """
SELECT h.xid::text::bigint AS xid, h.position,
       pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin
FROM change_event_horizon AS h
"""

# $1, $2 the position read after; $3 the scan bound; $4 the page size; $5 kinds;
# $6, $7 birth dates as YYYYMMDD; $8 municipalities (county and municipality code);
# $9 the snapshot's xmin. The events scanned, in order, flow through the filters until
# the page is full: a page that fills early reads no further. Each row says whether it
# matched; the last one scanned comes too (``last``), with how many were (``scanned``).
# A PROTECTED event passes every municipality filter: to send it only to followers of
# where the person lived would tell where a protected person lived.
PAGE = """
SELECT m.xid::text::bigint AS xid, m.position, m.personnummer, m.kind, m.parts,
       m.previous_personnummer,
       m.recorded_at AT TIME ZONE 'Europe/Stockholm' AS recorded_at, m.post_id,
       m.applied_at, m.matched, m.last, m.scanned
FROM (
    SELECT s.*,
           ($5::text[] IS NULL OR s.kind = ANY ($5::text[]))
           AND ($6::text IS NULL OR left(s.personnummer, 8) >= $6::text)
           AND ($7::text IS NULL OR left(s.personnummer, 8) <= $7::text)
           AND ($8::text[] IS NULL
                OR s.kind = 'PROTECTED'
                OR s.municipality_before = ANY ($8::text[])
                OR (SELECT a.county_code || a.municipality_code
                    FROM visible_person AS p
                    JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
                    WHERE p.personnummer = s.personnummer) = ANY ($8::text[])
               ) AS matched
    FROM (
        SELECT e.*,
               row_number() OVER scan AS scanned,
               lead(e.position) OVER scan IS NULL AS last
        FROM (
            SELECT e.xid, e.position, e.personnummer, e.kind, e.parts,
                   e.previous_personnummer, e.recorded_at, e.post_id, e.applied_at,
                   e.municipality_before
            FROM visible_change_event AS e
            WHERE (e.xid, e.position) > ($1::text::xid8, $2::bigint)
              AND e.xid < $9::text::xid8
            ORDER BY e.xid, e.position
            LIMIT $3
        ) AS e
        WINDOW scan AS (ORDER BY e.xid, e.position)
    ) AS s
    ORDER BY s.xid, s.position
    OFFSET 0  -- each event's match decided once, not again for the columns read
) AS m
WHERE m.matched OR m.last
ORDER BY m.xid, m.position
LIMIT $4
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


def page_arguments(
    after: Position, filters: Filters, first: int, scan: int, xmin: int
) -> tuple[object, ...]:
    """``PAGE``'s parameters, in order."""
    return (
        str(after[0]), after[1], scan, first,
        None if filters.kinds is None else sorted(filters.kinds),
        _day(filters.born_from), _day(filters.born_to),
        None if filters.municipalities is None else sorted(filters.municipalities),
        str(xmin),
    )  # fmt: skip


def _day(date: dt.date | None) -> str | None:
    # As the number writes it, YYYYMMDD: strftime's %Y leaves years before 1000 unpadded.
    return None if date is None else date.isoformat().replace("-", "")


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
        start = await conn.fetchrow(START)
        oldest = (start["xid"], start["position"])
        if after is None:
            after = oldest
        elif after < oldest:
            raise CursorExpired
        rows = await conn.fetch(PAGE, *page_arguments(after, filters, first, scan, start["xmin"]))
    events = [ChangeEvent(*row[:9]) for row in rows if row["matched"]]
    if len(events) == first:
        return FeedPage(events, events[-1].cursor, True)
    # Short of a full page, the scan ended among the rows: its last one came too.
    if rows and rows[-1]["scanned"] == scan:
        return FeedPage(events, (rows[-1]["xid"], rows[-1]["position"]), True)
    return FeedPage(events, max(after, (start["xmin"], 0)), False)


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
