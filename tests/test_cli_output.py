"""What the command line prints is true, and what it suggests runs as printed."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.running import SCRIPT, Server, free_port, newcomer_env, run, scratch_dir

ROOT = Path(__file__).resolve().parent.parent


def shell_env(home: Path) -> dict[str, str]:
    """A newcomer's shell in the checkout: the virtual environment not activated, and no
    XDG_RUNTIME_DIR (a container, sudo, a cron job)."""
    env = newcomer_env(home / ".vastfolket", persons=300)
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if p != venv_bin)
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("VIRTUAL_ENV", None)
    return env


def in_shell(command: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``command`` pasted into a shell in the checkout."""
    return run(["bash", "-c", command], env, cwd=ROOT)


@pytest.fixture(scope="module")
def home() -> Iterator[Path]:
    """A checkout whose register was filled before (by `vastfolket demo-data`)."""
    with scratch_dir("cli-output") as path:
        filled = run([str(SCRIPT), "demo-data", "--persons", "300"], shell_env(path), cwd=ROOT)
        assert filled.returncode == 0, filled.stderr
        navet = path / ".vastfolket" / "navet"  # where it says the files are, whole
        assert f"Wrote 300 persons, imported from their Navet files in\n{navet}\n" in filled.stderr
        assert len(list(navet.glob("navet-*.xml"))) == 5
        yield path


def serve(env: dict[str, str]) -> tuple[Server, str]:
    port = free_port()
    server = Server([str(SCRIPT), "serve", "--port", str(port)], env, port, cwd=ROOT)
    banner = server.read_until("Try the samordningsnummer")
    server.wait_ready()
    return server, banner


def test_what_serve_and_graphiql_suggest_runs_as_printed(home: Path) -> None:
    env = shell_env(home)
    server, banner = serve(env)
    try:
        suggested = re.search(r"More tokens: (.+)", banner)
        assert suggested is not None, banner
        minted = in_shell(suggested.group(1), env)
        assert minted.returncode == 0, minted.stderr
        viewer = httpx.post(
            f"{server.base}/graphql",
            json={"query": "{ viewer { tier organisation } }"},
            headers={"Authorization": f"Bearer {minted.stdout.strip()}"},
        ).json()
        assert viewer["data"]["viewer"] == {"tier": "BASIC", "organisation": "1480"}

        page = httpx.get(f"{server.base}/graphql", headers={"Accept": "text/html"}).text
        commands = re.findall(r"^#   (\S+ (?:token|demo-data) .+)$", page, re.M)
        assert len(commands) == 2, page
        for command in commands:
            result = in_shell(command, env)
            assert result.returncode == 0, f"{command}: {result.stderr}"
        assert "ordinary_adult" in json.loads(result.stdout)
    finally:
        server.stop()
    output = server.output
    assert "XDG_RUNTIME_DIR" not in output + minted.stderr + result.stderr
    assert output.count("Shutting down") == 1, output
    assert output.count("Finished server process") == 1, output


def test_a_second_start_says_the_register_is_there(home: Path) -> None:
    server, banner = serve(shell_env(home))
    server.stop()
    assert "already" in banner and "register" in banner, banner
    assert "0/300" not in banner and "Loaded a demo register" not in banner


def test_a_taken_port_is_refused_before_anything_is_printed(home: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(
            [str(SCRIPT), "serve", "--port", str(port)], shell_env(home), cwd=ROOT, timeout=30
        )
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"Port {port}" in output and "--port" in output, output
    assert "GraphiQL" not in output and "token" not in output, output
    suggestion = re.search(r"e\.g\. (.+ serve --port \d+)", output)
    assert suggestion is not None and suggestion.group(1).startswith(".venv/bin/vastfolket")
