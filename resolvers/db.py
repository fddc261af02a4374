"""Connection pools (the primary, and a replica for lookups) and the migration runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources

import asyncpg

MIGRATIONS_PACKAGE = "resolvers.migrations"

# What an unreachable database raises: refused, reset or missing sockets and timeouts
# (OSError, TimeoutError among them), a connection lost mid-query (class 08), a server
# shutting down, crashed, starting up or out of connection slots; and asyncpg's own
# protocol-state errors, raised when a connection the server has just terminated is
# used before asyncpg noticed ("another operation is in progress").
#
# And what a hot standby (the read replica) cancels a lookup with when replaying the
# primary's changes conflicts with it ("canceling statement due to conflict with
# recovery", or "terminating connection" for it): 40001 serialization_failure, 40P01
# deadlock_detected (a deadlock with replay's buffer pins), 57P04 database_dropped (the
# primary dropped the database). The SQLSTATE decides, as the message is translated
# (lc_messages). On the primary the first two are a passing conflict with another
# transaction, and PostgreSQL's answer to them is the same: try again.
UNAVAILABLE = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InternalClientError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
    asyncpg.DatabaseDroppedError,
)

# Serialises migration runs of several workers starting at once.
_MIGRATION_LOCK_KEY = 0x56617374  # "Vast"

CREATE_MIGRATION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migration (
    version text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""

APPLIED_MIGRATIONS = """
SELECT version
FROM schema_migration
"""

RECORD_MIGRATION = """
INSERT INTO schema_migration (version)
VALUES ($1)
"""


def migration_files() -> list[tuple[str, str]]:
    """The migrations shipped with the package as ``(version, sql)``, in order."""
    folder = resources.files(MIGRATIONS_PACKAGE)
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".sql"), f.read_text(encoding="utf-8")) for f in files]


async def migrate(connection: asyncpg.Connection) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction.

    Returns:
        The versions applied by this call (empty when the schema is current).
    """
    applied_now: list[str] = []
    await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
    try:
        await connection.execute(CREATE_MIGRATION_TABLE)
        done = {row["version"] for row in await connection.fetch(APPLIED_MIGRATIONS)}
        pending = [(version, sql) for version, sql in migration_files() if version not in done]
        if pending:
            await _register_whole(connection)
        for version, sql in pending:
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(RECORD_MIGRATION, version)
            applied_now.append(version)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK_KEY)
    return applied_now


async def _register_whole(connection: asyncpg.Connection) -> None:
    """Build the register's indexes and keys again where a first full delivery, not yet
    whole, set them aside (resolvers/imports/bulk.py): a migration may change them."""
    from resolvers.imports import apply, bulk  # the importer is built on this module

    async with connection.transaction():
        await connection.execute(apply.WAIT_FOR_LOCK, apply.IMPORT_LOCK_KEY)
        await connection.execute(bulk.MEMORY)
        await bulk.put_back(connection)


def database_unavailable(error: BaseException | None) -> bool:
    """Did this fail because the database cannot be reached (rather than a bug)?

    The one place that decides it: an outage is answered 503 with a code, logged in a
    line, and tried again by the client; anything else is unexpected.
    """
    return isinstance(error, UNAVAILABLE)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Skip asyncpg's reset round trip on release.

    The API never changes session state (no SET, LISTEN, temp tables or open
    transactions outside ``async with``), so there is nothing to reset.
    """


async def create_pool(
    dsn: str,
    *,
    min_size: int = 2,
    max_size: int = 10,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
    read_only: bool = False,
) -> asyncpg.Pool:
    """A pool to ``dsn``; ``read_only`` for lookups: its sessions refuse every write, as a
    hot standby does, so a write sent there by mistake fails even when it is the primary."""
    settings = {
        "application_name": "vastfolket-api-read" if read_only else "vastfolket-api",
        "jit": "off",
        # The API runs a few fixed statements whose best plan does not depend on the
        # values; planning them anew each time (PostgreSQL's custom plans for
        # `= ANY($1)`) cost more than executing them.
        "plan_cache_mode": "force_generic_plan",
    }
    if read_only:
        settings["default_transaction_read_only"] = "on"
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=init, reset=_keep_session,
        server_settings=settings,
    )  # fmt: skip
    assert pool is not None
    return pool


class Database:
    """Where a request's statements go: ``read`` for lookups, ``write`` (the primary) for
    everything that must be current or writes — the access log, migrations, imports.

    Without a replica both are the same pool.
    """

    __slots__ = ("read", "write")

    def __init__(self, write: asyncpg.Pool, read: asyncpg.Pool | None = None) -> None:
        self.write = write
        self.read = write if read is None else read

    @property
    def replica(self) -> asyncpg.Pool | None:
        """The read pool when it is a pool of its own."""
        return None if self.read is self.write else self.read

    async def close(self) -> None:
        if self.replica is not None:
            await self.replica.close()
        await self.write.close()
