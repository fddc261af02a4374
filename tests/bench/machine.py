"""What the benchmark ran on and what it measured: machine, versions, commit."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psutil

from tests.bench.options import ROOT
from tests.bench.servers import NODE, PEER_DIR

# Where the code under test lives; uncommitted changes there are worth knowing about.
CODE_PATHS = ("api", "schema", "resolvers")


def _run(*command: str) -> str:
    try:
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    return (result.stdout or result.stderr).strip()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _package_version(name: str) -> str:
    path = PEER_DIR / "node_modules" / name / "package.json"
    try:
        return str(json.loads(path.read_text())["version"])
    except (OSError, KeyError, ValueError):
        return "unknown"


def describe(postgres_version: str) -> dict[str, Any]:
    """The machine and software versions, and the commit measured."""
    changed = _run("git", "status", "--porcelain", "--", *CODE_PATHS)
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _run("git", "rev-parse", "--short", "HEAD"),
        "uncommitted_changes_in_code": bool(changed),
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu_model": cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": _run(str(NODE), "--version"),
        "postgraphile": _package_version("postgraphile"),
        "postgresql": postgres_version,
        "wrk": _run("wrk", "-v").splitlines()[0] if _run("wrk", "-v") else "unknown",
    }
