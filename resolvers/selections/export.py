"""Running an order: its file, streamed from one snapshot, and its audit, committed once.

A worker takes the order up (``CLAIM``: its attempt raised), then in one repeatable-read
transaction — one snapshot — copies the selected rows with PostgreSQL's COPY straight
into a file (asyncpg hands each chunk on: the extract is never held in memory), writes
every person of it to the access log, renames the file to its final name and marks the
order done, only if that attempt still holds it. A job run twice (its worker killed, its
heartbeat stale, the job picked again) or an order cancelled meanwhile fails that last
step and rolls back, its file removed: an order completes once, with one whole file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
import orjson

from resolvers.audit import access_log
from resolvers.domain.access import Tier, Viewer
from resolvers.selections import fields
from resolvers.selections.criteria import SELECTED, Criteria
from resolvers.selections.price import PriceList

logger = logging.getLogger("vastfolket.selections")

BOM = "\ufeff".encode()  # so that a spreadsheet reads the file as UTF-8 (å, ä, ö)
ROOT_FIELD = "selectionExport"  # what the access log names as the request's root field
PROGRESS_SECONDS = 1.0  # how often a running export records the rows written

CLAIM = """
UPDATE selection_order
SET status = 'RUNNING', attempt = attempt + 1, started_at = now()
WHERE id = $1
  AND status IN ('QUEUED', 'RUNNING')
RETURNING attempt, subject, organisation, client, tier, request_id, case_reference,
    criteria, format, fields, price_list
"""

PROGRESS = """
INSERT INTO selection_progress (order_id, attempt, rows_written)
VALUES ($1, $2, $3)
ON CONFLICT (order_id) DO UPDATE
SET attempt = excluded.attempt, rows_written = excluded.rows_written
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

# Whether a done order's file holds a person protected since: its persons are those its
# export logged (one request row, written in the transaction that marked it done, so
# at the same now()). No row found is answered as withdrawn too: fail closed.
WITHDRAWN = """
SELECT coalesce(bool_or(EXISTS (
    SELECT 1
    FROM unnest(r.seen) AS s (number)
    JOIN person AS p ON p.personnummer = s.number::text
    WHERE p.protection IS NOT NULL
)), true)
FROM selection_order AS o
JOIN access_request AS r
  ON r.logged_at = o.finished_at AND r.request_id = o.request_id
 AND r.organisation = o.organisation AND r.root_fields = $2
WHERE o.id = $1
"""


# A download releases the file's persons to whoever downloads it (the orderer, or a
# colleague of the organisation): they are logged as seen by the downloader — the
# numbers the export logged — before the file is sent. $3.. the downloader.
DOWNLOADED = """
INSERT INTO access_request (
    subject, organisation, client, tier, operation_name, root_fields, request_id, seen
)
SELECT $3, $4, $5, $6, 'download', 'selectionFile', $7, r.seen
FROM selection_order AS o
JOIN access_request AS r
  ON r.logged_at = o.finished_at AND r.request_id = o.request_id
 AND r.organisation = o.organisation AND r.root_fields = $2
WHERE o.id = $1
RETURNING cardinality(seen)
"""


# How an export's log rows are written: ``api.audit.written`` — the one rule for every
# release (counted, reported, fail closed): True once written.
Audit = Callable[[str, Awaitable[int]], Awaitable[bool]]


class AuditUnavailable(Exception):
    """The export's persons could not be logged: its file is not released."""


class Superseded(Exception):
    """The order was cancelled, or taken up by a later attempt, while this one ran."""


