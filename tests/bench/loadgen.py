"""Driving a server with wrk and reading what ``bench.lua`` reports."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("bench.lua")
MARKER = "BENCH_RESULT "
# wrk's default of 2 s would cut off slow pages and skew p99; none should take this long.
TIMEOUT = "30s"


class FailedRequests(RuntimeError):
    """Some requests of a round failed: the round's numbers mean nothing."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def threads_for(connections: int) -> int:
    """One thread for one connection, else two (wrk needs threads <= connections)."""
    return min(2, connections)


async def run_wrk(
    url: str, bodies: Path, token: str | None, connections: int, seconds: int
) -> WrkResult:
    """Run wrk for ``seconds``; raise FailedRequests if any response failed."""
    command = [
        *("wrk", f"-t{threads_for(connections)}", f"-c{connections}", f"-d{seconds}s"),
        *("--latency", "--timeout", TIMEOUT, "-s", str(SCRIPT), url, "--", str(bodies)),
        *([token] if token else []),
    ]
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await process.communicate()
    text = output.decode("utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.startswith(MARKER)]
    if process.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed (exit {process.returncode}):\n{text[-2000:]}")
    report = json.loads(lines[-1].removeprefix(MARKER))
    failed = report["non200"] + report["with_errors"] + report["socket_errors"]
    if failed or report["requests"] == 0:
        raise FailedRequests(
            f"{url}: {report['non200']} non-200, {report['with_errors']} with errors, "
            f"{report['socket_errors']} socket errors of {report['requests']} requests; "
            f"first failure: {report['first_failure']}"
        )
    return WrkResult(
        requests=report["requests"],
        seconds=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
    )
