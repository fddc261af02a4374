"""The demo register's side of the command line: ``serve`` loads one into an empty
register on its first start, ``demo-data`` writes one (or prints example numbers).

Both write the demo's Navet files and import them as ``vastfolket import`` does
(``resolvers/dev/demo/filling.py``). The files need no database, so they are written in
a thread while the database is made ready: on the embedded server's first start they
are done about when initdb is, which keeps that start as quick as the direct COPY was.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import asyncpg
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.runtime import database_url, prepare
from api.settings import Settings
from resolvers.db import migrate
from resolvers.development import DEMO_DATA, development_only

if TYPE_CHECKING:  # the development part, imported where a command needs it
    from resolvers.dev.demo import DemoFiles

console = Console(stderr=True)
T = TypeVar("T")


def first_start(settings: Settings) -> bool:
    """The embedded server's first start: no data directory of it yet, so no register."""
    return not settings.database_url and not (settings.data_dir / "pgdata").exists()


class DemoLoad:
    """The demo register to load: its Navet files, written in a thread of their own when
    asked ahead (they need no database), else when the register turns out to be empty."""

    def __init__(self, persons: int, data_dir: Path, seed: int = 1) -> None:
        self.persons, self.data_dir, self.seed = persons, data_dir, seed
        self._ahead: Future[DemoFiles] | None = None

    def write_ahead(self) -> None:
        """Start writing the files, e.g. while the embedded server is made: on one core
        while initdb keeps the other busy, they are ready about when the server is."""
        with development_only(DEMO_DATA):
            from resolvers.dev import demo
        work = functools.partial(demo.write_files, self.persons, self.seed, dt.date.today())
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-files")
        self._ahead = executor.submit(work, demo.files_directory(self.data_dir))
        executor.shutdown(wait=False)

    async def files(self) -> DemoFiles:
        if self._ahead is None:
            self.write_ahead()
        assert self._ahead is not None
        return await asyncio.wrap_future(self._ahead)


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int, int], None]]:
    """A bar of the demo's records imported, shown from the first update on: none when
    nothing is loaded."""
    columns = (TextColumn("Demo register"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=console)
    task = progress.add_task("records", total=total)

    def update(done: int, of: int) -> None:
        progress.start()  # a no-op once started
        progress.update(task, completed=done, total=of)

    try:
        yield update
    finally:
        progress.stop()


def load_for_serve(settings: Settings) -> str:
    """The database ``serve`` uses, migrated, with the demo register if it was empty."""
    demo = DemoLoad(settings.demo_register_size, settings.data_dir)
    if demo.persons and first_start(settings):  # the register is sure to be empty
        demo.write_ahead()
    url = database_url(settings)
    with progress_bar(demo.persons) as progress:
        loaded = asyncio.run(prepare(url, demo=demo, progress=progress))
    if loaded:
        where = loaded.files[0].parent  # a line of its own, whole, to copy
        console.print(f"Loaded a demo register of {loaded.persons} persons, imported from its")
        console.print(f"Navet files in {where}", soft_wrap=True)
    elif demo.persons:
        console.print("The register is already there (demo data goes into an empty one only).")
    return url


def write_demo(settings: Settings, persons: int, seed: int, *, replace: bool) -> None:
    """``demo-data``: the demo register, imported from its files (exit 1 if the register
    holds data and ``replace`` is false)."""
    with development_only(DEMO_DATA):
        from resolvers.dev import demo
    load = DemoLoad(persons, settings.data_dir, seed)
    load.write_ahead()  # while the database is made ready
    url = database_url(settings)
    with progress_bar(persons) as progress:

        async def fill(connection: asyncpg.Connection) -> demo.Filled:
            files = await load.files()
            return await demo.fill(connection, files, replace=replace, progress=progress)

        try:
            filled = asyncio.run(_migrated(url, fill))
        except demo.RegisterNotEmptyError as error:
            console.print(f"[red]{error}[/red] Use --replace to overwrite it.")
            raise typer.Exit(1) from None
    console.print(f"Wrote {filled.persons} persons, imported from their Navet files in")
    console.print(str(filled.files[0].parent), soft_wrap=True)


def demo_examples(settings: Settings) -> dict[str, list[str]]:
    """A few numbers of each kind from the register (``demo-data --examples``)."""
    with development_only(DEMO_DATA):
        from resolvers.dev.demo import examples
    return asyncio.run(_migrated(database_url(settings), examples))


async def _migrated(url: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """``work`` done on a connection to the database, its schema made current first."""
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
        return await work(connection)
    finally:
        await connection.close()