class Sink:
    """The file being written: its bytes counted and hashed as they pass; rows counted
    by line (no field holds a line break) for the order's progress."""

    def __init__(
        self, path: Path, first: bytes, progress: Callable[[int], Awaitable[None]] | None
    ) -> None:
        self.path = path
        self.progress = progress
        self.reported = time.monotonic()
        self.file = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0
        self.lines = 0
        self.write_bytes(first)

    def write_bytes(self, chunk: bytes) -> None:
        self.file.write(chunk)
        self.digest.update(chunk)
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")

    async def write(self, chunk: bytes) -> None:
        self.write_bytes(chunk)
        if self.progress is not None and time.monotonic() - self.reported > PROGRESS_SECONDS:
            self.reported = time.monotonic()
            await self.progress(self.lines)

    def close(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()


class Export(NamedTuple):
    """What a COPY of an order writes: its statement, its options, what the file opens with."""

    query: str
    options: dict[str, Any]
    first: bytes
    suffix: str


def export_of(names: tuple[str, ...], file_format: str) -> Export:
    if file_format == "CSV":
        query = f"SELECT {fields.csv_select(names)} {SELECTED} ORDER BY p.personnummer"
        return Export(query, {"format": "csv", "header": True, "delimiter": ";"}, BOM, "csv")
    # One JSON text per line; as CSV with a quote and delimiter JSON never holds raw
    # (it escapes control characters), COPY writes each text as it is.
    query = f"SELECT {fields.json_select(names)} {SELECTED} ORDER BY p.personnummer"
    options = {"format": "csv", "quote": "\x01", "delimiter": "\x02"}
    return Export(query, options, b"", "ndjson")


async def run(pool: asyncpg.Pool, files: Path, order_id: int, file_days: int, audit: Audit) -> None:
    """Run the order if it is still to be run; a repeated or cancelled run does nothing."""
    claim = await pool.fetchrow(CLAIM, order_id)
    if claim is None:
        return
    attempt = claim["attempt"]
    files.mkdir(parents=True, exist_ok=True)
    for stale in files.glob(f"{order_id}-*"):  # what earlier attempts left behind
        stale.unlink(missing_ok=True)
    try:
        await _export(pool, files, order_id, claim, file_days, audit)
    except Superseded:
        logger.info("selection order %s: attempt %s superseded", order_id, attempt)
    except AuditUnavailable:  # reported where it failed; the file is never released
        await pool.execute(FAIL, order_id, attempt, "AUDIT_UNAVAILABLE")
    except Exception as error:
        logger.exception("selection order %s failed", order_id)
        await pool.execute(FAIL, order_id, attempt, f"{type(error).__name__}")
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

    async def progress(rows: int) -> None:  # on a connection of its own: the export's copies
        await pool.execute(PROGRESS, order_id, attempt, rows)

    sink = Sink(part, export.first, progress)
    parameters = criteria.parameters()
    async with pool.acquire() as connection:
        try:
            async with connection.transaction(isolation="repeatable_read"):
                status = await connection.copy_from_query(
                    export.query, *parameters, output=sink.write, **export.options
                )
                sink.close()
                rows = int(status.split()[-1])
                logged = access_log.write_selected(connection, _origin(claim), SELECTED, parameters)
                if not await audit(claim["request_id"], logged):
                    raise AuditUnavailable
                price = PriceList.from_json(_loads(claim["price_list"])).price(rows)
                done = await connection.execute(
                    FINISH, order_id, attempt, rows, price, final.name, sink.size,
                    sink.digest.hexdigest(), file_days,
                )  # fmt: skip
                if done != "UPDATE 1":
                    raise Superseded
                os.replace(part, final)  # before the commit: a done order has its file
        except asyncpg.SerializationError:  # cancelled or taken up after our snapshot
            final.unlink(missing_ok=True)
            raise Superseded from None
        finally:
            if not sink.file.closed:
                sink.file.close()
    await pool.execute(PROGRESS, order_id, attempt, rows)


async def withdrawn(pool: asyncpg.Pool, order_id: int) -> bool:
    """True if the file holds someone protected since it was written (or its log is
    not found): it must then not be served."""
    return bool(await pool.fetchval(WITHDRAWN, order_id, ROOT_FIELD))


class LogMissing(Exception):
    """A done order's export log is not found: its file is not released."""


async def log_download(
    pool: asyncpg.Pool, order_id: int, viewer: Viewer, request_id: str, *, timeout: float
) -> int:
    """Log the file's persons as seen by ``viewer``: how many; ``LogMissing`` if the
    export's log is gone."""
    rows = await pool.fetchval(
        DOWNLOADED, order_id, ROOT_FIELD, viewer.subject, viewer.organisation, viewer.client,
        viewer.tier.name, request_id, timeout=timeout,
    )  # fmt: skip
    if rows is None:
        raise LogMissing(f"the export log of selection order {order_id} is not found")
    return int(rows)


def _origin(claim: asyncpg.Record) -> access_log.Origin:
    viewer = Viewer(claim["subject"], Tier[claim["tier"]], claim["organisation"], claim["client"])
    return access_log.Origin(
        viewer, "orderSelection", ROOT_FIELD, claim["request_id"], claim["case_reference"]
    )


def _loads(text: str) -> Any:
    return orjson.loads(text)
