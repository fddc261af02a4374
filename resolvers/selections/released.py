"""What a selection's file released, as the access log holds it: whether it now holds
someone protected since (then it is no longer served), and each download's release.

The persons of a file are those its export logged: one request row (root field
``selectionExport``), written in the transaction that marked the order done, so at the
same ``now()`` as its ``finished_at``, and naming the order.
"""

from __future__ import annotations

import asyncpg

from resolvers.domain.access import Viewer

ROOT_FIELD = "selectionExport"  # what the access log names as the export's root field
DOWNLOAD_FIELD = "selectionFile"  # and as a download's

# Whether a done order's file holds a person protected since. No row found is answered
# as withdrawn too: fail closed.
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
# numbers the export logged — before the file is sent. $4.. the downloader.
DOWNLOADED = """
INSERT INTO access_request (
    subject, organisation, client, tier, operation_name, root_fields, request_id,
    selection_order, seen
)
SELECT $4, $5, $6, $7, 'download', $3, $8, o.id, r.seen
FROM selection_order AS o
JOIN access_request AS r
  ON r.logged_at = o.finished_at AND r.request_id = o.request_id
 AND r.organisation = o.organisation AND r.root_fields = $2
WHERE o.id = $1
RETURNING cardinality(seen)
"""


class LogMissing(Exception):
    """A done order's export log is not found: its file is not released."""


async def withdrawn(pool: asyncpg.Pool, order_id: int) -> bool:
    """True if the file holds someone protected since it was written (or its log is
    not found): it must then not be served."""
    return bool(await pool.fetchval(WITHDRAWN, order_id, ROOT_FIELD))


async def log_download(
    pool: asyncpg.Pool, order_id: int, viewer: Viewer, request_id: str, *, timeout: float
) -> int:
    """Log the file's persons as seen by ``viewer``: how many; ``LogMissing`` if the
    export's log is gone."""
    rows = await pool.fetchval(
        DOWNLOADED, order_id, ROOT_FIELD, DOWNLOAD_FIELD, viewer.subject, viewer.organisation,
        viewer.client, viewer.tier.name, request_id, timeout=timeout,
    )  # fmt: skip
    if rows is None:
        raise LogMissing(f"the export log of selection order {order_id} is not found")
    return int(rows)
