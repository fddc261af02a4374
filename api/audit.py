"""The access log's one rule for every way person data leaves: logged first, or withheld.

Whatever releases persons — an answer (``api.operation``), a batch of subscription
events, a selection's export (``api.worker``), a file's download (``api.downloads``) —
hands the write of its log rows to ``written`` and lets the data go only on ``True``.
A failure is counted (``vastfolket_access_log_failures``) and reported the same way
everywhere: an unreachable database or a timeout as a line of the outage log, anything
else with its trace; the caller then withholds the data (``AUDIT_UNAVAILABLE``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from api.logs import ACCESS_LOG_OUTAGE
from api.metrics import ACCESS_LOG_FAILURES, ACCESS_LOG_ROWS
from resolvers.db import database_unavailable

logger = logging.getLogger("vastfolket.access_log")


async def written(request_id: str, write: Awaitable[int]) -> bool:
    """Await ``write`` (which writes log rows and returns how many); False if it failed."""
    try:
        rows = await write
    except Exception as error:
        ACCESS_LOG_FAILURES.inc()
        if database_unavailable(error):
            ACCESS_LOG_OUTAGE.failed(request_id, error)
        else:
            logger.exception(
                "access log not written (request %s)", request_id, extra={"request_id": request_id}
            )
        return False
    ACCESS_LOG_ROWS.inc(rows)
    return True
