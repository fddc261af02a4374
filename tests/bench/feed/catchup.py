"""Reading the feed from the beginning to its end, page after page, and what it took.

``Tally`` keeps what a reader read (a count, the numbers' sum and the kinds, to check
against the database that every event was read once) and each page's latency.
``catch_up`` runs one reader from the beginning to the end of the feed, timing the whole
run and measuring the CPU the server, the database and this client spent on it.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import psutil

from tests.bench.feed.readers import Page, Reader
from tests.bench.servers import process_tree_cpu

# What the feed lists, to check a reader against: every visible event once.
EXPECTED = """
SELECT kind, count(*) AS events, sum(personnummer::numeric) AS numbers
FROM visible_change_event
GROUP BY kind
"""


class Unread(Exception):
    """A reader did not read every event exactly once: its figures mean nothing."""


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, per page
    kinds: Counter[str] = field(default_factory=Counter)
    numbers: int = 0  # the sum of the personnummer read

    @property
    def events(self) -> int:
        return sum(self.kinds.values())

    def add(self, page: Page, seconds: float) -> None:
        self.latencies.append(seconds)
        self.kinds.update(kind for _, kind in page.events)
        self.numbers += sum(int(number) for number, _ in page.events)

    def summary(self) -> dict[str, Any]:
        ms = sorted(1000 * s for s in self.latencies)
        total = sum(self.latencies)
        return {
            "events": self.events,
            "pages": len(ms),
            "page_seconds": round(total, 3),
            "events_per_second": round(self.events / total) if total else 0,
            "p50_ms": round(statistics.median(ms), 2) if ms else 0.0,
            "p99_ms": round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2) if ms else 0.0,
            "max_ms": round(ms[-1], 2) if ms else 0.0,
            "kinds": dict(sorted(self.kinds.items())),
        }


async def expected(connection: asyncpg.Connection) -> Tally:
    """What reading every event once gives."""
    tally = Tally()
    for row in await connection.fetch(EXPECTED):
        tally.kinds[row["kind"]] = row["events"]
        tally.numbers += int(row["numbers"])
    return tally


def check(name: str, tally: Tally, want: Tally) -> None:
    if (tally.kinds, tally.numbers) != (want.kinds, want.numbers):
        raise Unread(
            f"{name} read {tally.events} events ({dict(tally.kinds)}), "
            f"the feed holds {want.events} ({dict(want.kinds)})"
        )


@dataclass(frozen=True)
class Cpu:
    """Where to read CPU time: the server's process tree, the database's, this one's."""

    server_pid: int
    database_pid: int

    def now(self) -> tuple[float, float, float]:
        own = psutil.Process().cpu_times()
        return (
            process_tree_cpu(self.server_pid),
            process_tree_cpu(self.database_pid),
            own.user + own.system,
        )


async def catch_up(reader: Reader, cpu: Cpu) -> tuple[Tally, dict[str, Any]]:
    """Every page from the beginning (``after`` null) until ``hasNextPage`` is false."""
    tally, after, more = Tally(), None, True
    before, started = cpu.now(), time.perf_counter()
    while more:
        began = time.perf_counter()
        page = await reader.page(after)
        tally.add(page, time.perf_counter() - began)
        after, more = page.after, page.more
    seconds = time.perf_counter() - started
    spent = [b - a for a, b in zip(before, cpu.now(), strict=True)]
    per_1000 = 1000 / tally.events if tally.events else 0.0
    figures = {
        "seconds": round(seconds, 2),
        **tally.summary(),
        "wall_events_per_second": round(tally.events / seconds) if seconds else 0,
        "server_cpu_ms_per_1000": round(1000 * spent[0] * per_1000, 1),
        "database_cpu_ms_per_1000": round(1000 * spent[1] * per_1000, 1),
        "client_cpu_ms_per_1000": round(1000 * spent[2] * per_1000, 1),
    }
    return tally, figures
