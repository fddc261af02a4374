"""``vastfolket worker``: runs selection orders from the queue kept in PostgreSQL.

PgQueuer (asyncpg) takes jobs with ``FOR UPDATE SKIP LOCKED`` — several workers on
several hosts share the queue, each job to one of them — and beats a heartbeat for each
running job; a job whose heartbeat has gone stale (its worker was killed) is picked
again by any worker. The export is made to run more than once safely
(``resolvers.selections.export``), so an order completes once.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from pathlib import Path

import asyncpg
import typer
from pgqueuer import Job, QueueManager
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from api import audit
from api.logs import configure_logging
from api.runtime import database_url, prepare
from api.settings import Settings
from resolvers.db import create_pool
from resolvers.selections import export, sweep
from resolvers.selections.orders import EXPORT_ENTRYPOINT

logger = logging.getLogger("vastfolket.worker")
STARTED = "selection worker started"  # the line a supervisor (or a test) waits for
SWEEP_EVERY = 600.0  # seconds between deletions of files that may no longer be kept
# Orders one worker runs at once (more workers run more): each export holds two of its
# pool's connections (its COPY, its progress), the sweep one more.
EXPORTS_AT_ONCE = 2


async def sweeping(pool: asyncpg.Pool, files: Path) -> None:
    """Delete expired and withdrawn files now, then every ``SWEEP_EVERY`` seconds."""
    while True:
        try:
            gone = await sweep.sweep(pool, files)
            if gone:
                logger.info("deleted the files of orders %s (expired, withdrawn, unfinished)", gone)
        except Exception:  # a failed sweep is tried again; the route refuses them meanwhile
            logger.exception("the sweep of selection files failed")
        await asyncio.sleep(SWEEP_EVERY)


async def work(settings: Settings, url: str) -> None:
    """Take up orders until SIGTERM or SIGINT; a running export is then let finish."""
    await prepare(url)  # the queue's tables are among the migrations
    listener = await asyncpg.connect(url)  # PgQueuer's own: it LISTENs on it
    pool = await create_pool(url, min_size=1, max_size=2 * EXPORTS_AT_ONCE + 2)
    manager = QueueManager(Queries(AsyncpgDriver(listener)))
    files, days = settings.selection_files, settings.selection_file_days

    @manager.entrypoint(EXPORT_ENTRYPOINT)
    async def run_order(job: Job) -> None:
        assert job.payload is not None
        await export.run(pool, files, int(job.payload.decode()), days, audit.written)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, manager.shutdown.set)
    sweeper = asyncio.create_task(sweeping(pool, files))
    logger.info("%s; files in %s", STARTED, files)
    try:
        await manager.run(
            dequeue_timeout=timedelta(seconds=5),
            batch_size=1,  # a long job each: one is not held back behind another's
            max_concurrent_tasks=EXPORTS_AT_ONCE,  # the rest are left to other workers
            heartbeat_timeout=timedelta(seconds=settings.selection_heartbeat_seconds),
        )
    finally:
        sweeper.cancel()
        await asyncio.gather(sweeper, return_exceptions=True)
        await pool.close()
        await listener.close()


def worker() -> None:
    """Run selection orders in the background (beside `serve`, as many as wanted)."""
    settings = Settings()
    configure_logging(settings.log_format, settings.log_level)
    if not settings.database_url:
        typer.echo("Error: DATABASE_URL is not set: name the PostgreSQL of the queue", err=True)
        raise typer.Exit(2)
    asyncio.run(work(settings, database_url(settings)))
