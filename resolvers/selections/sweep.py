"""Files that may no longer be kept are deleted: personal data is kept no longer than needed.

A file past its order's expiry (``VASTFOLKET_SELECTION_FILE_DAYS``), or holding a person
protected since it was written (``export.withdrawn``), is answered 410 by the download
route at once; the worker's sweep (``api.worker``) then deletes it from the files
directory. The order keeps its record (criteria, rows, price, checksum) for billing
and audit.
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from resolvers.selections import export

# Delivered orders whose file is still named, with whether it is past its expiry.
KEPT_FILES = """
SELECT id, file_name, expires_at <= now() AS expired
FROM selection_order
WHERE status = 'DONE' AND file_name IS NOT NULL
ORDER BY id
"""


async def sweep(pool: asyncpg.Pool, files: Path) -> list[int]:
    """Delete the files that may not be kept; the orders whose file went."""
    gone = []
    for order in await pool.fetch(KEPT_FILES):
        path = files / order["file_name"]
        if not path.exists():
            continue
        if order["expired"] or await export.withdrawn(pool, order["id"]):
            path.unlink(missing_ok=True)
            gone.append(order["id"])
    return gone
