"""Interleaved rounds: per workload and connection count, warm both servers, then A B A B.

Each round records wrk's rate and percentiles, the server's CPU time (process and
children) and the database's (all PostgreSQL processes) per request, the SQL
statements per request that pg_stat_statements counted and the mean execution time of
the one that took the most time (for the search workload, the name search). After wrk
stops, the requests it left in flight (one per connection) are let finish: they count as
served in the per-request figures, and do not spill into the next round.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from tests.bench.database import StatementCounter
from tests.bench.inputs import request_file
from tests.bench.loadgen import WrkResult, run_wrk
from tests.bench.options import Options
from tests.bench.servers import Server, process_tree_cpu


@dataclass(frozen=True)
class Round:
    server: str
    workload: str
    connections: int
    index: int
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    cpu_ms_per_request: float
    db_cpu_ms_per_request: float
    statements_per_request: float
    # pg_stat_statements: mean execution time of the statement that took the most time.
    top_statement_ms: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RoundRunner:
    def __init__(
        self,
        servers: tuple[Server, Server],
        inputs_dir: Path,
        counter: StatementCounter,
        database_pid: int,
        console: Console,
    ) -> None:
        self.servers = servers
        self.inputs_dir = inputs_dir
        self.counter = counter
        self.database_pid = database_pid
        self.console = console

    async def run_all(self, options: Options) -> list[Round]:
        rounds: list[Round] = []
        for workload in options.workloads:
            for connections in options.connections:
                if options.warmup:
                    for server in self.servers:
                        self.console.print(
                            f"[dim]{workload} c{connections}: warming up {server.name} "
                            f"({options.warmup} s)[/dim]"
                        )
                        await self._wrk(server, workload, connections, options.warmup)
                        await self.counter.settle()
                for index in range(1, options.rounds + 1):
                    for server in self.servers:
                        done = await self.measure(
                            server, workload, connections, index, options.duration
                        )
                        self._show(done, options.rounds)
                        rounds.append(done)
        return rounds

    async def measure(
        self, server: Server, workload: str, connections: int, index: int, seconds: int
    ) -> Round:
        await self.counter.reset()
        cpu_before = server.cpu_seconds()
        db_before = process_tree_cpu(self.database_pid)
        result = await self._wrk(server, workload, connections, seconds)
        statements = await self.counter.settle()
        cpu_after = server.cpu_seconds()
        db_after = process_tree_cpu(self.database_pid)
        top_statement_ms = await self.counter.dearest_ms()
        served = result.requests + connections
        per_request = 1000 / served
        return Round(
            server=server.name,
            workload=workload,
            connections=connections,
            index=index,
            requests=result.requests,
            rps=result.rps,
            p50_ms=result.p50_ms,
            p90_ms=result.p90_ms,
            p99_ms=result.p99_ms,
            max_ms=result.max_ms,
            cpu_ms_per_request=(cpu_after - cpu_before) * per_request,
            db_cpu_ms_per_request=(db_after - db_before) * per_request,
            statements_per_request=statements / served,
            top_statement_ms=top_statement_ms,
        )

    async def _wrk(
        self, server: Server, workload: str, connections: int, seconds: int
    ) -> WrkResult:
        bodies = request_file(self.inputs_dir, workload, server.name)
        return await run_wrk(server.url, bodies, server.token, connections, seconds)

    def _show(self, done: Round, rounds: int) -> None:
        self.console.print(
            f"{done.workload} c{done.connections} round {done.index}/{rounds} "
            f"{done.server:>4}: {done.rps:8.1f} req/s  p50 {done.p50_ms:7.1f} ms  "
            f"p99 {done.p99_ms:7.1f} ms  cpu {done.cpu_ms_per_request:6.2f} ms/req  "
            f"db {done.db_cpu_ms_per_request:6.2f} ms/req  "
            f"sql {done.statements_per_request:5.2f}/req  top sql {done.top_statement_ms:6.2f} ms"
        )
