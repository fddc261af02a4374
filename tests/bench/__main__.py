"""``python -m tests.bench``: the API against PostGraphile 5, side by side.

1. embedded PostgreSQL in ``.bench/`` with N demo persons and pg_stat_statements;
2. PostGraphile installed (``tests/bench/peer``) and schema ``peer`` applied;
3. both servers started on the same database, one process each, pools of 32
   (``--peer unlogged``: the API against itself with the access log's writes skipped;
   ``--peer search-before``: against itself sending the previous name search statement);
4. inputs drawn, a sample of answers compared, then interleaved wrk rounds;
5. a table and ``bench-results.json``; the servers stop, the database stays for next time.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

from rich.console import Console

from tests.bench.agreement import Disagreement, check_agreement
from tests.bench.database import BenchDatabase, StatementCounter
from tests.bench.inputs import draw_inputs, write_request_files
from tests.bench.loadgen import FailedRequests
from tests.bench.machine import describe
from tests.bench.options import Options, parse
from tests.bench.report import print_table, summarise, write_results
from tests.bench.rounds import RoundRunner
from tests.bench.search_before import DROP_OWN_INDEX, OWN_INDEX
from tests.bench.servers import POOL_SIZE, Server, ensure_peer_installed, start_ours, start_peer
from tests.bench.tools import MissingTool, ensure_tools

console = Console(stderr=True)

LOG_SIZE = """
SELECT
    (SELECT count(*) FROM access_request) AS requests,
    (SELECT coalesce(sum(cardinality(seen)), 0) FROM access_request) AS numbers_in_arrays,
    (SELECT count(*) FROM access_person) AS person_rows,
    pg_relation_size('access_request_seen') / 1048576 AS seen_index_mb
"""


async def run(options: Options) -> None:
    started = time.monotonic()
    ensure_tools(console)
    bench_dir = options.bench_dir
    database = BenchDatabase(bench_dir)
    await database.prepare(options.persons, console)
    against_postgraphile = options.peer == "postgraphile"
    if against_postgraphile:
        ensure_peer_installed()
    counter = await StatementCounter.open(database.url)
    postgres = str(await counter.connection.fetchval("SHOW server_version"))
    # The log only grows, run after run, and its writes cost more as its index outgrows
    # memory: a run's numbers go with the log's size when it began.
    log_at_start = dict(await counter.connection.fetchrow(LOG_SIZE))
    console.print(f"Drawing {options.inputs} inputs per workload…")
    inputs = await draw_inputs(database.url, options.inputs, bench_dir / "inputs")
    inputs = {name: inputs[name] for name in options.workloads}
    dialects = {"ours": "ours", "peer": "peer" if against_postgraphile else "ours"}
    write_request_files(inputs, bench_dir / "inputs", dialects)

    # The code measured is what the servers load now; record its commit before they start.
    machine = describe(postgres)
    servers: list[Server] = []
    search_before = options.peer == "search-before"
    try:
        if search_before:
            console.print("Building the index the previous name search read…")
            await counter.connection.execute(OWN_INDEX)
        servers.append(start_ours(database.url, bench_dir, bench_dir / "logs"))
        if against_postgraphile:
            servers.append(start_peer(database.node_url(), bench_dir / "logs"))
        else:
            logs = bench_dir / "logs"
            servers.append(
                start_ours(database.url, bench_dir, logs, name="peer", variant=options.peer)
            )
        ours, peer = servers
        compared = check_agreement(ours, peer, inputs)
        console.print(f"The servers agree on {compared} sampled answers.")
        runner = RoundRunner(
            (ours, peer), bench_dir / "inputs", counter, database.server_pid, console
        )
        rounds = await runner.run_all(options)
    finally:
        for server in servers:
            server.stop()
        if search_before:
            await counter.connection.execute(DROP_OWN_INDEX)
        await counter.close()

    workloads = summarise(rounds)
    settings = {
        **options.as_json(),
        "pool_size": POOL_SIZE,
        "search_max_matches": 200,
        "wrk": "-t1 for 1 connection, else -t2; --latency --timeout 30s; bench.lua",
        "headline": "top-level numbers per workload are at 32 connections",
        "access_log_at_start": log_at_start,
    }
    write_results(options.out, machine, settings, workloads)
    print_table(Console(width=160), workloads, options.rounds, options.peer)
    console.print(f"Wrote {options.out} in {(time.monotonic() - started) / 60:.1f} min.")


def main(argv: list[str] | None = None) -> int:
    # A plain kill stops the servers and PostgreSQL too (finally blocks, atexit).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    options = parse(argv)
    try:
        asyncio.run(run(options))
    except (Disagreement, FailedRequests, MissingTool) as error:
        console.print(f"[red]Benchmark aborted, no numbers reported:[/red] {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
