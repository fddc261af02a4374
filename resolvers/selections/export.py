"""Running an order: its file, streamed from one snapshot, and its audit, committed once.

A worker takes the order up (``CLAIM``: its attempt raised), then in one repeatable-read
transaction — one snapshot — copies the selected rows with PostgreSQL's COPY straight
into a file (asyncpg hands each chunk on: the extract is never held in memory), writes
every person of it to the access log, renames the file to its final name and marks the
order done, only if that attempt still holds it. A job run twice (its worker killed, its
heartbeat stale, the job picked again) or an order cancelled meanwhile fails that last
step and rolls back, its file removed: an order completes once, with one whole file.
While it copies, the export records the rows written (``file.Sink``) and stops as soon
as it finds its attempt no longer holds the order (cancelled): the COPY is cancelled,
nothing is kept.

An export that fails marks its order ``FAILED`` with a reason the official can read
(``reason``); its file is removed, nothing is logged, and ``orders.retry`` queues the
order again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from resolvers.audit import access_log
from resolvers.db import database_unavailable
from resolvers.domain.access import Tier, Viewer
from resolvers.selections.criteria import PLANNED_FOR_ITS_CRITERIA, SELECTED, Criteria
from resolvers.selections.file import Export, FileUnwritable, Sink, Superseded, export_of
from resolvers.selections.price import PriceList
from resolvers.selections.released import ROOT_FIELD

logger = logging.getLogger("vastfolket.selections")


CLAIM = """
UPDATE selection_order
SET status = 'RUNNING', attempt = attempt + 1, started_at = now()
WHERE id = $1
  AND status IN ('QUEUED', 'RUNNING')
RETURNING attempt, subject, organisation, client, tier, request_id, case_reference,
    criteria, format, fields, price_list
"""

# The rows written so far, recorded only while this attempt holds the running order:
# no row back tells the export to stop.
PROGRESS = """
INSERT INTO selection_progress (order_id, attempt, rows_written)
SELECT $1, $2, $3
WHERE EXISTS (
    SELECT 1 FROM selection_order WHERE id = $1 AND attempt = $2 AND status = 'RUNNING'
)
ON CONFLICT (order_id) DO UPDATE
SET attempt = excluded.attempt, rows_written = excluded.rows_written
RETURNING order_id
"""

# Only the attempt that holds a running order marks it done.
FINISH = """
UPDATE selection_order
SET status = 'DONE', finished_at = now(), row_count = $3, price = $4, file_name = $5,
    file_size = $6, checksum = $7, expires_at = now() + make_interval(days => $8)
WHERE id = $1
  AND attempt = $2
  AND status = 'RUNNING'
"""

FAIL = """
UPDATE selection_order
SET status = 'FAILED', finished_at = now(), error = $3
WHERE id = $1
  AND attempt = $2
  AND status = 'RUNNING'
"""

# What stops a COPY whose export found it should stop (from its other connection).
CANCEL_COPY = "SELECT pg_cancel_backend($1)"

AGAIN = "retrySelectionOrder runs the order again."


# How an export's log rows are written: ``api.audit.written`` — the one rule for every
# release (counted, reported, fail closed): True once written.
Audit = Callable[[str, Awaitable[int]], Awaitable[bool]]


class AuditFailed(Exception):
    """The access log refused the export's record: no file may be delivered."""


def reason(error: BaseException, order_id: int) -> str:
    """What a failed order tells the official: why, in words, and what to do."""
    if isinstance(error, FileUnwritable):
        cause = error.__cause__
        detail = getattr(cause, "strerror", None) or type(cause).__name__
        return f"The file could not be written on the server ({detail}). {AGAIN}"
    if isinstance(error, AuditFailed):
        return f"The access log could not be written, so no file was delivered. {AGAIN}"
    if database_unavailable(error):
        return f"The database could not be reached while the file was made. {AGAIN}"
    return (
        f"An unexpected error stopped the export ({type(error).__name__}); the worker's "
        f"log holds it under order {order_id}. {AGAIN}"
    )


