"""The image's installs without a Docker engine: the build context as the Dockerfile
copies it, and a fresh virtual environment installed by the production stage's `pip
install` commands (one per test run; pip's cache makes it quick)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.running import run
from tests.test_docker import DOCKER, ROOT, Dockerfile, empty_database


@pytest.fixture(scope="session")
def dockerfile() -> Dockerfile:
    return Dockerfile(DOCKER / "Dockerfile")


@pytest.fixture(scope="session")
def context(dockerfile: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build context as the image sees it: only what the Dockerfile copies."""
    context = tmp_path_factory.mktemp("context")
    for sources in dockerfile.copied:
        for source in sources:
            (context / source).parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                ignore = shutil.ignore_patterns("__pycache__")
                shutil.copytree(ROOT / source, context / source, ignore=ignore, dirs_exist_ok=True)
            else:
                shutil.copy2(ROOT / source, context / source)
    return context


@pytest.fixture(scope="session")
def production(dockerfile: Dockerfile, context: Path) -> Path:
    """A fresh virtual environment installed by the production stage's pip commands;
    its ``bin`` directory."""
    venv = context.parent / f"{context.name}-venv"
    made = run([sys.executable, "-m", "venv", str(venv)], dict(os.environ))
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    commands = [
        part.split()
        for line in dockerfile.instructions("RUN", "production")
        for part in line.split("&&")
        if part.split()[:2] == ["pip", "install"]
    ]
    assert len(commands) == 2, commands  # the pinned requirements, then the package
    for command in commands:
        cached = [word for word in command[1:] if word != "--no-cache-dir"]
        installed = run([python, "-m", "pip", "-q", *cached], dict(os.environ), cwd=context,
                        timeout=600)  # fmt: skip
        assert installed.returncode == 0, installed.stderr
    return venv / "bin"


@pytest.fixture
async def production_database(server_uri: str) -> str:
    """An empty database of its own; `serve` migrates it."""
    return await empty_database(server_uri, "vastfolket_production")


def python_in(bin_dir: Path, code: str) -> subprocess.CompletedProcess:
    return run([str(bin_dir / "python"), "-c", code], dict(os.environ), cwd="/")


def not_installed(bin_dir: Path) -> set[str]:
    """What the package asks for and the install lacks, as `pip check` finds; nothing else
    may be amiss."""
    checked = run([str(bin_dir / "python"), "-m", "pip", "check"], dict(os.environ))
    lacking = re.findall(r"^vastfolket-api 0\.1\.0 requires (\S+), which is not installed\.$",
                         checked.stdout, flags=re.M)  # fmt: skip
    assert len(lacking) == len(checked.stdout.splitlines()), checked.stdout
    return set(lacking)


def production_env(bin_dir: Path, image: Dockerfile, **settings: str) -> dict[str, str]:
    """The image's environment, with the install's `vastfolket` on PATH."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VASTFOLKET"))}
    base["PATH"] = os.pathsep.join([str(bin_dir), base["PATH"]])
    return {**base, **image.env, "VASTFOLKET_WORKERS": "1", **settings}
