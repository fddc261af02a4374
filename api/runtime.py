"""Getting a database ready to serve: where it is, its schema, and demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg

from api.database import ensure_database, start_embedded
from api.settings import Settings
from resolvers import demo
from resolvers.db import migrate


def database_url(settings: Settings) -> str:
    """``DATABASE_URL``, or the embedded server's database (started if need be)."""
    if settings.database_url:
        return settings.database_url
    import asyncio

    server = start_embedded(settings.data_dir)
    return asyncio.run(ensure_database(server, settings.database_name))


async def register_size(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM person"))


async def prepare(
    url: str,
    *,
    demo_persons: int = 0,
    seed: int = 1,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply migrations; load ``demo_persons`` demo persons into an empty register.

    Returns:
        The number of demo persons loaded (0 if the register already had data).
    """
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        if demo_persons <= 0 or await register_size(connection) > 0:
            return 0
        register = demo.generate(demo_persons, seed, dt.date.today())
        return await demo.load(connection, register, progress=progress)
    finally:
        await connection.close()
