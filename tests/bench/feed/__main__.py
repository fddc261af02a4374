"""``python -m tests.bench.feed``: the change feed read as an integrator reads it (with
``--subscribers N``: pushed to N subscribers, ``fanout.py``).

1. the feed's database prepared (``events.py``): the register imported once, the events
   written once, both kept for the next run;
2. the API started under uvicorn (one worker, as the main benchmark starts it) with a
   token holding the ``feed`` role;
3. a catch-up per selection over HTTP, checked to have read every event once;
4. the same pages side by side down to plain SQL; optionally a profile;
5. tables on stderr and the JSON file; the server stops, the database stays.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Any

import asyncpg
import httpx
import uvloop
from rich.console import Console

from api.app import _tune_garbage_collection
from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.db import Database, create_pool
from resolvers.domain.access import Tier, Viewer
from schema.build import build_schema
from schema.engine import Engine
from tests.bench.feed import readers
from tests.bench.feed.catchup import Cpu, Unread, catch_up, check, expected
from tests.bench.feed.events import FeedDatabase
from tests.bench.feed.fanout import main as fanout_main
from tests.bench.feed.ladder import breakdown, side_by_side
from tests.bench.feed.options import Options, parse
from tests.bench.feed.profile import profile_pages
from tests.bench.feed.report import (
    print_catchup,
    print_ladder,
    print_profile,
    print_statements,
    write_results,
)
from tests.bench.machine import describe
from tests.bench.servers import start_ours

console = Console(stderr=True)

# An integrated system's token: the basic tier (names and the registered address), the
# feed's role, and its client named (written to the access log with every event).
VIEWER = Viewer("feed-bench", Tier.BASIC, client="feed-bench", roles=frozenset({"feed"}))

RESET_STATEMENTS = "SELECT pg_stat_statements_reset()"
# The statements that took this database the most time since the reset.
TOP_STATEMENTS = """
SELECT regexp_replace(s.query, '\\s+', ' ', 'g') AS query, s.calls,
       s.total_exec_time / 1000 AS total_seconds, s.total_exec_time / s.calls AS mean_ms
FROM pg_stat_statements AS s
JOIN pg_database AS d ON d.oid = s.dbid
WHERE d.datname = current_database()
  AND s.query NOT LIKE '%pg_stat_statements%'
  AND s.calls > 0
ORDER BY s.total_exec_time DESC
LIMIT 4
"""
LOG_SIZE = (
    "SELECT count(*) AS requests, (SELECT count(*) FROM access_person) AS rows FROM access_request"
)


def _token(options: Options) -> tuple[Settings, str]:
    settings = Settings(data_dir=options.bench_dir / "keys")
    claims = {"roles": sorted(VIEWER.roles), "client": VIEWER.client}
    return settings, mint_dev_token(settings, subject=VIEWER.subject, tier=VIEWER.tier, **claims)


async def _top_statements(connection: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await connection.fetch(TOP_STATEMENTS)
    return [{**dict(row), "total_seconds": round(row["total_seconds"], 3),
             "mean_ms": round(row["mean_ms"], 3)} for row in rows]  # fmt: skip


async def _catchups(
    options: Options, url: str, token: str, cpu: Cpu, connection: asyncpg.Connection
) -> dict[str, Any]:
    want, results = await expected(connection), {}
    async with httpx.AsyncClient(timeout=120) as client:
        for selection in options.selections:
            reader = readers.HttpReader(client, url, token, selection)
            await reader.page(None)  # the text prepared, the pools warm: not measured
            await connection.execute(RESET_STATEMENTS)
            console.print(f"Catching up over HTTP, {selection}…")
            tally, figures = await catch_up(reader, cpu)
            check(f"the {selection} catch-up", tally, want)
            figures["statements"] = await _top_statements(connection)
            results[selection] = figures
    return results


async def _ladders(
    options: Options, pool: asyncpg.Pool, url: str, token: str
) -> dict[str, list[dict[str, Any]]]:
    settings = Settings(data_dir=options.bench_dir / "keys")
    app = readers.InProcess(Engine(build_schema(), settings.limits()), Database(pool), VIEWER)
    _tune_garbage_collection()  # as the server does once the schema is built
    results = {}
    async with httpx.AsyncClient(timeout=120) as client:
        for selection in options.selections:
            chain: list[readers.Reader] = [
                readers.SqlReader(pool, selection), readers.ReadPageReader(pool),
                readers.ExecuteReader(app, selection), readers.PipelineReader(app, selection),
                readers.HttpReader(client, url, token, selection),
            ]  # fmt: skip
            for reader in chain:  # warm: statements prepared, texts parsed
                await reader.page(None)
            console.print(f"Reading {selection} pages side by side…")
            tallies = await side_by_side(chain, options.ladder_pages)
            results[selection] = breakdown(tallies)
    return results


async def run(options: Options) -> None:
    started = time.monotonic()
    database = FeedDatabase(options.bench_dir)
    await database.prepare_feed(options.persons, options.events, options.transactions, console)
    connection = await asyncpg.connect(database.url)
    pool = await create_pool(database.url, min_size=2, max_size=4)
    machine = describe(str(await connection.fetchval("SHOW server_version")))
    log_at_start = dict(await connection.fetchrow(LOG_SIZE))
    settings, token = _token(options)
    server = start_ours(database.url, options.bench_dir, options.bench_dir / "logs", name="feed")
    document: dict[str, Any] = {"machine": machine}
    try:
        cpu = Cpu(server.process.pid, database.server_pid)
        catchup = await _catchups(options, server.url, token, cpu, connection)
        ladder = await _ladders(options, pool, server.url, token)
        profiles = {}
        for selection in options.selections if options.profile_pages else ():
            out = options.bench_dir / f"feed-{selection}.prof"
            profiles[selection] = await profile_pages(
                pool, settings, token, selection, options.profile_pages, out
            )
    finally:
        server.stop()
        await pool.close()
        await connection.close()
    document["settings"] = {**options.as_json(), "page_size": readers.PAGE_SIZE,
                            "access_log_at_start": log_at_start}  # fmt: skip
    document.update(catchup=catchup, ladder=ladder, profile=profiles)
    write_results(options.out, document)
    wide = Console(stderr=True, width=170)
    print_catchup(wide, catchup, options.target_seconds)
    print_statements(wide, catchup)
    print_ladder(wide, ladder)
    print_profile(wide, profiles)
    console.print(f"Wrote {options.out} in {(time.monotonic() - started) / 60:.1f} min.")


def main(argv: list[str] | None = None) -> int:
    # A plain kill stops the server and PostgreSQL too (finally blocks, atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    arguments = sys.argv[1:] if argv is None else argv
    if any(arg.split("=")[0] == "--subscribers" for arg in arguments):
        return fanout_main(arguments)  # the subscribers' benchmark (fanout.py)
    options = parse(arguments)
    try:
        uvloop.run(run(options))  # as uvicorn runs the server
    except (Unread, readers.FeedFailed) as error:
        console.print(f"[red]Benchmark aborted, no figures reported:[/red] {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
