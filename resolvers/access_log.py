"""The access log: what each request showed, written before its answer leaves.

A request collects an ``AccessRecord`` while it executes (the execution context notes
every person object it completes, so no resolver can forget); the endpoint then writes
the whole record in one statement. If that fails, the answer is withheld.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
import orjson

from resolvers.access import Viewer
from resolvers.rows import LOCAL

SEEN = "SEEN"
PROTECTED = "PROTECTED"
NOT_FOUND = "NOT_FOUND"
AUDIT_SEARCH = "AUDIT_SEARCH"


@dataclass(slots=True)
class AccessRecord:
    """The persons one request showed or tried to see, and the log searches it made."""

    # Records read from the register, by personnummer (a dict as an ordered set): the
    # bulk of every page, written as one array.
    seen_locally: dict[str, None] = field(default_factory=dict)
    # Everything else: personnummer -> (kind, source).
    others: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    searches: list[dict[str, Any]] = field(default_factory=list)

    def saw(self, person: Any) -> None:
        """A person record is in the answer (``person`` is a ``PersonRow``)."""
        if person.source == LOCAL:
            self.seen_locally[person.personnummer] = None
        else:
            self.others[person.personnummer] = (SEEN, person.source)

    def saw_number(self, personnummer: str) -> None:
        """A person's number from the register is in the answer (a relative's, say),
        with or without their record."""
        self.seen_locally[personnummer] = None

    def protected(self, personnummer: str, source: str | None = None) -> None:
        """A lookup hit a protected person: an attempt, no data released."""
        self.others.setdefault(personnummer, (PROTECTED, source))

    def not_found(self, personnummer: str, source: str) -> None:
        """A lookup found no one; noted for lookups made at Skatteverket on a caller's
        behalf (a local miss shows nothing and is not logged)."""
        self.others.setdefault(personnummer, (NOT_FOUND, source))

    def searched(self, criteria: dict[str, Any]) -> None:
        self.searches.append(criteria)

    def __len__(self) -> int:
        """The person rows this record writes."""
        return len(self.seen_locally) + len(self.others) + len(self.searches)


class Origin(NamedTuple):
    """Who asked, and through what: the request row every person row belongs to."""

    viewer: Viewer
    operation_name: str | None
    root_fields: str
    request_id: str
    case_reference: str | None


# The records of several requests in one statement: their request rows take ids from
# the identity's sequence first, so that each person row can name its request.
WRITE = """
WITH request AS MATERIALIZED (
    SELECT nextval('access_request_id_seq'::regclass) AS id, given.*
    FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[]
    ) WITH ORDINALITY AS given (
        subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference, n
    )
), saved AS (
    INSERT INTO access_request (
        id, subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference
    )
    OVERRIDING SYSTEM VALUE
    SELECT id, subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference
    FROM request
)
INSERT INTO access_person (request, kind, personnummer, source, criteria)
SELECT request.id, 'SEEN', seen.personnummer, 'LOCAL', NULL
FROM unnest($9::int8[], $10::text[]) AS seen (n, personnummer)
JOIN request USING (n)
UNION ALL
SELECT request.id, other.kind, other.personnummer, other.source, other.criteria::jsonb
FROM unnest($11::int8[], $12::text[], $13::text[], $14::text[], $15::text[])
    AS other (n, kind, personnummer, source, criteria)
