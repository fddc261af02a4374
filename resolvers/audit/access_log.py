"""The access log: what each request showed, written before its answer leaves.

A request collects an ``AccessRecord`` while it executes (the engine notes every
object it completes whose type discloses persons, so no resolver can forget); the
operation pipeline then writes the whole record in one statement, grouped with other
requests' (``AccessLogWriter``), or on the caller's connection inside its transaction
(``write_in``: a change and its audit commit together). If that fails, the answer is
withheld. Auditors read it back through ``resolvers.audit.log_search``.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import asyncpg
import orjson

from resolvers.domain.access import Viewer
from resolvers.register.rows import LOCAL

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

    def protected(self, personnummer: str, source: str) -> None:
        """A lookup hit a protected person (``source``: where the protection was
        found): an attempt, no data released."""
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
# the identity's sequence first, so that each person row can name its request. The
# numbers a request showed from the register go into its row as one array (given as an
# array literal); everything else is a row of access_person, numbered after them.
WRITE = """
WITH request AS MATERIALIZED (
    SELECT nextval('access_request_id_seq'::regclass) AS id, given.*
    FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[]
    ) WITH ORDINALITY AS given (
        subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference, seen, n
    )
), saved AS (
    INSERT INTO access_request (
        id, subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference, seen
    )
    OVERRIDING SYSTEM VALUE
    SELECT id, subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference, seen::bigint[]
    FROM request
)
INSERT INTO access_person (request, entry, kind, personnummer, source, criteria)
SELECT request.id, other.entry, other.kind, other.personnummer, other.source,
    other.criteria::jsonb
FROM unnest($10::int8[], $11::int4[], $12::text[], $13::text[], $14::text[], $15::text[])
    AS other (n, entry, kind, personnummer, source, criteria)
JOIN request USING (n)
"""

Entry = tuple[Origin, AccessRecord]

_NUMBERS = re.compile(r"\{[1-9][0-9]{11}(?:,[1-9][0-9]{11})*\}")  # an array literal


async def write(pool: asyncpg.Pool, entries: list[Entry], *, timeout: float) -> None:
    """The records of one or more requests in one statement; raises if it failed."""
    arguments = _arguments(entries)
    async with pool.acquire(timeout=timeout) as connection:
        await connection.execute(WRITE, *arguments, timeout=timeout)


async def write_in(
    connection: asyncpg.Connection, origin: Origin, record: AccessRecord, *, timeout: float
) -> None:
    """One request's record, on a connection in the caller's open transaction: the
    rows commit or roll back with the change the caller makes in it. Raises if the
    statement failed (the transaction is then aborted: the caller rolls it back)."""
    if not connection.is_in_transaction():
        # Outside a transaction the rows would commit at once, whatever followed.
        raise RuntimeError("write_in needs a connection in an open transaction")
    await connection.execute(WRITE, *_arguments([(origin, record)]), timeout=timeout)


def _arguments(entries: list[Entry]) -> list[list[Any]]:
    """``WRITE``'s fifteen array parameters for these entries."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    other_n: list[Any] = []
    other_entry: list[Any] = []
    others: list[list[Any]] = [[], [], [], []]  # kind, personnummer, source, criteria
    for n, (origin, record) in enumerate(entries, 1):
        viewer = origin.viewer
        seen = "{" + ",".join(record.seen_locally) + "}"
        if seen != "{}" and not _NUMBERS.fullmatch(seen):
            # Fail closed: a malformed number must not vanish from (or spill into) the
            # array literal; the request is refused like any failed write.
            raise ValueError(f"not a list of 12-digit numbers: {seen[:40]!r}")
        row = (
            viewer.subject, viewer.organisation, viewer.client, viewer.tier.name,
            origin.operation_name, origin.root_fields, origin.request_id, origin.case_reference,
            seen,
        )  # fmt: skip
        for column, value in zip(columns, row, strict=True):
            column.append(value)
        rest: list[tuple[str, str | None, str | None, str | None]] = [
            (kind, personnummer, source, None)
            for personnummer, (kind, source) in record.others.items()
        ]
        rest += [
            (AUDIT_SEARCH, search.get("personnummer"), None, orjson.dumps(search).decode())
            for search in record.searches
        ]
        for entry, values in enumerate(rest, len(record.seen_locally) + 1):
            other_n.append(n)
            other_entry.append(entry)
            for column, value in zip(others, values, strict=True):
                column.append(value)
    return [*columns, other_n, other_entry, *others]


def _expire(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_exception(TimeoutError("the access log was not written in time"))


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
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.append((origin, record, done))
        if not self._writing:
            self._writing = True
            # Kept: the event loop holds tasks only weakly.
            self._task = asyncio.ensure_future(self._write_queued())
        # Queued behind one slow statement at most: then the request gives up.
        expiry = loop.call_later(self.timeout * 2, _expire, done)
        try:
            await done
        finally:
            expiry.cancel()

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
