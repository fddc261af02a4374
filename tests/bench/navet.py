"""The demo register as Navet files, imported through the reader and the importer.

``import_demo`` writes the demo's deliveries for N persons once (gzip, cached in a folder
of the bench directory named by size, seed and day), then applies them to an empty
register exactly as ``vastfolket import`` does: the real reader, the real importer, one
transaction per file. It reports each file's seconds and records per second, the CPU of
the importer's process and of its database backend, and the peak resident memory.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from resolvers.dev.demo.navet import KEY_CODE_COLUMNS, deliveries
from resolvers.imports.apply import apply_file
from resolvers.imports.navet import open_delivery
from resolvers.imports.source import Options
from tests.bench.memory import Memory

EMPTY_REGISTER = "TRUNCATE person, address, relation, change_event, import_file, key_code_area, former_personnummer RESTART IDENTITY CASCADE"  # noqa: E501


@dataclass(frozen=True)
class Imported:
    """One file applied: its records, wall seconds and CPU seconds of both sides."""

    name: str
    records: int
    seconds: float
    importer_cpu: float
    database_cpu: float

    def line(self) -> str:
        rate = self.records / self.seconds if self.seconds else 0.0
        return (
            f"{self.name}: {self.records} records in {self.seconds:.1f} s ({rate:,.0f}/s); "
            f"CPU importer {self.importer_cpu:.1f} s, database {self.database_cpu:.1f} s"
        )


def demo_files(bench_dir: Path, persons: int, today: dt.date) -> tuple[list[Path], list]:
    """The demo's Navet files for ``persons`` and its key-code rows, written once: a later
    run reads them back without drawing the register again (nor holding it in memory)."""
    folder = bench_dir / f"navet-{persons}-seed1-{today:%Y%m%d}"
    done, codes = folder / "complete", folder / "key-codes.json"
    if not done.exists():
        demo = deliveries(persons, 1, today)
        files = demo.write(folder, gzip=True)
        codes.write_text(json.dumps(demo.key_code_rows()), encoding="utf-8")
        done.write_text("\n".join(path.name for path in files), encoding="utf-8")
    names = done.read_text(encoding="utf-8").split()
    rows = [tuple(row) for row in json.loads(codes.read_text(encoding="utf-8"))]
    return [folder / name for name in names], rows


async def import_demo(
    url: str, bench_dir: Path, persons: int, today: dt.date
) -> tuple[list[Imported], tuple[int, int]]:
    """Empty the register and import the demo's files; per-file figures, and the resident
    memory when the first file began and at its peak."""
    files, key_codes = demo_files(bench_dir, persons, today)
    connection = await asyncpg.connect(url)
    backend = psutil.Process(await connection.fetchval("SELECT pg_backend_pid()"))
    results = []
    try:
        await connection.execute(EMPTY_REGISTER)
        await connection.copy_records_to_table(
            "key_code_area", records=key_codes, columns=KEY_CODE_COLUMNS
        )
        del key_codes
        with Memory() as memory:
            for path in files:
                results.append(await _apply(connection, backend, path))
    finally:
        await connection.close()
    return results, (memory.start, memory.peak)


async def _apply(connection: asyncpg.Connection, backend: psutil.Process, path: Path) -> Imported:
    ours = psutil.Process()
    before = (_cpu(ours), _cpu(backend), time.monotonic())
    with open_delivery(path) as source:
        outcome = await apply_file(connection, source, path.name, Options(wait=True))
    seconds = time.monotonic() - before[2]
    return Imported(
        path.name, outcome.records, seconds, _cpu(ours) - before[0], _cpu(backend) - before[1]
    )


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)
