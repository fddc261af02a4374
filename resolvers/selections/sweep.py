"""Files that may no longer be kept are deleted: personal data is kept no longer than needed.

A file past its order's expiry (``VASTFOLKET_SELECTION_FILE_DAYS``), or holding a person
protected since it was written (``released.withdrawn``), is answered 410 by the download
route at once; the worker's sweep (``api.worker``) then deletes it from the files
directory. So is what a run that did not finish left behind: the part of a worker
killed mid-export whose order was then cancelled or failed, or an earlier attempt's.
The files of the attempt now running an order are kept. The order keeps its record
(criteria, rows, price, checksum) for billing and audit.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import asyncpg

from resolvers.selections import released

# What the export names its files: {order}-{attempt}.part while written, then .csv/.ndjson.
FILE_NAME = re.compile(r"([0-9]{1,18})-([0-9]{1,9})\.(part|csv|ndjson)")

# The orders of the files found (read after the directory: a file listed belongs to an
# attempt no later than the order's own).
ORDERS_OF = """
SELECT id, status, attempt, file_name, expires_at <= now() AS expired
FROM selection_order
WHERE id = ANY($1::bigint[])
"""


async def sweep(pool: asyncpg.Pool, files: Path) -> list[int]:
    """Delete the files that may not be kept; the orders whose files went."""
    found = _named(files)
    ids = sorted({order_id for order_id, _attempt in found.values()})
    orders = {row["id"]: row for row in await pool.fetch(ORDERS_OF, ids)}
    gone = set()
    for path, (order_id, attempt) in sorted(found.items()):
        if not await _kept(pool, path, attempt, orders.get(order_id)):
            path.unlink(missing_ok=True)
            gone.add(order_id)
    return sorted(gone)


def _named(files: Path) -> dict[Path, tuple[int, int]]:
    """The export's files in the directory, by (order, attempt); others are let be."""
    if not files.is_dir():
        return {}
    named = {}
    for path in files.iterdir():
        match = FILE_NAME.fullmatch(path.name)
        if match:
            named[path] = (int(match[1]), int(match[2]))
    return named


async def _kept(pool: asyncpg.Pool, path: Path, attempt: int, order: Any) -> bool:
    if order is None:
        return False
    if order["status"] in ("QUEUED", "RUNNING"):
        return bool(attempt == order["attempt"])  # being written, or about to be done
    if order["status"] != "DONE" or path.name != order["file_name"] or order["expired"]:
        return False
    return not await released.withdrawn(pool, order["id"])
