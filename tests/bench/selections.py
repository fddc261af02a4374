"""``python -m tests.bench.selections --persons N``: a large selection, end to end.

1. the benchmark's register (``BenchDatabase``: the demo's Navet files through the
   importer, as ``python -m tests.bench`` builds it; 2 000 000 persons by default);
2. the API (one uvicorn worker, as the other benchmarks serve it) and a
   ``vastfolket worker``, on it, sharing one files directory;
3. previews of broad criteria over HTTP, each timed ``--previews`` times (median, slowest);
4. an order of about ``--rows`` persons (birth dates from the register's quantile that
   gives that many), exported by the worker, then its file downloaded over HTTP and
   checked against the order's checksum, while both processes' resident memory is
   sampled: the times from order to done and of the download, and the memory at the
   start and at its peak.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from rich.console import Console

from api.auth import mint_dev_token
from api.settings import Settings
from api.worker import STARTED
from resolvers.domain.access import Tier
from tests.bench.database import BenchDatabase
from tests.bench.machine import describe
from tests.bench.options import ROOT
from tests.bench.servers import Server, start_ours

console = Console(stderr=True)
BENCH_DIR = ROOT / ".bench"
FIELDS = ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME", "CARE_OF", "ADDRESS_LINE1",
          "ADDRESS_LINE2", "POSTAL_CODE", "POSTAL_TOWN"]  # fmt: skip
# Broad criteria an official might preview: the whole region, Göteborg, an age band.
PREVIEWS = {
    "everyone": {},
    "Göteborg": {"municipalities": ["1480"]},
    "aged 65–80": {"ageFrom": 65, "ageTo": 80},
    "women 20–40, postal codes 4xxxx": {
        "gender": "FEMALE", "ageFrom": 20, "ageTo": 40,
        "postalCodeFrom": "40000", "postalCodeTo": "49999",
    },
}  # fmt: skip
PREVIEW = "query P($c: SelectionCriteria!) { selectionPreview(criteria: $c) { count } }"
ORDER = """mutation O($c: SelectionCriteria!, $f: [SelectionField!]!) {
  orderSelection(criteria: $c, fields: $f, purpose: "Benchmark") { id } }"""
STATUS = "query S($id: ID!) { selectionOrder(id: $id) { status rowCount checksum fileSize } }"
# The birth date from which about ``$1`` visible persons are born (the quantile).
SINCE = """
SELECT percentile_disc(greatest(0, 1 - $1::float8 / (SELECT count(*) FROM visible_person)))
    WITHIN GROUP (ORDER BY birth_date)
