"""One burst: N subscribers following, one import of M changes, every delivery timed.

The subscribers run in client processes of their own (``subscribers.py``), so that the
importer and the measuring here do not wait on their reading. Once every subscriber has
subscribed after the head, the notice is applied (``notice.py``); the commit time is
taken here, on the client side, when the import's transaction has returned
(``time.monotonic``, one clock for every process of the machine). Each delivery's delay
is its arrival less that time. What every subscriber read must be the feed's events
after the head, each once, in order (their digest against the feed's own pages, read
here with ``read_page``); a burst where one did not reports nothing (``Undelivered``).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import signal
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psutil

from resolvers.changes import feed
from schema.cursors import change_cursor
from tests.bench.feed import subscribers
from tests.bench.feed.notice import apply_notice, write_notice
from tests.bench.feed.subscribers import STOPPED
from tests.bench.servers import Server, process_tree_cpu

READY_TIMEOUT = 120.0
SETTLE = 0.5  # seconds between the last subscription and the import
IDLE = 120.0  # seconds a subscriber waits for its next event before it gives up
ANSWER_TIMEOUT = 3600.0  # seconds a burst may take


class Undelivered(Exception):
    """A subscriber did not receive every event once, in order: no figures."""


@dataclass(frozen=True)
class Burst:
    selection: str  # the name of the subscription's selection
    query: str
    changes: int
    tokens: list[str]  # one per subscriber
    processes: int  # client processes the subscribers are spread over
    compression: str | None = "deflate"  # what the clients offer
    # Where the server (``profiled.py``) writes its profile of the burst: from the import
    # until every event arrived; None: not profiled.
    profile: Path | None = None


class Resident:
    """The server's resident memory (its workers' sum), sampled every 20 ms."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.start = self.peak = self.connected = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def now(self) -> int:
        workers = self.root.children() or [self.root]
        return sum(worker.memory_info().rss for worker in workers)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.now())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def _expected(pool: asyncpg.Pool, after: feed.Position) -> tuple[int, str]:
    """How many events the feed lists after ``after``, and their digest."""
    hashed, count, more = hashlib.sha256(), 0, True
    while more:
        page = await feed.read_page(pool, after, feed.NO_FILTERS, 1000, scan=1000)
        for event in page.events:
            hashed.update(subscribers.digest_line(
                change_cursor(event.cursor), event.personnummer, event.kind))  # fmt: skip
        count, after, more = count + len(page.events), page.end, page.more
    return count, hashed.hexdigest()


def _start_clients(server: Server, burst: Burst, after: str) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    url = f"ws://127.0.0.1:{server.port}/graphql"
    clients = []
    for n in range(burst.processes):
        tokens = burst.tokens[n :: burst.processes]
        plan = subscribers.Plan(
            url, tokens, burst.query, after, burst.changes, IDLE, burst.compression
        )
        ours, theirs = context.Pipe()
        process = context.Process(target=subscribers.run, args=(plan, theirs), daemon=True)
        process.start()
        clients.append((process, ours))
    return clients


