"""Selection orders: placed (with their job, in the caller's transaction), read and
listed by their organisation, cancelled and, once failed, queued again (every
organisation's, for billing and audit: ``oversight``).

An order and the queue's job that runs it are written in one transaction, so there is
never an order no worker will take up, nor a job without its order. The per-organisation
cap is counted under a transaction-scoped advisory lock on the organisation, so API
workers placing orders at once cannot pass it together.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, NamedTuple

import asyncpg
import orjson
from pgqueuer import Queries
from pgqueuer.db import AsyncpgDriver

from resolvers.domain.access import Viewer
from resolvers.selections.criteria import COUNT_SELECTED, PLANNED_FOR_ITS_CRITERIA, Criteria
from resolvers.selections.price import DEFAULT_PRICES, PriceList

EXPORT_ENTRYPOINT = "selection_export"
STATUSES = ("QUEUED", "RUNNING", "DONE", "FAILED", "CANCELLED", "EXPIRED")
ACTIVE = ("QUEUED", "RUNNING")

# The order's columns as OrderRow lists them; its status EXPIRED once the file is gone.
COLUMNS = """
o.id, o.ordered_at, o.subject, o.organisation, o.client, o.request_id, o.purpose,
o.case_reference, o.criteria,
o.format, o.fields, o.estimated_rows,
CASE WHEN o.status = 'DONE' AND o.expires_at <= now() THEN 'EXPIRED' ELSE o.status END,
o.started_at, o.finished_at, o.row_count, o.price, o.file_name, o.file_size, o.checksum,
o.expires_at, o.error, pr.rows_written
"""

ORGANISATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('selection_order:' || $1))"

ACTIVE_ORDERS = """
SELECT count(*)
FROM selection_order
WHERE organisation = $1
  AND status IN ('QUEUED', 'RUNNING')
"""

INSERT_ORDER = """
INSERT INTO selection_order (
    subject, organisation, client, tier, request_id, purpose, case_reference, criteria,
    format, fields, price_list, estimated_rows
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11::jsonb, $12)
RETURNING id
"""

ORDER = f"""
SELECT {COLUMNS}
FROM selection_order AS o
LEFT JOIN selection_progress AS pr ON pr.order_id = o.id AND pr.attempt = o.attempt
WHERE o.id = $1
  AND o.organisation = $2
"""

ORDERS_OF = f"""
SELECT {COLUMNS}
FROM selection_order AS o
LEFT JOIN selection_progress AS pr ON pr.order_id = o.id AND pr.attempt = o.attempt
WHERE o.organisation = $1
ORDER BY o.id DESC
LIMIT $2
"""

# A failed order queued again: its price list stays the one it was placed under.
RETRY = """
UPDATE selection_order
SET status = 'QUEUED', error = NULL, started_at = NULL, finished_at = NULL,
    estimated_rows = $2
WHERE id = $1
  AND status = 'FAILED'
"""

CANCEL = """
UPDATE selection_order
SET status = 'CANCELLED', finished_at = now()
WHERE id = $1
  AND organisation = $2
  AND status IN ('QUEUED', 'RUNNING')
