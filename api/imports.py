"""``vastfolket import``: applying delivery files, with progress, a summary and exit codes.

Files are applied one by one, each in its own transaction, in delivery order — by the
day they take effect (Effektueringsdatum), a full extract before the notices of its day,
then (BestallningsId, JobbId, FilNr) — when every file names its delivery, else as given.
A full extract and the notices that follow it are different orders, so the order id alone
would not say which comes first. The first file refused stops the run: the files after
it depend on it. What is shown meanwhile and after: ``api.import_output``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import replace
from pathlib import Path

import asyncpg
import typer
from rich.console import Console

from api.import_output import Shown, progress_bar, summary
from api.logs import configure_logging
from api.runtime import database_url, prepare
from api.settings import Settings
from resolvers.db import database_unavailable
from resolvers.imports import ledger
from resolvers.imports.apply import apply_file
from resolvers.imports.records import FULL
from resolvers.imports.source import ImportBusy, ImportRefused, Options, Outcome, Source

# Exit codes (docs/imports.md).
OK, REFUSED, USAGE, BUSY, UNAVAILABLE = 0, 1, 2, 3, 4

logger = logging.getLogger("vastfolket.imports")
Opener = Callable[[Path], AbstractContextManager[Source]]


class ImportFailed(Exception):
    """The run stopped; ``code`` is the exit code, the message says why, ``outcomes`` are
    the files done before."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.outcomes = code, list[Outcome]()


def navet_reader() -> Opener:
    """The Navet reader's ``open_delivery``."""
    try:
        from resolvers.imports.navet import open_delivery
    except ImportError as error:
        raise ImportFailed(USAGE, f"the Navet file reader cannot be loaded: {error}") from None
    return open_delivery


def sha256_of(path: Path) -> str:
    """The file's sha256, so that a file applied before is known without reading it."""
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def delivery_order(paths: list[Path], opener: Opener) -> list[Path]:
    """By effective day, full extract first, then (BestallningsId, JobbId, FilNr) when
    every file says; else as given."""
    keys = []
    for path in paths:
        try:
            with opener(path) as source:
                delivery = source.delivery
        except ValueError:  # refused when it is applied, in its turn
            return paths
        if delivery is None:
            return paths
        day = delivery.effective_date or dt.date.min
        notice = delivery.kind != FULL
        keys.append((day, notice, delivery.order_id, delivery.job_id, delivery.file_no))
    return [path for _, path in sorted(zip(keys, paths, strict=True), key=lambda pair: pair[0])]


async def run(
    url: str,
    paths: list[Path],
    options: Options,
    opener: Opener,
    console: Console,
) -> list[Outcome]:
    """Apply ``paths`` in delivery order; every outcome, or ImportFailed."""
    interactive = sys.stdout.isatty()
    if not interactive:
        configure_logging("json", "INFO")
    try:
        connection = await asyncpg.connect(url)
    except Exception as error:
        if database_unavailable(error):
            raise _unreachable(error) from None
        raise
    outcomes: list[Outcome] = []
    try:
        for path in delivery_order(paths, opener):
            outcomes.append(await _one(connection, path, options, opener, console, interactive))
    except ImportFailed as failed:
        failed.outcomes = outcomes
        raise
    finally:
        await connection.close()
    return outcomes


async def _one(
    connection: asyncpg.Connection,
    path: Path,
    options: Options,
    opener: Opener,
    console: Console,
    interactive: bool,
) -> Outcome:
    hint = await asyncio.to_thread(sha256_of, path)
    with ExitStack() as opened:
        try:
            source = opened.enter_context(opener(path))
        except ValueError as error:  # the reader refuses the file before its first record
            await ledger.record_failure(connection, None, path.name, (hint, None, 0, str(error)))
            raise ImportFailed(REFUSED, f"refused, nothing of it was applied: {error}") from None
        total = source.delivery.records_in_file if source.delivery else None
        bar = progress_bar(console) if interactive else None
        file_options = replace(options, sha256_hint=hint, progress=Shown(path.name, total, bar))
        try:
            with bar if bar is not None else nullcontext():
                outcome = await apply_file(connection, source, path.name, file_options)
        except ImportRefused as refused:
            raise ImportFailed(REFUSED, f"refused, nothing of it was applied: {refused}") from None
        except ImportBusy as busy:
            raise ImportFailed(BUSY, str(busy)) from None
        except Exception as error:
            if database_unavailable(error):
                raise _unreachable(error) from None
            raise
    logger.info(f"import {outcome.status}", extra={
        "file": path.name, "records": outcome.records, "counts": outcome.counts,
        "seconds": round(outcome.seconds, 1), "pruned_events": outcome.pruned,
    })  # fmt: skip
    return outcome


async def prepared(url: str) -> None:
    """The schema migrated, or ImportFailed when the database cannot be reached."""
    try:
        await prepare(url)
    except Exception as error:
        if database_unavailable(error):
            raise _unreachable(error) from None
        raise


def _unreachable(error: BaseException) -> ImportFailed:
    return ImportFailed(UNAVAILABLE, f"the database cannot be reached: {error}")


def command(files: list[Path], *, full: bool, dry_run: bool, wait: bool) -> None:
    """The command: exits with the run's code (0 when every file is applied or was)."""
    settings = Settings()
    retention = dt.timedelta(days=settings.change_retention_days)
    options = Options(
        region=settings.region_county, full=full, dry_run=dry_run, wait=wait, retention=retention
    )
    progress = Console(stderr=True)
    try:
        for path in files:  # a FIFO or device would be read from, or block, for ever
            if not path.is_file():
                raise ImportFailed(USAGE, f"{path}: not a regular file")
        opener = navet_reader()
        url = database_url(settings)
        asyncio.run(prepared(url))
        outcomes = asyncio.run(run(url, files, options, opener, progress))
    except ImportFailed as failed:
        if failed.outcomes:
            Console().print(summary(failed.outcomes))
        typer.echo(f"Error: {failed}", err=True)
        raise typer.Exit(failed.code) from None
    Console().print(summary(outcomes))
