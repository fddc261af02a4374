"""``python -m tests.bench.feed --subscribers N``: the change feed pushed to N subscribers.

1. the database (``FanoutDatabase``): ``vastfolket_fanout`` on the benchmark's embedded
   PostgreSQL, the demo register imported once through the importer;
2. every server asked for started at once (``servers``): the API under uvicorn with the
   WebSocket options ``vastfolket serve`` passes, for each number of workers and
   permessage-deflate on or off, and the same of another commit's code (``--before``);
3. bursts (``burst.py``) taking turns, so that the servers share the machine's moments
   alike: per round, size of import, selection and server, N subscribers follow, one
   change notice commits, every delivery is timed and checked;
4. tables on stderr and the JSON file; the servers stop, the database stays.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from rich.console import Console

from api.auth import mint_dev_token
from api.database import ensure_database
from api.settings import Settings
from resolvers.db import create_pool, migrate
from resolvers.domain.access import Tier
from tests.bench.database import BenchDatabase
from tests.bench.feed.burst import Burst, Undelivered, run_burst
from tests.bench.feed.fanout_options import SELECTIONS, FanoutOptions, parse
from tests.bench.feed.notice import NoticeFailed
from tests.bench.feed.profile import top_functions
from tests.bench.feed.report import print_fanout, print_profile, print_steps, write_results
from tests.bench.feed.steps import steps
from tests.bench.machine import describe
from tests.bench.options import ROOT
from tests.bench.servers import Server, start_ours

console = Console(stderr=True)

DATABASE_NAME = "vastfolket_fanout"
# The WebSocket options `vastfolket serve` passes (api.settings.Settings.server_options).
SERVED = ("--ws", "api.websocket_protocol:WebSocketProtocol", "--ws-max-size", "65536")
POOL_SIZE = 32  # a worker's pool at most, as the other benchmarks serve
RESERVED = 10  # PostgreSQL connections left for this process and the superuser


@dataclass(frozen=True)
class ServerSpec:
    code: str  # "ours" (this tree) or the commit of --before
    workers: int
    deflate: bool
    variant: str = "ours"  # "profiled": cProfile during the burst

    @property
    def name(self) -> str:
        shown = "profiled" if self.variant == "profiled" else self.code
        return f"{shown} {self.workers}w {'deflate' if self.deflate else 'plain'}"

    def options(self) -> tuple[str, ...]:
        return (*SERVED, "--ws-per-message-deflate", str(self.deflate).lower())


class FanoutDatabase(BenchDatabase):
    """The benchmark's server, with the subscribers' database on it."""

    async def prepare_register(self, persons: int, console: Console) -> None:
        self.name = DATABASE_NAME if persons == 300_000 else f"{DATABASE_NAME}_{persons}"
        self.url = await ensure_database(self.server.get_uri(), self.name)
        connection = await asyncpg.connect(self.url)
        try:
            await migrate(connection)
            have = int(await connection.fetchval("SELECT count(*) FROM person"))
            if have != persons:
                await self._import(persons, have, console)
                await connection.execute("ANALYZE")
        finally:
            await connection.close()


def subscription(selection: str) -> str:
    return (
        "subscription Fanout($after: String) { changes(after: $after) { "
        f"{SELECTIONS[selection]} }} }}"
    )


def tokens(bench_dir: Path, count: int) -> list[str]:
    """An integrated system each: a subject of its own, the basic tier, the feed role."""
    settings = Settings(data_dir=bench_dir / "keys")
    return [
        mint_dev_token(
            settings,
            subject=f"fanout-{n}",
            tier=Tier.BASIC,
            roles=["feed"],
            client=f"fanout-{n}",
            organisation="1480",
        )
        for n in range(count)
    ]


def checkout(bench_dir: Path, revision: str) -> Path:
    """The code of ``revision`` (``git archive``), once, under ``BENCH_DIR/trees``."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    tree = bench_dir / "trees" / commit
    if not (tree / "api").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit, "api", "schema", "resolvers"],
                                 cwd=ROOT, capture_output=True, check=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def specs(options: FanoutOptions) -> list[ServerSpec]:
    codes = ["ours", *([options.before] if options.before else [])]
    found = [ServerSpec(c, w, d) for w in options.workers for d in options.deflate for c in codes]
    if options.profile:
        found.append(ServerSpec("ours", 1, options.deflate[0], "profiled"))
    return found


