"""The access log: what each request showed, written before its answer leaves.

A request collects an ``AccessRecord`` while it executes (the execution context notes
every person object it completes, so no resolver can forget); the endpoint then writes
the whole record in one statement. If that fails, the answer is withheld.
"""

from __future__ import annotations

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


WRITE = """
WITH request AS (
    INSERT INTO access_request (
        subject, organisation, client, tier, operation_name, root_fields, request_id,
        case_reference
    )
    VALUES ($6, $7, $8, $9, $10, $11, $12, $13)
    RETURNING id
)
INSERT INTO access_person (request, kind, personnummer, source, criteria)
SELECT request.id, 'SEEN', seen.personnummer, 'LOCAL', NULL
FROM request, unnest($1::text[]) AS seen (personnummer)
UNION ALL
SELECT request.id, other.kind, other.personnummer, other.source, other.criteria::jsonb
FROM request, unnest($2::text[], $3::text[], $4::text[], $5::text[])
    AS other (kind, personnummer, source, criteria)
"""


async def write(
    pool: asyncpg.Pool, origin: Origin, record: AccessRecord, *, timeout: float
) -> None:
    """One statement for the whole request; raises if the log could not be written."""
    kinds: list[str] = []
    numbers: list[str | None] = []
    sources: list[str | None] = []
    criteria: list[str | None] = []
    for personnummer, (kind, source) in record.others.items():
        kinds.append(kind)
        numbers.append(personnummer)
        sources.append(source)
        criteria.append(None)
    for search in record.searches:
        kinds.append(AUDIT_SEARCH)
        numbers.append(search.get("personnummer"))
        sources.append(None)
        criteria.append(orjson.dumps(search).decode())
    viewer = origin.viewer
    await pool.execute(
        WRITE,
        list(record.seen_locally),
        kinds,
        numbers,
        sources,
        criteria,
        viewer.subject,
        viewer.organisation,
        viewer.client,
        viewer.tier.name,
        origin.operation_name,
        origin.root_fields,
        origin.request_id,
        origin.case_reference,
        timeout=timeout,
    )


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
