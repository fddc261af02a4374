"""Running the command line as a user does: real processes, the real server."""

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

import httpx

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


def newcomer_env(data_dir: Path, *, persons: int = 600) -> dict[str, str]:
    """A newcomer's environment: no DATABASE_URL, no settings, a data directory of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VASTFOLKET"))}
    env["VASTFOLKET_DATA_DIR"] = str(data_dir)
    env["VASTFOLKET_DEMO_PERSONS"] = str(persons)
    return env


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