def pool_size(connections: int, servers: list[ServerSpec]) -> int:
    """Each worker's pool, so that every server's workers (a pool and a listener each)
    fit in PostgreSQL's ``max_connections`` beside this process's few."""
    workers = sum(spec.workers for spec in servers)
    return max(2, min(POOL_SIZE, (connections - RESERVED) // workers - 1))


def start(spec: ServerSpec, options: FanoutOptions, url: str, pool: int) -> Server:
    bench_dir = options.bench_dir
    tree = checkout(bench_dir, spec.code) if spec.code != "ours" else None
    slug = spec.name.replace(" ", "-")
    return start_ours(
        url, bench_dir, bench_dir / "logs", name=f"fanout-{slug}", variant=spec.variant,
        workers=spec.workers, options=spec.options(), tree=tree,
        settings={"VASTFOLKET_PROFILE_OUT": str(_profile(options)),
                  "VASTFOLKET_POOL_MAX_SIZE": str(pool)},
    )  # fmt: skip


def _profile(options: FanoutOptions) -> Path:
    """Where the profiled server writes a burst's profile (kept then under its name)."""
    return options.bench_dir / "fanout-profile.prof"


class Bench:
    """One run: the database, the importer's connection, the subscribers' tokens, and
    what the bursts found."""

    def __init__(self, options: FanoutOptions, database: FanoutDatabase) -> None:
        self.options, self.database = options, database
        self.keys = tokens(options.bench_dir, options.subscribers)
        self.bursts: list[dict[str, Any]] = []
        self.profiles: dict[str, list[dict[str, Any]]] = {}

    async def burst(
        self, spec: ServerSpec, server: Server, size: int, selection: str, round_no: int,
        pool: asyncpg.Pool, importer: asyncpg.Connection,
    ) -> None:  # fmt: skip
        """One burst; a subscriber that did not read every event once, in order, makes it
        a failure (its reason kept, no figures)."""
        console.print(f"Round {round_no}, {spec.name}: {self.options.subscribers} "
                      f"subscribers, {size:,} changes, {selection}…")  # fmt: skip
        profile = _profile(self.options) if spec.variant == "profiled" else None
        burst = Burst(selection, subscription(selection), size, self.keys,
                      self.options.client_processes, profile=profile)  # fmt: skip
        shown = {"round": round_no, "server": spec.name, "selection": selection, "changes": size}
        try:
            figures = await run_burst(server, self.database.server_pid, pool, importer,
                                      self.options.bench_dir / "notices", burst)  # fmt: skip
        except Undelivered as error:
            console.print(f"[red]No figures for this burst:[/red] {error}")
            self.bursts.append({**shown, "failed": str(error)})
            return
        if profile is not None:
            kept = profile.with_name(f"fanout-{selection}-{size}.prof")
            profile.replace(kept)
            self.profiles[f"{selection}, {size:,} changes"] = top_functions(kept)
        self.bursts.append({**shown, **figures})


async def run(options: FanoutOptions) -> bool:
    """The whole run; whether every burst delivered every event."""
    started = time.monotonic()
    database = FanoutDatabase(options.bench_dir)
    await database.prepare_register(options.persons, console)
    bench = Bench(options, database)
    pool = await create_pool(database.url, min_size=1, max_size=2)
    importer = await asyncpg.connect(database.url)
    machine = describe(str(await importer.fetchval("SHOW server_version")))
    running: dict[ServerSpec, Server] = {}
    try:
        servers = specs(options)
        pool_max = pool_size(int(await importer.fetchval("SHOW max_connections")), servers)
        for spec in servers:
            running[spec] = start(spec, options, database.url, pool_max)
        for round_no in range(1, options.rounds + 1):
            for size in options.changes:
                for selection in options.selections:
                    for spec, server in running.items():
                        if spec.variant != "profiled" or round_no == 1:
                            await bench.burst(spec, server, size, selection, round_no, pool,
                                              importer)  # fmt: skip
        for server in running.values():
            server.stop()
        console.print("Timing a batch's steps in this process…")
        parts = {selection: await steps(pool, subscription(selection), after)
                 for selection, after in _last_heads(bench.bursts).items()}  # fmt: skip
    finally:
        for server in running.values():
            server.stop()
        await pool.close()
        await importer.close()
    document = {"machine": machine, "settings": options.as_json(), "bursts": bench.bursts,
                "steps": parts, "profile": bench.profiles}  # fmt: skip
    write_results(options.out, document)
    wide = Console(stderr=True, width=170)
    print_fanout(wide, bench.bursts)
    print_steps(wide, parts)
    print_profile(wide, bench.profiles)
    console.print(f"Wrote {options.out} in {(time.monotonic() - started) / 60:.1f} min.")
    return not any("failed" in burst for burst in bench.bursts)


def _last_heads(bursts: list[dict[str, Any]]) -> dict[str, str]:
    """Per selection, where its last burst's subscribers started (its events follow)."""
    return {burst["selection"]: burst["after"] for burst in bursts if "after" in burst}


def main(argv: list[str]) -> int:
    options = parse(argv)
    try:
        delivered = uvloop.run(run(options))  # as uvicorn runs the server
    except NoticeFailed as error:
        console.print(f"[red]Benchmark aborted, no figures reported:[/red] {error}")
        return 1
    if not delivered:
        console.print("[red]Some bursts did not deliver every event: see `failed`.[/red]")
    return 0 if delivered else 1
