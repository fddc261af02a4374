"""Searching the access log (``accessLog``): a page of its entries, newest first, by whose
data was shown, who asked and when. ``accessLog`` searches the primary, where the entries
have just been written.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, NamedTuple

import asyncpg

from resolvers.register.columns import Column, declared

_VIEW = Column()  # the access_log view's column of the field's name


class LogEntry(NamedTuple):
    """One entry of the ``access_log`` view, read positionally in the declared order."""

    request: Annotated[int, _VIEW]
    id: Annotated[int, _VIEW]
    logged_at: Annotated[dt.datetime, _VIEW]
    kind: Annotated[str, _VIEW]
    subject: Annotated[str, _VIEW]
    organisation: Annotated[str | None, _VIEW]
    client: Annotated[str | None, _VIEW]
    tier: Annotated[str, _VIEW]
    operation_name: Annotated[str | None, _VIEW]
    root_fields: Annotated[str, _VIEW]
    personnummer: Annotated[str | None, _VIEW]
    source: Annotated[str | None, _VIEW]
    request_id: Annotated[str, _VIEW]
    case_reference: Annotated[str | None, _VIEW]
    criteria: Annotated[str | None, Column(name="criteria::text")]  # jsonb, as its text
    # A lookup by a number Skatteverket replaced: the number asked (``personnummer`` is
    # the person seen, under their current number).
    asked_personnummer: Annotated[str | None, _VIEW]
    # The selection order whose file released the person (its export, or a download).
    selection_order: Annotated[int | None, _VIEW]


class LogSearch(NamedTuple):
    personnummer: str | None = None
    subject: str | None = None
    organisation: str | None = None
    logged_from: dt.datetime | None = None
    logged_to: dt.datetime | None = None


# Each criterion given adds its condition, so the planner sees which index fits
# (a generic plan for "$1 IS NULL OR ..." could only scan the whole log).
_REQUEST_CONDITIONS = (
    ("subject", "r.subject = ${}"),
    ("organisation", "r.organisation = ${}"),
    ("logged_from", "r.logged_at >= ${}"),
    ("logged_to", "r.logged_at < ${}"),
)

# The requests that showed a person: from the array (GIN index) or from a row, whether
# the number was the one seen or the former number a lookup asked for.
_REQUESTS_ABOUT = """
SELECT r.id FROM access_request AS r
WHERE r.id <= $1 AND r.seen @> ARRAY[$4::bigint]{conditions}
UNION
SELECT r.id FROM access_person AS p JOIN access_request AS r ON r.id = p.request
WHERE p.request <= $1 AND p.personnummer = $5{conditions}
UNION
SELECT r.id FROM access_person AS p JOIN access_request AS r ON r.id = p.request
WHERE p.request <= $1 AND p.asked_personnummer = $5{conditions}
"""

_REQUESTS = """
SELECT r.id FROM access_request AS r
WHERE r.id <= $1{conditions}
"""

# The newest matching requests first, then their entries from the view. Every request
# logged has an entry that matches (it was selected for one, or every entry matches), so
# first + 2 of them fill a page and tell whether more follow, even when the cursor's own
# request has no entries left below it.
SEARCH = """
SELECT {columns}
FROM access_log
WHERE request = ANY (ARRAY(
        SELECT id FROM ({requests}) AS matching ORDER BY id DESC LIMIT $3 + 1
    ))
  AND (request, id) < ($1, $2){about}
ORDER BY request DESC, id DESC
LIMIT $3
"""


_LOG_COLUMNS = ", ".join(f"{c.column} AS {c.field}" for c in declared(LogEntry))


async def search(
    pool: asyncpg.Pool, criteria: LogSearch, before: tuple[int, int], first: int
) -> tuple[list[LogEntry], bool]:
    """A page of entries, newest first, and whether more follow; ``before`` is the
    (request, id) position to continue below."""
    sql, values = search_statement(criteria, before, first)
    rows = await pool.fetch(sql, *values)
    entries = [LogEntry(*row) for row in rows[:first]]
    return entries, len(rows) > first


def search_statement(
    criteria: LogSearch, before: tuple[int, int], first: int
) -> tuple[str, list[Any]]:
    """The statement of ``search`` and its values: one more entry than a page holds."""
    values: list[Any] = [*before, first + 1]
    requests, about = _REQUESTS, ""
    if criteria.personnummer is not None:
        values += [int(criteria.personnummer), criteria.personnummer]
        requests = _REQUESTS_ABOUT
        about = "\n  AND (personnummer = $5 OR asked_personnummer = $5)"
    conditions = ""
    for name, condition in _REQUEST_CONDITIONS:
        value = getattr(criteria, name)
        if value is not None:
            values.append(value)
            conditions += "\n  AND " + condition.format(len(values))
    requests = requests.format(conditions=conditions)
    return SEARCH.format(columns=_LOG_COLUMNS, requests=requests, about=about), values
