"""The wake-up an import sends at its commit (a hint, never the events: ``wakeups``)."""

from __future__ import annotations

import asyncpg

CHANNEL = "vastfolket_changes"


async def notify(connection: asyncpg.Connection) -> None:
    await connection.execute("SELECT pg_notify($1, '')", CHANNEL)