async def run(pool: asyncpg.Pool, files: Path, order_id: int, file_days: int, audit: Audit) -> None:
    """Run the order if it is still to be run; a repeated or cancelled run does nothing.
    A failure marks the order failed with its reason, then is raised (for the queue)."""
    claim = await pool.fetchrow(CLAIM, order_id)
    if claim is None:
        return
    attempt = claim["attempt"]
    try:
        try:
            files.mkdir(parents=True, exist_ok=True)
            for stale in files.glob(f"{order_id}-*"):  # what earlier attempts left behind
                stale.unlink(missing_ok=True)
        except OSError as error:
            raise FileUnwritable from error
        await _export(pool, files, order_id, claim, file_days, audit)
    except Superseded:
        logger.info("selection order %s: attempt %s superseded or cancelled", order_id, attempt)
    except Exception as error:
        if not isinstance(error, AuditFailed):  # that one is reported where it failed
            logger.exception("selection order %s failed", order_id)
        await pool.execute(FAIL, order_id, attempt, reason(error, order_id))
        raise
    finally:
        for part in files.glob(f"{order_id}-{attempt}.part"):
            part.unlink(missing_ok=True)


async def _export(
    pool: asyncpg.Pool,
    files: Path,
    order_id: int,
    claim: asyncpg.Record,
    file_days: int,
    audit: Audit,
) -> None:
    attempt = claim["attempt"]
    criteria = Criteria.from_json(_loads(claim["criteria"]))
    export = export_of(tuple(claim["fields"]), claim["format"])
    part = files / f"{order_id}-{attempt}.part"
    final = files / f"{order_id}-{attempt}.{export.suffix}"

    parameters = criteria.parameters()
    # Two connections, taken together: the export's copies while the other records its
    # progress (a pool's last connection waited for under a COPY would never come).
    async with pool.acquire() as connection, pool.acquire() as reporter:

        async def progress(rows: int) -> bool:
            return await reporter.fetchval(PROGRESS, order_id, attempt, rows) is not None

        async def stop() -> None:
            await reporter.execute(CANCEL_COPY, connection.get_server_pid())

        sink = Sink(part, export.first, export.header_lines, progress, stop)
        try:
            async with connection.transaction(isolation="repeatable_read"):
                await connection.execute(PLANNED_FOR_ITS_CRITERIA)
                status = await _copy(connection, export, parameters, sink)
                sink.close()
                rows = int(status.split()[-1])
                await _log(connection, claim, order_id, parameters, audit)
                price = PriceList.from_json(_loads(claim["price_list"])).price(rows)
                done = await connection.execute(
                    FINISH, order_id, attempt, rows, price, final.name, sink.size,
                    sink.digest.hexdigest(), file_days,
                )  # fmt: skip
                if done != "UPDATE 1":
                    raise Superseded
                _rename(part, final)  # before the commit: a done order has its file
        except asyncpg.SerializationError:  # cancelled or taken up after our snapshot
            final.unlink(missing_ok=True)
            raise Superseded from None
        except BaseException:
            final.unlink(missing_ok=True)  # renamed, then the commit failed
            raise
        finally:
            if not sink.file.closed:
                sink.file.close()


async def _copy(
    connection: asyncpg.Connection, export: Export, parameters: list[Any], sink: Sink
) -> str:
    """COPY the rows into the sink; what stopped it, raised once the COPY has returned."""
    try:
        status = await connection.copy_from_query(
            export.query, *parameters, output=sink.write, **export.options
        )
    except asyncpg.QueryCanceledError:
        if sink.stopped is None:
            raise
    if sink.stopped is not None:
        raise sink.stopped
    return str(status)


async def _log(
    connection: asyncpg.Connection,
    claim: asyncpg.Record,
    order_id: int,
    parameters: list[Any],
    audit: Audit,
) -> None:
    """Every person of the file, logged as seen by the orderer, in the export's snapshot."""
    logged = access_log.write_selected(
        connection, _origin(claim), SELECTED, parameters, selection_order=order_id
    )
    if not await audit(claim["request_id"], logged):
        raise AuditFailed


def _rename(part: Path, final: Path) -> None:
    try:
        os.replace(part, final)
    except OSError as error:
        raise FileUnwritable from error


def _origin(claim: asyncpg.Record) -> access_log.Origin:
    viewer = Viewer(claim["subject"], Tier[claim["tier"]], claim["organisation"], claim["client"])
    return access_log.Origin(
        viewer, "orderSelection", ROOT_FIELD, claim["request_id"], claim["case_reference"]
    )


def _loads(text: str) -> Any:
    return orjson.loads(text)
