"""The ledger of imported files (``import_file``): what was applied, what was refused.

An applied file's row is written in the file's own transaction, so it commits with the
register's changes or not at all; a refused file's row is written afterwards, in a
transaction of its own, with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

import asyncpg

from resolvers.imports.records import Delivery

APPLIED_AT_PLACE = """
SELECT id, sha256, file_name
FROM import_file
WHERE status = 'applied'
  AND order_id = $1
  AND job_id = $2
  AND file_no = $3
"""
APPLIED_WITH_SHA256 = """
SELECT id, file_name
FROM import_file
WHERE status = 'applied'
  AND sha256 = $1
ORDER BY id
LIMIT 1
"""
BEGIN_FILE = """
INSERT INTO import_file (order_id, job_id, file_no, files_in_delivery, file_name, kind, status)
VALUES ($1, $2, $3, $4, $5, $6, 'applied')
RETURNING id, started_at
"""
FINISH_FILE = """
UPDATE import_file
SET sha256 = $2, records = $3, counts = $4::jsonb, finished_at = clock_timestamp()
WHERE id = $1
"""
RECORD_FAILURE = """
INSERT INTO import_file (
    order_id, job_id, file_no, files_in_delivery, file_name, sha256, kind, records,
    status, reason, finished_at
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'failed', $9, clock_timestamp())
RETURNING id
"""
# The full delivery a file belongs to: its first applied file (this one, if first).
DELIVERY_START = """
SELECT id, started_at
FROM import_file
WHERE status = 'applied'
  AND kind = 'FULL'
  AND order_id = $1
  AND job_id = $2
ORDER BY id
LIMIT 1
"""
FILES_APPLIED = """
SELECT count(*)
FROM import_file
WHERE status = 'applied'
  AND order_id = $1
  AND job_id = $2
"""


# What operators watch, from the ledger whichever process imported.
TOTALS = """
SELECT
    count(*) FILTER (WHERE status = 'applied') AS applied,
    count(*) FILTER (WHERE status = 'failed') AS failed,
    coalesce(sum(records) FILTER (WHERE status = 'applied'), 0)::bigint AS records,
    extract(epoch FROM max(finished_at) FILTER (WHERE status = 'applied'))::float8
        AS last_applied
FROM import_file
"""


class Totals(NamedTuple):
    applied: int
    failed: int
    records: int
    last_applied: float | None  # Unix time the last applied file finished


class Applied(NamedTuple):
    id: int
    file_name: str


class Started(NamedTuple):
    id: int
    started_at: dt.datetime


def _place(delivery: Delivery | None) -> tuple[object, object, object, object]:
    if delivery is None:
        return None, None, None, None
    return delivery.order_id, delivery.job_id, delivery.file_no, delivery.files_in_delivery


async def applied_at_place(
    connection: asyncpg.Connection, delivery: Delivery
) -> tuple[Applied, str | None] | None:
    """The applied file holding this file's place in its delivery, and its sha256."""
    row = await connection.fetchrow(
        APPLIED_AT_PLACE, delivery.order_id, delivery.job_id, delivery.file_no
    )
    return None if row is None else (Applied(row["id"], row["file_name"]), row["sha256"])


async def applied_with(connection: asyncpg.Connection, sha256: str) -> Applied | None:
    row = await connection.fetchrow(APPLIED_WITH_SHA256, sha256)
    return None if row is None else Applied(*row)


async def begin(
    connection: asyncpg.Connection, delivery: Delivery | None, name: str, kind: str
) -> Started:
    row = await connection.fetchrow(BEGIN_FILE, *_place(delivery), name, kind)
    return Started(*row)


async def finish(
    connection: asyncpg.Connection, file_id: int, sha256: str, records: int, counts: dict
) -> None:
    await connection.execute(FINISH_FILE, file_id, sha256, records, json.dumps(counts))


async def record_failure(
    connection: asyncpg.Connection,
    delivery: Delivery | None,
    name: str,
    failure: tuple[str | None, str | None, int | None, str],
) -> int:
    """Write a refused file's row in a transaction of its own; its id.

    ``failure``: its sha256 (if known), kind, records read and the reason.
    """
    sha256, kind, records, reason = failure
    async with connection.transaction():
        return int(
            await connection.fetchval(
                RECORD_FAILURE, *_place(delivery), name, sha256, kind, records, reason
            )
        )


async def delivery_start(
    connection: asyncpg.Connection, delivery: Delivery | None, this: Started
) -> Started:
    """The first applied file of this file's full delivery (this one without a delivery)."""
    if delivery is None:
        return this
    row = await connection.fetchrow(DELIVERY_START, delivery.order_id, delivery.job_id)
    return this if row is None else Started(*row)


async def delivery_complete(connection: asyncpg.Connection, delivery: Delivery | None) -> bool:
    """Are all AntalFiler files of the delivery applied (this one's row counted)?"""
    if delivery is None:
        return True
    applied = await connection.fetchval(FILES_APPLIED, delivery.order_id, delivery.job_id)
    return int(applied) >= delivery.files_in_delivery


async def totals(pool: asyncpg.Pool) -> Totals:
    return Totals(*await pool.fetchrow(TOTALS))
