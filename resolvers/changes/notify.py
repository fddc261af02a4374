"""Waking the change feed's listeners when a transaction wrote events.

A transaction that wrote events sends a notification on ``CHANNEL`` before it commits:
PostgreSQL delivers it at the commit, and not at all if the transaction rolls back, so
a listener is woken only when there is something new to read. The payload is empty: a
listener reads the events themselves in (xid, position) order
(``resolvers.changes.events``); several notifications of one transaction are one.
"""

from __future__ import annotations

import asyncpg

CHANNEL = "vastfolket_changes"

NOTIFY = "SELECT pg_notify($1, '')"
# An event of the running transaction, found in the (xid, position) index: ordered by it,
# the planner cannot take a scan of the table that meets this transaction's rows last.
WROTE_EVENTS = """
SELECT EXISTS (
    SELECT 1
    FROM change_event
    WHERE xid = pg_current_xact_id()
    ORDER BY xid, position
    LIMIT 1
)
"""


async def notify(connection: asyncpg.Connection) -> None:
    """Wake the listeners when the running transaction commits."""
    await connection.execute(NOTIFY, CHANNEL)


async def notify_if_written(connection: asyncpg.Connection) -> bool:
    """Wake the listeners at the commit if the running transaction wrote events; did it?"""
    if not await connection.fetchval(WROTE_EVENTS):
        return False
    await notify(connection)
    return True