async def _written(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise Undelivered(f"the server wrote no profile to {path}")
        await asyncio.sleep(0.1)


async def _answers(pipes: list[Any], timeout: float) -> list[Any]:
    """Every client process's answer; or, as soon as one tells of a subscriber that
    failed, that one alone (the burst has failed: the others are not waited for)."""
    answers: dict[int, Any] = {}
    deadline = time.monotonic() + timeout
    while len(answers) < len(pipes):
        if time.monotonic() > deadline:
            raise Undelivered(f"the subscribers were not done in {timeout:g} s")
        for n, pipe in enumerate(pipes):
            if n not in answers and await asyncio.to_thread(pipe.poll, 0.2):
                answers[n] = await _answer(pipe, timeout)
                if any(state.problem for state in answers[n][0]):
                    return [answers[n]]
    return [answers[n] for n in range(len(pipes))]


async def _answer(pipe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(pipe.poll, 1.0):  # a second at a time: a kill ends it
        if time.monotonic() > deadline:
            raise Undelivered(f"a client process said nothing in {timeout:g} s")
    try:
        answer = await asyncio.to_thread(pipe.recv)
    except EOFError:
        raise Undelivered("a client process ended without answering") from None
    if isinstance(answer, str) and answer != "ready":
        raise Undelivered(f"a client process failed: {answer}")
    return answer


async def run_burst(
    server: Server, database_pid: int, pool: asyncpg.Pool, importer: asyncpg.Connection,
    folder: Path, burst: Burst,
) -> dict[str, Any]:  # fmt: skip
    head = await feed.head(pool)
    notice = await write_notice(importer, folder, burst.changes)
    memory = Resident(server.process.pid)  # before the subscribers connect
    clients = _start_clients(server, burst, change_cursor(head))
    try:
        for _, pipe in clients:
            await _answer(pipe, READY_TIMEOUT)
        await asyncio.sleep(SETTLE)
        memory.connected = memory.now()
        cpu = process_tree_cpu(server.process.pid), process_tree_cpu(database_pid)
        if burst.profile:
            burst.profile.unlink(missing_ok=True)
            os.kill(server.process.pid, signal.SIGUSR1)
        committed = await apply_notice(importer, notice, burst.changes)
        answers = await _answers([pipe for _, pipe in clients], ANSWER_TIMEOUT)
        if burst.profile:
            os.kill(server.process.pid, signal.SIGUSR2)
            await _written(burst.profile)
        server_cpu = process_tree_cpu(server.process.pid) - cpu[0]
        database_cpu = process_tree_cpu(database_pid) - cpu[1]
        cpu = (server_cpu, database_cpu, sum(answer[2] for answer in answers))
    finally:
        memory.stop()
        for process, _ in clients:
            process.join(timeout=2)  # done once it has answered; a failed burst's: killed
            if process.is_alive():
                process.kill()
    count, digest = await _expected(pool, head)
    received, arrivals = gathered(answers, count, digest)
    return _figures(burst, change_cursor(head), received, arrivals, committed, cpu, memory)


def gathered(answers: list[Any], count: int, digest: str) -> tuple[int, array]:
    """How many events were received in all, and every arrival; or ``Undelivered`` for
    the first subscriber that did not read each event once, in order (one that failed
    first, rather than one stopped because another had)."""
    arrivals, received, failed = array("d"), 0, []
    for states, times, _ in answers:
        for state, stamps in zip(states, times, strict=True):
            if state.problem or state.extra or (state.count, state.digest) != (count, digest):
                failed.append(state)
            arrivals.frombytes(stamps)
            received += state.count
    if failed:
        state = min(failed, key=lambda s: (s.problem or "").startswith(STOPPED))
        raise Undelivered(
            f"a subscriber read {state.count} of {count} events ({state.extra} more, "
            f"digest {'equal' if state.digest == digest else 'different'}): "
            f"{state.problem or 'out of order or repeated'}"
        )
    return received, arrivals


def _figures(
    burst: Burst, after: str, received: int, arrivals: array, committed: float,
    cpu: tuple[float, float, float], memory: Resident,
) -> dict[str, Any]:  # fmt: skip
    delays = sorted(stamp - committed for stamp in arrivals)
    last = delays[-1]

    def at(share: float) -> float:
        return round(1000 * delays[min(len(delays) - 1, int(share * len(delays)))], 1)

    return {
        "selection": burst.selection, "subscribers": len(burst.tokens), "after": after,
        "changes": burst.changes, "messages": received,
        "first_ms": round(1000 * delays[0], 1), "p50_ms": at(0.5), "p99_ms": at(0.99),
        "max_ms": round(1000 * last, 1),
        "messages_per_second": round(received / last) if last > 0 else 0,
        "server_cpu_seconds": round(cpu[0], 2),
        "server_cpu_us_per_message": round(1e6 * cpu[0] / received, 1),
        "database_cpu_us_per_message": round(1e6 * cpu[1] / received, 1),
        "client_cpu_us_per_message": round(1e6 * cpu[2] / received, 1),
        "rss_before_mib": round(memory.start / 2**20, 1),
        "rss_connected_mib": round(memory.connected / 2**20, 1),
        "rss_peak_mib": round(memory.peak / 2**20, 1),
        "at": time.strftime("%H:%M:%S"),
    }  # fmt: skip