RETURNING id
"""


class Policy(NamedTuple):
    """The settings orders are placed under (the defaults are the settings')."""

    price_list: PriceList = DEFAULT_PRICES
    max_active_per_organisation: int = 10
    file_days: int = 7


class Order(NamedTuple):
    """What is asked for; checked by the caller."""

    criteria: Criteria
    purpose: str
    case_reference: str | None
    format: str  # CSV or NDJSON
    fields: tuple[str, ...]


class OrderRow(NamedTuple):
    id: int
    ordered_at: dt.datetime
    subject: str
    organisation: str
    client: str | None
    request_id: str
    purpose: str
    case_reference: str | None
    criteria: str  # JSON
    format: str
    fields: list[str]
    estimated_rows: int
    status: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    row_count: int | None
    price: Decimal | None
    file_name: str | None
    file_size: int | None
    checksum: str | None
    expires_at: dt.datetime | None
    error: str | None
    rows_written: int | None

    @property
    def progress(self) -> float:
        """The share written so far: 1 once done, 0 before a run has written anything."""
        if self.status in ("DONE", "EXPIRED"):
            return 1.0
        if not self.rows_written or not self.estimated_rows:
            return 0.0
        return min(self.rows_written / self.estimated_rows, 0.99)


class TooManyOrders(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the organisation has {limit} orders queued or running")
        self.limit = limit


async def count(connection: asyncpg.Connection | asyncpg.Pool, criteria: Criteria) -> int:
    if isinstance(connection, asyncpg.Pool):
        async with connection.acquire() as held:
            return await count(held, criteria)
    async with connection.transaction():  # a savepoint inside the caller's
        await connection.execute(PLANNED_FOR_ITS_CRITERIA)
        return int(await connection.fetchval(COUNT_SELECTED, *criteria.parameters()))


async def place(
    connection: asyncpg.Connection, viewer: Viewer, request_id: str, order: Order, policy: Policy
) -> OrderRow:
    """Write the order and its job in the caller's transaction; ``TooManyOrders`` when
    the organisation is at its cap."""
    organisation = viewer.organisation
    assert organisation is not None
    await connection.execute(ORGANISATION_LOCK, organisation)
    await _within_cap(connection, organisation, policy)
    estimated = await count(connection, order.criteria)
    order_id = await connection.fetchval(
        INSERT_ORDER, viewer.subject, organisation, viewer.client, viewer.tier.name,
        request_id, order.purpose, order.case_reference, _json(order.criteria.as_json()),
        order.format, list(order.fields), _json(policy.price_list.as_json()), estimated,
    )  # fmt: skip
    await _enqueue(connection, order_id)
    placed = await one(connection, order_id, organisation)
    assert placed is not None
    return placed


async def retry(
    connection: asyncpg.Connection, order_id: int, organisation: str, policy: Policy
) -> OrderRow | None:
    """Queue a failed order of the organisation again, with its job, in the caller's
    transaction; None if it is not failed (or not theirs); ``TooManyOrders`` at the cap.
    It keeps its criteria, fields and price list; its estimate is counted again."""
    await connection.execute(ORGANISATION_LOCK, organisation)
    failed = await one(connection, order_id, organisation)
    if failed is None or failed.status != "FAILED":
        return None
    await _within_cap(connection, organisation, policy)
    estimated = await count(connection, Criteria.from_json(orjson.loads(failed.criteria)))
    await connection.execute(RETRY, order_id, estimated)
    await _enqueue(connection, order_id)
    return await one(connection, order_id, organisation)


async def _within_cap(connection: asyncpg.Connection, organisation: str, policy: Policy) -> None:
    """``TooManyOrders`` when the organisation is at its cap (counted under its lock)."""
    active = await connection.fetchval(ACTIVE_ORDERS, organisation)
    if active >= policy.max_active_per_organisation:
        raise TooManyOrders(policy.max_active_per_organisation)


async def _enqueue(connection: asyncpg.Connection, order_id: int) -> None:
    """The order's job, in the order's transaction. A job run twice is harmless (the
    export's attempts make it so): a retry needs no key against a duplicate."""
    await Queries(AsyncpgDriver(connection)).enqueue(EXPORT_ENTRYPOINT, str(order_id).encode())


async def one(
    connection: asyncpg.Connection | asyncpg.Pool, order_id: int, organisation: str
) -> OrderRow | None:
    """The organisation's order, or None (none of that id, or another organisation's)."""
    record = await connection.fetchrow(ORDER, order_id, organisation)
    return None if record is None else OrderRow(*record)


async def of_organisation(pool: asyncpg.Pool, organisation: str, first: int) -> list[OrderRow]:
    return [OrderRow(*record) for record in await pool.fetch(ORDERS_OF, organisation, first)]


async def cancel(connection: asyncpg.Connection, order_id: int, organisation: str) -> bool:
    """Cancel a queued or running order; False if it is neither (or not theirs). A
    running export finds it cancelled when it would mark it done, and rolls back."""
    return await connection.fetchval(CANCEL, order_id, organisation) is not None


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()
