"""``python -m tests.bench.imports``: how fast the importer writes a register.

1. a full extract of ``--persons`` synthetic records into an empty register;
2. a change notice of ``--changes`` records into it, while a second connection keeps
   looking persons up (their latencies are reported).

``--again`` then applies a second full extract to the filled register (every person
compared, in rounds). ``--parse-us`` adds that much CPU per record of the full extract,
as a reader parsing XML would spend (25–50 µs): the wall time shows how much of the
database's work runs beside it.

Each on an embedded PostgreSQL in ``--dir`` (a fresh database per run). Reports seconds,
records per second and the importer process's peak resident memory, sampled meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil

from api.database import ensure_database, start_embedded, with_database
from resolvers.db import migrate
from resolvers.imports.apply import apply_file
from resolvers.imports.records import CHANGES, FULL, Delivery, Record
from resolvers.imports.source import Options
from tests.bench import synthetic
from tests.bench.memory import Memory
from tests.bench.navet import import_demo

DATABASE = "vastfolket_import_bench"


class Generated:
    """A source of synthetic records (no file: its sha256 is made up from its size)."""

    def __init__(self, kind: str, records: Iterator[Record], count: int, job: int) -> None:
        self.delivery = Delivery(
            "BENCH0000000000001", "A", "NAVET", f"bench-{job}.xml", None, count, count,
            1, 1, job, None, kind,
        )  # fmt: skip
        self._records, self.sha256 = records, f"{job:064x}"

    def records(self) -> Iterator[Record]:
        return self._records


def _slow_statements(record: asyncpg.connection.LoggedQuery) -> None:
    if record.elapsed > 0.5:
        print(f"  {record.elapsed:6.1f} s  {' '.join(record.query.split())[:90]}", flush=True)


async def _import(url: str, source: Generated, count: int, label: str) -> float:
    connection = await asyncpg.connect(url)
    connection.add_query_logger(_slow_statements)
    backend = psutil.Process(await connection.fetchval("SELECT pg_backend_pid()"))
    try:
        with Memory() as memory:
            started, cpu = time.monotonic(), _cpu(psutil.Process(), backend)
            outcome = await apply_file(connection, source, label, Options())
            seconds = time.monotonic() - started
            after = _cpu(psutil.Process(), backend)
            ours, server = (b - a for a, b in zip(cpu, after, strict=True))
    finally:
        await connection.close()
    print(
        f"{label}: {count} records in {seconds:.1f} s ({count / seconds:,.0f} records/s), "
        f"CPU: importer {ours:.1f} s, its database backend {server:.1f} s; "
        f"peak RSS {memory.peak / 2**20:.0f} MiB; {outcome.counts}",
        flush=True,
    )
    return seconds


def _cpu(*processes: psutil.Process) -> list[float]:
    return [sum(process.cpu_times()[:2]) for process in processes]


async def _lookups(url: str, persons: int, stop: asyncio.Event) -> list[float]:
    connection = await asyncpg.connect(url)
    latencies: list[float] = []
    try:
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            await connection.fetchrow(
                "SELECT * FROM visible_person WHERE personnummer = $1",
                synthetic.personnummer((i * 7919) % persons),
            )
            latencies.append(time.monotonic() - started)
            i += 1
            await asyncio.sleep(0.01)
    finally:
        await connection.close()
    return latencies


def parsed(records: Iterator[Record], microseconds: float) -> Iterator[Record]:
    """The records, each after ``microseconds`` of CPU: what a reader's parsing costs."""
    for record in records:
        until = time.perf_counter() + microseconds / 1e6
        while time.perf_counter() < until:
            pass
        yield record


async def fresh_database(directory: Path) -> str:
    server = start_embedded(directory)
    admin = await asyncpg.connect(server)
    await admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    await admin.close()
    url = with_database(server, DATABASE)
    await ensure_database(server, DATABASE)
    connection = await asyncpg.connect(url)
    await migrate(connection)
    await connection.close()
    return url


async def run_navet(directory: Path, persons: int) -> None:
    """The demo's Navet files for ``persons``, through the reader, into an empty register."""
    url = await fresh_database(directory)
    started = time.monotonic()
    results, (start, peak) = await import_demo(url, directory, persons, dt.date.today())
    for result in results:
        print(result.line(), flush=True)
    seconds, records = time.monotonic() - started, sum(r.records for r in results)
    print(
        f"all files: {records} records in {seconds:.1f} s ({records / seconds:,.0f}/s); "
        f"resident memory {start / 2**20:.0f} MiB at the start, {peak / 2**20:.0f} MiB at peak",
        flush=True,
    )


async def run(directory: Path, persons: int, changes: int, parse_us: float, again: bool) -> None:
    url = await fresh_database(directory)
    full = Generated(FULL, parsed(synthetic.full_extract(persons), parse_us), persons, 1)
    await _import(url, full, persons, "full extract into an empty register")
    if not changes:
        return
    stop = asyncio.Event()
    reader = asyncio.create_task(_lookups(url, persons, stop))
    notice = Generated(CHANGES, synthetic.change_notice(changes, persons, persons + 1), changes, 2)
    await _import(url, notice, changes, f"change notice into {persons} persons")
    stop.set()
    latencies = await reader
    median, longest = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"lookups meanwhile: {len(latencies)}, median {median:.1f} ms, max {longest:.0f} ms")
    if again:  # every person compared, in rounds: other names and addresses for most
        records = synthetic.full_extract(persons, seed=3, first_post_id=10 * persons)
        await _import(url, Generated(FULL, records, persons, 3), persons, "full extract again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=200_000)
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, default=Path(".bench-imports"))
    parser.add_argument(
        "--parse-us", type=float, default=0.0, help="CPU per record a reader would spend."
    )
    parser.add_argument("--again", action="store_true", help="Then the full extract again.")
    parser.add_argument(
        "--navet",
        action="store_true",
        help="Import the demo's Navet files (written once, cached in --dir) through the "
        "reader instead of synthetic records.",
    )
    options = parser.parse_args()
    if options.navet:
        asyncio.run(run_navet(options.dir, options.persons))
        return
    asyncio.run(run(options.dir, options.persons, options.changes, options.parse_us, options.again))


if __name__ == "__main__":
    main()
