"""The API's connection pools: writes on the primary, lookups on a replica if there is one.

``DATABASE_URL`` is the primary. ``VASTFOLKET_DATABASE_REPLICA_URL``, when set, is a read
replica the lookups (person, interval, name search, relations) read from; the access log
— its writes and its search, which auditors need to show what was just written — and the
migrations always go to the primary. Without it there is one pool for both.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import asyncpg

from api.settings import Settings
from resolvers.db import Database, create_pool, database_unavailable, migrate

logger = logging.getLogger("vastfolket.api")

READY_TIMEOUT_SECONDS = 2


async def open_database(
    settings: Settings, *, init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None
) -> Database:
    """The pools the settings name (each of the configured size), the primary migrated."""
    assert settings.database_url, "create_app checks it"
    primary = await _pool(settings, settings.database_url, init)
    try:
        async with primary.acquire() as connection:
            await migrate(connection)  # on the primary: a replica replays them
        if not settings.database_replica_url:
            return Database(primary)
        replica = await _pool(settings, settings.database_replica_url, init, read_only=True)
    except BaseException:
        await primary.close()
        raise
    return Database(primary, replica)


async def _pool(
    settings: Settings,
    url: str,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None,
    *,
    read_only: bool = False,
) -> asyncpg.Pool:
    return await create_pool(
        url, min_size=settings.pool_min_size, max_size=settings.pool_max_size, init=init,
        read_only=read_only,
    )  # fmt: skip


async def _state(pool: asyncpg.Pool) -> str:
    try:
        await pool.fetchval("SELECT 1", timeout=READY_TIMEOUT_SECONDS)
    except Exception as error:
        # Not ready either way; only an outage is expected (a bug gets its traceback).
        if not database_unavailable(error):
            logger.exception("the readiness check failed")
            return "failing"
        return "unreachable"
    return "ok"


async def readiness(database: Database) -> dict[str, str]:
    """Each pool's state, checked together: ``ok``, ``unreachable`` (an outage) or
    ``failing``; ``replica`` only when there is one. Ready when all are ``ok``."""
    pools = {"database": database.write}
    if database.replica is not None:
        pools["replica"] = database.replica
    states = await asyncio.gather(*(_state(pool) for pool in pools.values()))
    return dict(zip(pools, states, strict=True))