FROM visible_person
"""


class Memory(threading.Thread):
    """Samples the resident size of some processes every 50 ms: the first and the peak."""

    def __init__(self, pids: dict[str, int]) -> None:
        super().__init__(daemon=True)
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.start_mib = {name: self._rss(p) for name, p in self.processes.items()}
        self.peak_mib = dict(self.start_mib)
        self.stopping = threading.Event()

    @staticmethod
    def _rss(process: psutil.Process) -> float:
        return float(process.memory_info().rss) / 2**20

    def run(self) -> None:
        while not self.stopping.wait(0.05):
            for name, process in self.processes.items():
                self.peak_mib[name] = max(self.peak_mib[name], self._rss(process))


def start_worker(
    database_url: str, settings: dict[str, str], logs: Path
) -> subprocess.Popen[bytes]:
    log = (logs / "selection-worker.log").open("wb")
    env = {**os.environ, "DATABASE_URL": database_url, **settings}
    worker = subprocess.Popen([sys.executable, "-m", "api", "worker"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 60
    while STARTED not in (logs / "selection-worker.log").read_text(errors="replace"):
        if worker.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start; see {log.name}")
        time.sleep(0.1)
    return worker


async def post(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    answer = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    if "errors" in answer:
        raise RuntimeError(f"the API refused: {answer['errors']}")
    return dict(answer["data"])


async def previews(client: httpx.AsyncClient, times: int) -> dict[str, dict[str, float]]:
    results = {}
    for name, criteria in PREVIEWS.items():
        seconds, count = [], 0
        for _ in range(times):
            started = time.perf_counter()
            count = (await post(client, PREVIEW, c=criteria))["selectionPreview"]["count"]
            seconds.append(time.perf_counter() - started)
        results[name] = {"count": count, "median_s": statistics.median(seconds),
                         "max_s": max(seconds)}  # fmt: skip
        console.print(
            f"preview {name}: {count:,} persons, median {results[name]['median_s']:.3f} s"
        )
    return results


async def order_and_download(
    client: httpx.AsyncClient, database_url: str, rows: int
) -> dict[str, Any]:
    connection = await asyncpg.connect(database_url)
    try:
        since = await connection.fetchval(SINCE, rows)
    finally:
        await connection.close()
    criteria = {"birthDateFrom": since.isoformat()}
    started = time.perf_counter()
    order_id = (await post(client, ORDER, c=criteria, f=FIELDS))["orderSelection"]["id"]
    while (status := (await post(client, STATUS, id=order_id))["selectionOrder"])["status"] in (
        "QUEUED", "RUNNING",
    ):  # fmt: skip
        await asyncio.sleep(0.2)
    done = time.perf_counter()
    if status["status"] != "DONE":
        raise RuntimeError(f"the order ended {status['status']}")
    digest, size = hashlib.sha256(), 0
    async with client.stream("GET", f"/selections/{order_id}/file") as response:
        response.raise_for_status()
        async for chunk in response.aiter_bytes(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    downloaded = time.perf_counter()
    assert digest.hexdigest() == status["checksum"] and size == status["fileSize"], status
    console.print(f"order of {status['rowCount']:,} rows: done in {done - started:.1f} s, "
                  f"downloaded ({size / 2**20:.0f} MiB) in {downloaded - done:.1f} s")  # fmt: skip
    return {"rows": status["rowCount"], "bytes": size, "export_s": done - started,
            "download_s": downloaded - done, "total_s": downloaded - started}  # fmt: skip


async def measure(persons: int, rows: int, times: int) -> dict[str, Any]:
    database = BenchDatabase(BENCH_DIR)
    await database.prepare(persons, console)
    connection = await asyncpg.connect(database.url)
    try:
        postgres = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    files, logs = BENCH_DIR / "selections", BENCH_DIR / "logs"
    settings = {"VASTFOLKET_SELECTION_FILES_DIR": str(files),
                "VASTFOLKET_DATA_DIR": str(BENCH_DIR / "keys")}  # fmt: skip
    api: Server = start_ours(database.url, BENCH_DIR, logs, settings=settings)
    worker = start_worker(database.url, settings, logs)
    token = mint_dev_token(Settings(data_dir=BENCH_DIR / "keys"), subject="bench-urval",
                           tier=Tier.BASIC, organisation="bench", roles=["selection"])  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}
    memory = Memory({"api": api.process.pid, "worker": worker.pid})
    try:
        async with httpx.AsyncClient(base_url=api.url.removesuffix("/graphql"),
                                     headers=headers, timeout=600) as client:  # fmt: skip
            found = await previews(client, times)
            memory.start()
            selection = await order_and_download(client, database.url, rows)
    finally:
        memory.stopping.set()
        worker.terminate()
        worker.wait(30)
        api.stop()
    return {"machine": describe(postgres), "persons": persons, "previews": found,
            "selection": selection, "memory_mib": {"start": memory.start_mib,
                                                    "peak": memory.peak_mib}}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.selections",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--persons", type=int, default=2_000_000, help="register size")
    parser.add_argument("--rows", type=int, default=1_000_000, help="the order's size")
    parser.add_argument("--previews", type=int, default=5, help="times each preview runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-selections-results.json")
    options = parser.parse_args()
    results = asyncio.run(measure(options.persons, options.rows, options.previews))
    memory = results["memory_mib"]
    for name in ("api", "worker"):
        console.print(f"{name}: resident {memory['start'][name]:.0f} MiB at the start, "
                      f"{memory['peak'][name]:.0f} MiB at the peak")  # fmt: skip
    options.out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"Wrote {options.out}")


if __name__ == "__main__":
    main()
