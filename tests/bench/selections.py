"""``python -m tests.bench.selections``: a selection of every registered person, produced
and downloaded as an official's order is, timed, with the processes' memory.

1. the benchmark's database of PERSONS (``database.py``: the demo register imported once,
   kept for the next run);
2. `vastfolket serve` (one API process) and one `vastfolket worker` on it, sharing a files
   directory, both as an operator starts them;
3. the preview of the broad criterion (every registered person), best of three;
4. an order of every registered person with a mailing's fields: the time until its file
   is done, then its download streamed over HTTP and checked against its checksum;
5. the peak resident memory of the API and the worker, sampled every 50 ms, beside the
   file's size: memory that stays flat while the file grows is the export streaming.

Targets (the issue's): 1 000 000 persons produced and downloaded in under 60 s, the
broad preview under 1 s at 2 000 000. A table on stderr and a JSON file (--out).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from rich.console import Console
from rich.table import Table

from api.auth import mint_dev_token
from api.settings import Settings
from api.worker import STARTED
from resolvers.domain.access import Tier
from tests.bench.database import BenchDatabase
from tests.bench.options import ROOT
from tests.running import Server, free_port

console = Console(stderr=True, width=150)
FIELDS = "[PERSONNUMMER, FIRST_NAMES, LAST_NAME, CARE_OF, ADDRESS_LINE2, POSTAL_CODE, POSTAL_TOWN]"
PREVIEW = "{ selectionPreview(criteria: {}) { count price { total } } }"
ORDER = f'mutation {{ orderSelection(criteria: {{}}, purpose: "bench", fields: {FIELDS}) {{id}} }}'
STATUS = "query ($id: ID!) { selectionOrder(id: $id) { status rowCount fileSize checksum error } }"


class Peaks:
    """Peak resident memory of some processes, sampled every 50 ms while running."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.start = {name: p.memory_info().rss for name, p in self.processes.items()}
        self.peak = dict(self.start)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            for name, process in self.processes.items():
                self.peak[name] = max(self.peak[name], process.memory_info().rss)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def processes(url: str, bench: Path) -> tuple[Server, Server, str]:
    """The API and a worker on the database, sharing ``bench/selections``; a token."""
    keys = bench / "keys"
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "DATABASE_URL": url,
        "VASTFOLKET_DATA_DIR": str(keys), "VASTFOLKET_DEMO_PERSONS": "0",
        "VASTFOLKET_SELECTION_FILES_DIR": str(bench / "selections"),
        "VASTFOLKET_SELECTION_MAX_ACTIVE_ORDERS": "1000",
    }  # fmt: skip
    token = mint_dev_token(Settings(data_dir=keys), subject="bench", tier=Tier.BASIC,
                           organisation="bench", roles=["selection"])  # fmt: skip
    port = free_port()
    api = Server([sys.executable, "-m", "api", "serve", "--port", str(port)], env, port)
    worker = Server([sys.executable, "-m", "api", "worker"], env, 0)
    try:
        api.wait_ready()
        worker.read_until(STARTED, timeout=120)
    except BaseException:
        worker.stop(signal.SIGTERM)
        api.stop()
        raise
    return api, worker, token


async def measure(api: Server, worker: Server, token: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api.base, headers=headers, timeout=600) as client:

        async def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
            body = {"query": query, "variables": variables}
            answer = (await client.post("/graphql", json=body)).json()
            assert "errors" not in answer, answer
            return dict(answer["data"])

        previews = []
        for _ in range(3):
            started = time.perf_counter()
            count = (await ask(PREVIEW))["selectionPreview"]["count"]
            previews.append(time.perf_counter() - started)
        with Peaks({"api": api.process.pid, "worker": worker.process.pid}) as peaks:
            started = time.perf_counter()
            order_id = (await ask(ORDER))["orderSelection"]["id"]
            while (order := (await ask(STATUS, {"id": order_id}))["selectionOrder"])["status"] in (
                "QUEUED",
                "RUNNING",
            ):
                await asyncio.sleep(0.05)
            produced = time.perf_counter() - started
            assert order["status"] == "DONE", order
            digest, size = hashlib.sha256(), 0
            async with client.stream("GET", f"/selections/{order_id}/file") as response:
                assert response.status_code == 200, await response.aread()
                async for chunk in response.aiter_bytes():
                    digest.update(chunk)
                    size += len(chunk)
            total = time.perf_counter() - started
    assert digest.hexdigest() == order["checksum"] and size == order["fileSize"]
    return {
        "persons_selected": count, "rows": order["rowCount"], "file_bytes": size,
        "preview_seconds": round(min(previews), 4), "produced_seconds": round(produced, 3),
        "downloaded_seconds": round(total - produced, 3), "total_seconds": round(total, 3),
        "rss_start_mib": {k: round(v / 2**20, 1) for k, v in peaks.start.items()},
        "rss_peak_mib": {k: round(v / 2**20, 1) for k, v in peaks.peak.items()},
    }  # fmt: skip


def report(figures: dict[str, Any]) -> None:
    table = Table(title=f"A selection of {figures['rows']:,} persons, produced and downloaded")
    for header in ("preview s", "produced s", "downloaded s", "total s", "file MiB"):
        table.add_column(header, justify="right")
    for header in ("API MiB start/peak", "worker MiB start/peak"):
        table.add_column(header, justify="right")
    start, peak = figures["rss_start_mib"], figures["rss_peak_mib"]
    table.add_row(
        *(str(figures[key]) for key in ("preview_seconds", "produced_seconds",
                                         "downloaded_seconds", "total_seconds")),
        f"{figures['file_bytes'] / 2**20:.1f}",
        f"{start['api']} / {peak['api']}", f"{start['worker']} / {peak['worker']}",
    )  # fmt: skip
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.selections",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--bench-dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--out", type=Path, default=Path("bench-selections-results.json"))
    options = parser.parse_args(argv)
    database = BenchDatabase(options.bench_dir)
    asyncio.run(database.prepare(options.persons, console))
    api, worker, token = processes(database.url, options.bench_dir)
    try:
        figures = asyncio.run(measure(api, worker, token))
    finally:
        worker.stop(signal.SIGTERM)
        api.stop()
    figures["persons"] = options.persons
    report(figures)
    options.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
