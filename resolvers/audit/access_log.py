"""The access log: what each request showed, written before its answer leaves.

A request collects an ``AccessRecord`` while it executes (the engine notes every
object it completes whose type discloses persons, so no resolver can forget); the
operation pipeline then writes the whole record in one statement, grouped with other
requests' (``resolvers.audit.log_writer``), or on the caller's connection inside its transaction
(``write_in``: a change and its audit commit together). If that fails, the answer is
withheld. Auditors read it back through ``resolvers.audit.log_search``.
"""

from __future__ import annotations

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
    # Records read from the register by a number Skatteverket replaced by theirs:
    # (personnummer, the number asked).
    seen_by_former_number: dict[tuple[str, str], None] = field(default_factory=dict)
    # Everything else: personnummer -> (kind, source).
    others: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    searches: list[dict[str, Any]] = field(default_factory=list)

    def saw(self, person: Any) -> None:
        """A person record is in the answer (``person`` is a ``PersonRow``; its
        ``former_personnummer``, when set, is the number the caller asked for)."""
        if person.source == LOCAL:
            if person.former_personnummer is None:
                self.seen_locally[person.personnummer] = None
            else:
                self.seen_by_former_number[person.personnummer, person.former_personnummer] = None
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

    def take(self) -> AccessRecord:
        """Everything noted so far, as a record of its own; this one starts empty."""
        taken = AccessRecord(
            self.seen_locally, self.seen_by_former_number, self.others, self.searches
        )
        self.seen_locally, self.seen_by_former_number = {}, {}
        self.others, self.searches = {}, []
        return taken

    def __len__(self) -> int:
        """The person rows this record writes."""
        found = len(self.seen_locally) + len(self.seen_by_former_number) + len(self.others)
        return found + len(self.searches)


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
INSERT INTO access_person (
    request, entry, kind, personnummer, source, asked_personnummer, criteria
)
SELECT request.id, other.entry, other.kind, other.personnummer, other.source,
    other.asked_personnummer, other.criteria::jsonb
FROM unnest(
    $10::int8[], $11::int4[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[]
) AS other (n, entry, kind, personnummer, source, asked_personnummer, criteria)
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
    """``WRITE``'s sixteen array parameters for these entries."""
    columns: list[list[Any]] = [[] for _ in range(9)]
    other_n: list[Any] = []
    other_entry: list[Any] = []
    others: list[list[Any]] = [[], [], [], [], []]  # kind, number, source, asked, criteria
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
        rest: list[tuple[str, str | None, str | None, str | None, str | None]] = [
            (SEEN, personnummer, LOCAL, asked, None)
            for personnummer, asked in record.seen_by_former_number
        ]
        rest += [
            (kind, personnummer, source, None, None)
            for personnummer, (kind, source) in record.others.items()
        ]
        rest += [
            (AUDIT_SEARCH, search.get("personnummer"), None, None, orjson.dumps(search).decode())
            for search in record.searches
        ]
        for entry, values in enumerate(rest, len(record.seen_locally) + 1):
            other_n.append(n)
            other_entry.append(entry)
            for column, value in zip(others, values, strict=True):
                column.append(value)
    return [*columns, other_n, other_entry, *others]


# A selection's export: one request row whose ``seen`` holds every person the file
# holds, read by the export's own statement (``persons``: a FROM and WHERE over
# ``visible_person AS p`` whose parameters come first), in the export's snapshot; it
# names the order, so an auditor finds which orders included a person.
WRITE_SELECTED = """
INSERT INTO access_request (
    subject, organisation, client, tier, operation_name, root_fields, request_id,
    case_reference, selection_order, seen
)
SELECT ${0}, ${1}, ${2}, ${3}, ${4}, ${5}, ${6}, ${7}, ${8},
    ARRAY(SELECT p.personnummer::bigint {persons})
RETURNING cardinality(seen)
"""


async def write_selected(
    connection: asyncpg.Connection,
    origin: Origin,
    persons: str,
    parameters: list[Any],
    *,
    selection_order: int,
) -> int:
    """Log every person ``persons`` selects as seen by ``origin``, in the caller's open
    transaction (the export's of ``selection_order``: the file's rows and their record
    commit together); the number of persons logged."""
    if not connection.is_in_transaction():
        raise RuntimeError("write_selected needs a connection in an open transaction")
    first = len(parameters) + 1
    statement = WRITE_SELECTED.format(*range(first, first + 9), persons=persons)
    viewer = origin.viewer
    return int(await connection.fetchval(
        statement, *parameters, viewer.subject, viewer.organisation, viewer.client,
        viewer.tier.name, origin.operation_name, origin.root_fields, origin.request_id,
        origin.case_reference, selection_order,
    ))  # fmt: skip
