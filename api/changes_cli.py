"""``vastfolket changes``: upkeep of the change events the feed reads.

``prune`` deletes the events older than ``VASTFOLKET_CHANGE_RETENTION_DAYS``, a whole
import (transaction) at a time, oldest first, as every applied import file does at its
end (``resolvers.changes.retention``). Exit codes as ``vastfolket import``'s: 0 done
(also when nothing was old enough), 4 the database cannot be reached.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
import typer

from api.imports import UNAVAILABLE
from api.runtime import database_url, prepare
from api.settings import Settings
from resolvers.changes import retention
from resolvers.db import database_unavailable

app = typer.Typer(help="The change events integrated systems read.", no_args_is_help=True)


class Unreachable(Exception):
    pass


@app.command()
def prune() -> None:
    """Delete the change events past their retention.

    Those older than VASTFOLKET_CHANGE_RETENTION_DAYS (default 90) go, a whole import at
    a time, oldest first; prints what went and the horizon (the last event pruned).
    """
    settings = Settings()
    days = settings.change_retention_days
    try:
        pruned = asyncio.run(_prune(database_url(settings), dt.timedelta(days=days)))
    except Unreachable as error:
        typer.echo(f"Error: the database cannot be reached: {error}", err=True)
        raise typer.Exit(UNAVAILABLE) from None
    xid, position = pruned.horizon
    if pruned.events:
        events = _counted(pruned.events, "change event")
        transactions = _counted(pruned.transactions, "transaction")
        typer.echo(f"Pruned {events} of {transactions} older than {days} days.")
    else:
        typer.echo(f"Nothing to prune: no change events older than {days} days.")
    typer.echo(f"Horizon: xid {xid}, position {position} (the last event pruned).")


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


async def _prune(url: str, older_than: dt.timedelta) -> retention.Pruned:
    try:
        await prepare(url)
        connection = await asyncpg.connect(url)
    except Exception as error:
        if database_unavailable(error):
            raise Unreachable(str(error)) from None
        raise
    try:
        return await retention.prune(connection, older_than)
    except Exception as error:
        if database_unavailable(error):
            raise Unreachable(str(error)) from None
        raise
    finally:
        await connection.close()
