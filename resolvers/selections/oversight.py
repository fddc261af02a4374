"""Every organisation's selection orders, as finance bills them and auditors read them."""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.selections.orders import COLUMNS, OrderRow

# Billing: the orders delivered (done, expired since or not) in [from, to).
DELIVERED = f"""
SELECT {COLUMNS}
FROM selection_order AS o
LEFT JOIN selection_progress AS pr ON pr.order_id = o.id AND pr.attempt = o.attempt
WHERE o.status = 'DONE'
  AND o.finished_at >= $1
  AND o.finished_at < $2
ORDER BY o.finished_at, o.id
"""

# Every organisation's orders, for auditors: those of the ids given, or of one
# organisation, or all; newest first.
AUDITED = f"""
SELECT {COLUMNS}
FROM selection_order AS o
LEFT JOIN selection_progress AS pr ON pr.order_id = o.id AND pr.attempt = o.attempt
WHERE ($1::bigint[] IS NULL OR o.id = ANY($1::bigint[]))
  AND ($2::text IS NULL OR o.organisation = $2::text)
ORDER BY o.id DESC
LIMIT $3
"""


async def delivered(pool: asyncpg.Pool, start: dt.datetime, end: dt.datetime) -> list[OrderRow]:
    return [OrderRow(*record) for record in await pool.fetch(DELIVERED, start, end)]


async def audited(
    pool: asyncpg.Pool, ids: list[int] | None, organisation: str | None, first: int
) -> list[OrderRow]:
    """Any organisation's orders (for auditors): of these ids, of that organisation."""
    records = await pool.fetch(AUDITED, ids, organisation, first)
    return [OrderRow(*record) for record in records]
