"""The two programs the benchmark drives that pip does not install: wrk and npm."""

from __future__ import annotations

import os
import shutil
import subprocess

from rich.console import Console

# Debian package for each program; installed with apt-get when running as root.
DEBIAN_PACKAGES = {"wrk": "wrk", "npm": "npm"}


class MissingTool(Exception):
    """A program the benchmark needs is not installed and could not be installed."""


def ensure_tools(console: Console) -> None:
    missing = [tool for tool in DEBIAN_PACKAGES if shutil.which(tool) is None]
    if not missing:
        return
    packages = [DEBIAN_PACKAGES[tool] for tool in missing]
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise MissingTool(
            f"the benchmark needs {', '.join(missing)}: install the Debian package(s) "
            f"{' '.join(packages)} (apt-get install {' '.join(packages)})"
        )
    console.print(f"Installing {' '.join(packages)} with apt-get…")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True)
