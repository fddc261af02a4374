"""``python -m tests.bench.fallback``: what a Skatteverket fallback lookup costs next to a
local one.

1. embedded PostgreSQL in ``.bench/fallback/`` with a small demo register;
2. the simulator (latency 0) and the API, each a process of its own, as in production
   where Skatteverket is another service;
3. a warm-up, then rounds on one connection: in each, N lookups of each kind — local
   persons, persons only the simulator knows (first lookup: a real call), the same
   persons again (the cache) — the local ones first in odd rounds, last in even ones;
4. median, p90 and mean per kind over all rounds, and their ratios to the local lookup.

Not collected by pytest; latency, not throughput (``python -m tests.bench`` measures that).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx

from api.auth import mint_dev_token
from api.database import ensure_database, start_embedded
from api.runtime import prepare
from api.settings import Settings
from resolvers.domain.access import Tier
from tests.bench.servers import Server, _spawn, free_port

DATABASE_NAME = "vastfolket_fallback"
QUERY = """query ($p: String!) { person(personnummer: $p) {
  __typename
  ... on Person { personnummer givenName lastName status source
                  mailingAddress { lines } registeredAddress { postalTown } }
} }"""
Results = dict[str, list[float]]
LOCAL_NUMBERS = """
SELECT personnummer FROM visible_person
WHERE NOT is_coordination_number
ORDER BY md5(personnummer)
LIMIT $1
"""


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.fallback", description=__doc__)
    parser.add_argument("--lookups", type=int, default=500, help="per kind and round (500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up lookups per kind (200)")
    parser.add_argument("--persons", type=int, default=2000, help="local register size (2000)")
    parser.add_argument("--dir", type=Path, default=Path(".bench/fallback"), help="data")
    return parser.parse_args()


async def local_numbers(url: str, persons: int, count: int) -> list[str]:
    await prepare(url, demo_persons=persons)
    connection = await asyncpg.connect(url)
    try:
        return [row["personnummer"] for row in await connection.fetch(LOCAL_NUMBERS, count)]
    finally:
        await connection.close()


def start_simulator(persons: int, logs: Path) -> Server:
    port = free_port()
    command = [
        *(sys.executable, "-m", "api", "skatteverket-sim", "--port", str(port)),
        *("--persons", str(persons), "--latency-ms", "0"),
    ]
    return _spawn_until(f"http://127.0.0.1:{port}/admin/examples", command, port, logs)


def _spawn_until(ready_url: str, command: list[str], port: int, logs: Path) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / "simulator.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    server = Server("simulator", process, port, None, log, "simulator")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(ready_url, timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"the simulator did not start; see {log.name}")


def start_api(database_url: str, skatteverket_url: str, data: Path) -> Server:
    keys = data / "keys"
    token = mint_dev_token(Settings(data_dir=keys), subject="bench", tier=Tier.RELATIONS)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VASTFOLKET_")},
        "DATABASE_URL": database_url,
        "VASTFOLKET_DATA_DIR": str(keys),
        "VASTFOLKET_SKATTEVERKET_URL": skatteverket_url,
    }
    port = free_port()
    command = [
        *(sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory"),
        *("--workers", "1", "--no-access-log", "--log-level", "warning", "--port", str(port)),
    ]
    return _spawn("api", "ours", command, env, port, token, data / "logs")


def timed(client: httpx.Client, api: Server, numbers: list[str], source: str) -> list[float]:
    """Seconds per lookup, one after another on one connection."""
    seconds = []
    for number in numbers:
        started = time.perf_counter()
        response = client.post(api.url, json={"query": QUERY, "variables": {"p": number}})
        seconds.append(time.perf_counter() - started)
        person = response.json()["data"]["person"]
        if person.get("source") != source:
            raise RuntimeError(f"{number}: expected a {source} person, got {person}")
    return seconds


def calls(simulator: Server) -> int:
    return int(httpx.get(f"http://127.0.0.1:{simulator.port}/admin/calls").json()["total"])


def report(results: dict[str, list[float]]) -> None:
    local = statistics.median(results["local"])
    print(f"{'lookup':<20}{'median ms':>10}{'p90 ms':>9}{'mean ms':>9}{'× local':>9}")
    for kind, seconds in results.items():
        median = statistics.median(seconds)
        p90 = statistics.quantiles(seconds, n=10)[-1]
        mean = statistics.fmean(seconds)
        ratio = median / local
        print(f"{kind:<20}{median * 1e3:>10.2f}{p90 * 1e3:>9.2f}{mean * 1e3:>9.2f}{ratio:>9.2f}")


def measure(client: httpx.Client, api: Server, local: list[str], upstream: list[str]) -> Results:
    """One round: each kind on its own numbers; the cached kind repeats the uncached."""
    return {
        "local": timed(client, api, local, "LOCAL"),
        "fallback, uncached": timed(client, api, upstream, "SKATTEVERKET"),
        "fallback, cached": timed(client, api, upstream, "SKATTEVERKET"),
    }


def main() -> None:
    options = parse_options()
    warmup, lookups = options.warmup, options.lookups
    total = warmup + options.rounds * lookups
    server_uri = start_embedded(options.dir)
    database_url = asyncio.run(ensure_database(server_uri, DATABASE_NAME))
    local = asyncio.run(local_numbers(database_url, options.persons, warmup + lookups))
    simulator = start_simulator(total, options.dir / "logs")
    api = None
    try:
        base = f"http://127.0.0.1:{simulator.port}"
        upstream = httpx.get(f"{base}/admin/examples").json()["outside_region"]
        api = start_api(database_url, base, options.dir)
        results: Results = {}
        with httpx.Client(headers=api.headers(), timeout=10) as client:
            measure(client, api, local[:warmup], upstream[:warmup])
            before = calls(simulator)
            for round_ in range(options.rounds):
                start = warmup + round_ * lookups
                numbers = upstream[start : start + lookups]
                if round_ % 2:  # local last: no kind always runs on a fresher process
                    found = measure(client, api, [], numbers)
                    found["local"] = timed(client, api, local[warmup:], "LOCAL")
                else:
                    found = measure(client, api, local[warmup:], numbers)
                for kind, seconds in found.items():
                    results.setdefault(kind, []).extend(seconds)
            made = calls(simulator) - before
        print(f"{options.rounds} rounds of {lookups} lookups per kind; upstream calls: {made}")
        report({kind: results[kind] for kind in ("local", *sorted(set(results) - {"local"}))})
    finally:
        if api is not None:
            api.stop()
        simulator.stop()


if __name__ == "__main__":
    main()
