"""Getting a database ready to serve: where it is, its schema, and demo data (imported
from the demo's Navet files); stopping the embedded one again; and the commands' answer
when a development part is missing."""

from __future__ import annotations

import asyncio
import functools
import signal
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import asyncpg
import typer

from api.database import ensure_database, start_embedded, stop_started
from api.settings import Settings
from resolvers.db import migrate
from resolvers.development import DEMO_DATA, DevelopmentOnly, development_only

if TYPE_CHECKING:  # the development part, imported where a demo register is loaded
    from api.demo import DemoLoad
    from resolvers.dev.demo import Filled


def database_url(settings: Settings) -> str:
    """``DATABASE_URL``, or the embedded server's database (started if need be)."""
    if settings.database_url:
        return settings.database_url
    server = start_embedded(settings.data_dir)
    return asyncio.run(ensure_database(server, settings.database_name))


async def register_size(connection: asyncpg.Connection) -> int:
    return int(await connection.fetchval("SELECT count(*) FROM person"))


async def prepare(
    url: str,
    *,
    demo: DemoLoad | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Filled | None:
    """Apply migrations; import the ``demo`` register's files into an empty register.

    Returns:
        The persons loaded and their files (None if the register already had data).
    """
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        if demo is None or demo.persons <= 0 or await register_size(connection) > 0:
            return None
        with development_only(DEMO_DATA):
            from resolvers.dev.demo import fill
        return await fill(connection, await demo.files(), progress=progress)
    finally:
        await connection.close()


P = ParamSpec("P")
R = TypeVar("R")
# Signals whose default action ends the process on the spot, skipping every clean-up.
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _exit(sig: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def stops_embedded_database(command: Callable[P, R]) -> Callable[P, R]:
    """Run ``command`` so that the embedded server it starts is stopped however it ends.

    The postmaster runs in a session of its own, so a signal to the process group does
    not reach it: the command has to stop it. But SIGTERM ended the process at once
    (uvicorn, too, raises it again after its own graceful stop), skipping the clean-up;
    here SIGTERM and SIGHUP exit as Ctrl+C does, through every ``finally``.
    """

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        previous = {sig: signal.signal(sig, _exit) for sig in ENDING_SIGNALS}
        try:
            return command(*args, **kwargs)
        finally:
            for sig in ENDING_SIGNALS:  # a second SIGTERM must not cut the stop short
                signal.signal(sig, signal.SIG_IGN)
            stop_started()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    return run


class Commands(typer.Typer):
    """The command line; a development part this install lacks is one line, not a trace."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except DevelopmentOnly as error:
            typer.echo(f"Error: {error}", err=True)
            raise SystemExit(2) from None