JOIN request USING (n)
"""

Entry = tuple[Origin, AccessRecord]


async def write(pool: asyncpg.Pool, entries: list[Entry], *, timeout: float) -> None:
    """The records of one or more requests in one statement; raises if it failed."""
    columns: list[list[str | None]] = [[] for _ in range(8)]
    seen_n: list[int] = []
    seen: list[str] = []
    other_n: list[int] = []
    others: list[list[str | None]] = [[], [], [], []]  # kind, personnummer, source, criteria
    for n, (origin, record) in enumerate(entries, 1):
        viewer = origin.viewer
        row = (
            viewer.subject, viewer.organisation, viewer.client, viewer.tier.name,
            origin.operation_name, origin.root_fields, origin.request_id, origin.case_reference,
        )  # fmt: skip
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        seen += record.seen_locally
        seen_n += [n] * len(record.seen_locally)
        for personnummer, (kind, source) in record.others.items():
            other_n.append(n)
            for column, value in zip(others, (kind, personnummer, source, None), strict=True):
                column.append(value)
        for search in record.searches:
            other_n.append(n)
            criteria = orjson.dumps(search).decode()
            values = (AUDIT_SEARCH, search.get("personnummer"), None, criteria)
            for column, value in zip(others, values, strict=True):
                column.append(value)
    async with pool.acquire(timeout=timeout) as connection:
        await connection.execute(WRITE, *columns, seen_n, seen, other_n, *others, timeout=timeout)


class AccessLogWriter:
    """Writes what concurrent requests showed together: group commit.

    Each request still waits until its own rows are committed before its answer may
    leave, and learns if they were not. But while one statement is being written,
    the requests finishing meanwhile queue up and go together in the next, so that a
    busy worker spends one round trip and one commit (a disk flush) on many requests.
    A request alone is written at once.
    """

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self._queue: list[tuple[Origin, AccessRecord, asyncio.Future[None]]] = []
        self._writing = False
        self._task: asyncio.Future[None] | None = None

    async def write(self, origin: Origin, record: AccessRecord) -> None:
        """Return once the record is committed; raise if it could not be, in time."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((origin, record, done))
        if not self._writing:
            self._writing = True
            # Kept: the event loop holds tasks only weakly.
            self._task = asyncio.ensure_future(self._write_queued())
        async with asyncio.timeout(self.timeout * 2):  # queued behind one slow statement
            await done

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                # A request that stopped waiting (timed out) was refused: not shown.
                batch = [queued for queued in self._queue if not queued[2].done()]
                self._queue = []
                if len(batch) > 1 and not await self._settle(batch):
                    # One request's rows may be what failed: the others must not pay
                    # for it, so each is tried alone.
                    for queued in batch:
                        if not queued[2].done():
                            await self._settle([queued])
                elif len(batch) == 1:
                    await self._settle(batch)
        finally:
            self._writing = False

    async def _settle(self, batch: list[tuple[Origin, AccessRecord, asyncio.Future[None]]]) -> bool:
        """Write a batch and tell its requests; False if it failed and had several."""
        try:
            entries = [(origin, record) for origin, record, _ in batch]
            await write(self.pool, entries, timeout=self.timeout)
        except Exception as error:
            if len(batch) > 1:
                return False
            if not batch[0][2].done():
                batch[0][2].set_exception(error)
            return True
        for *_, done in batch:
            if not done.done():
                done.set_result(None)
        return True


class LogEntry(NamedTuple):
    request: int
    id: int
    logged_at: dt.datetime
    kind: str
    subject: str
    organisation: str | None
    client: str | None
    tier: str
    operation_name: str | None
    root_fields: str
    personnummer: str | None
    source: str | None
    request_id: str
    case_reference: str | None
    criteria: str | None


class LogSearch(NamedTuple):
    personnummer: str | None = None
    subject: str | None = None
    organisation: str | None = None
    logged_from: dt.datetime | None = None
    logged_to: dt.datetime | None = None


# Each criterion given adds its condition, so the planner sees which index fits
# (a generic plan for "$1 IS NULL OR ..." could only scan the whole log).
_CONDITIONS = (
    ("personnummer", "personnummer = ${}"),
    ("subject", "subject = ${}"),
    ("organisation", "organisation = ${}"),
    ("logged_from", "logged_at >= ${}"),
    ("logged_to", "logged_at < ${}"),
)

SEARCH = """
SELECT request, id, logged_at, kind, subject, organisation, client, tier, operation_name,
    root_fields, personnummer, source, request_id, case_reference, criteria::text
FROM access_log
WHERE (request, id) < ($1, $2){conditions}
ORDER BY request DESC, id DESC
LIMIT $3
"""


async def search(
    pool: asyncpg.Pool, criteria: LogSearch, before: tuple[int, int], first: int
) -> tuple[list[LogEntry], bool]:
    """A page of entries, newest first, and whether more follow; ``before`` is the
    (request, id) position to continue below."""
    conditions, values = "", [*before, first + 1]
    for name, condition in _CONDITIONS:
        value = getattr(criteria, name)
        if value is not None:
            values.append(value)
            conditions += "\n  AND " + condition.format(len(values))
    rows = await pool.fetch(SEARCH.format(conditions=conditions), *values)
    entries = [LogEntry(*row) for row in rows[:first]]
    return entries, len(rows) > first
