"""docker/ is true to itself: the image's start command, compose's settings, the context.

No Docker engine here: the image's start command runs directly, with the environment
the Dockerfile and compose give it, against a fresh database on the test server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml

from api.database import ensure_database
from tests.running import SCRIPT, Server, free_port, run, scratch_dir

ROOT = Path(__file__).resolve().parent.parent
DOCKER = ROOT / "docker"


class Dockerfile:
    def __init__(self, path: Path) -> None:
        text = re.sub(r"\\\n", " ", path.read_text())  # continuation lines joined
        self.lines = [line.strip() for line in text.splitlines() if line.strip()]
        self.env: dict[str, str] = {}
        for line in self.instructions("ENV"):
            self.env.update(pair.split("=", 1) for pair in line.split())
        self.command: list[str] = json.loads(next(self.instructions("CMD")))
        self.exposed = {int(port) for line in self.instructions("EXPOSE") for port in line.split()}
        self.copied = [line.split()[:-1] for line in self.instructions("COPY")]
        self.stages: dict[str, list[str]] = {}  # by name ("" unnamed), from their FROM on
        stage: list[str] = []
        for line in self.lines:
            if line.startswith("FROM "):
                words = line.split()
                stage = self.stages.setdefault(words[3] if len(words) == 4 else "", [])
            stage.append(line)
        # What a plain `docker build` makes: the last stage, here the bare FROM of another.
        self.default = self.stages[""][0].split()[1] if "" in self.stages else None

    def instructions(self, name: str, stage: str | None = None) -> Iterator[str]:
        lines = self.lines if stage is None else self.stages[stage]
        return (line[len(name) :].strip() for line in lines if line.startswith(name + " "))


def option(command: list[str], name: str) -> str:
    return command[command.index(name) + 1]


@pytest.fixture(scope="module")
def image() -> Dockerfile:
    return Dockerfile(DOCKER / "Dockerfile")


@pytest.fixture(scope="module")
def api_service() -> dict:
    return dict(yaml.safe_load((DOCKER / "compose.yaml").read_text())["services"]["api"])


def test_compose_and_the_image_agree(image: Dockerfile, api_service: dict) -> None:
    env = {**image.env, **api_service["environment"]}
    port = int(option(image.command, "--port"))
    assert port in image.exposed
    assert [mapping.split(":")[-1] for mapping in api_service["ports"]] == [str(port)]
    assert f":{port}/readyz" in " ".join(api_service["healthcheck"]["test"])
    # The key file the setting names is the one mounted, from where `vastfolket keys` writes.
    mounts = {volume["target"]: volume for volume in api_service["volumes"]}
    mount = mounts[env["VASTFOLKET_JWT_PUBLIC_KEYS"]]
    assert (DOCKER / mount["source"]).resolve() == DOCKER / "keys" / "public-keys.jwks.json"
    assert mount["read_only"] and mount["bind"]["create_host_path"] is False
    # The workers compose's comment names are the workers it runs.
    header = (DOCKER / "compose.yaml").read_text().split("services:")[0]
    said = re.search(r"(\d+) workers", header)
    assert said is not None and int(said.group(1)) == int(env["VASTFOLKET_WORKERS"])
    assert (DOCKER / api_service["build"]["context"]).resolve() == ROOT
    # A plain build is the production image; compose's adds what its demo register needs.
    assert image.default == "production"
    assert api_service["build"]["target"] in image.stages


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last pattern matching the path or a parent decides."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        regex = re.escape(pattern.lstrip("!").strip("/"))
        regex = regex.replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        parts = path.split("/")
        if any(re.fullmatch(regex, "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def test_the_build_context_holds_only_what_the_image_needs(image: Dockerfile) -> None:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    kept_out = [
        ".venv/bin/python",
        ".vastfolket/pgdata/PG_VERSION",
        ".vastfolket/dev-signing-key.pem",
        "docker/keys/signing-key.pem",
        ".git/HEAD",
        "tests/bench/peer/node_modules/x.js",
        "api/__pycache__/app.cpython-311.pyc",
        "vastfolket_api.egg-info/PKG-INFO",
        "build/lib/api/app.py",
    ]
    assert [path for path in kept_out if not dockerignored(path, patterns)] == []
    copied = [
        file.relative_to(ROOT).as_posix()
        for sources in image.copied
        for source in sources
        for file in ([ROOT / source] if (ROOT / source).is_file() else (ROOT / source).rglob("*"))
        if file.is_file() and "__pycache__" not in file.parts
    ]
    assert "api/static/vendor/graphiql@3.8.3/graphiql.min.js" in copied
    assert [path for path in copied if dockerignored(path, patterns)] == []


async def empty_database(server_uri: str, name: str) -> str:
    """Database ``name`` made anew on the test server, not even migrated; its URI."""
    admin = await asyncpg.connect(server_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()
    return await ensure_database(server_uri, name)


@pytest.fixture
async def fresh_database(server_uri: str) -> str:
    """An empty database, as compose's PostgreSQL starts."""
    return await empty_database(server_uri, "vastfolket_compose")


def container_env(image: Dockerfile, api_service: dict, **overrides: str) -> dict[str, str]:
    """The start command's environment: the image's, then compose's, then ``overrides``;
    `vastfolket` on PATH as pip installs it in the image."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "VASTFOLKET"))}
    base["PATH"] = os.pathsep.join([str(SCRIPT.parent), base["PATH"]])
    return {**base, **image.env, **api_service["environment"], **overrides}


def started(image: Dockerfile, port: int) -> list[str]:
    """The image's start command, listening on ``port`` of the loopback only."""
    command = list(image.command)
    command[command.index("--port") + 1] = str(port)
    command[command.index("--host") + 1] = "127.0.0.1"
    return command


def test_the_start_command_serves_the_compose_stack(
    image: Dockerfile, api_service: dict, fresh_database: str
) -> None:
    with scratch_dir("compose") as workdir:
        keys = workdir / "keys"
        made = run([str(SCRIPT), "keys", str(keys)], container_env(image, api_service))
        assert made.returncode == 0, made.stderr
        env = container_env(
            image, api_service,
            DATABASE_URL=fresh_database,
            VASTFOLKET_JWT_PUBLIC_KEYS=str(keys / "public-keys.jwks.json"),  # the mount
            VASTFOLKET_DEMO_PERSONS="400",  # fewer than compose's, for time
        )  # fmt: skip
        port = free_port()
        server = Server(started(image, port), env, port, cwd=workdir).wait_ready()
        try:
            # The token the documented command mints is accepted; the demo register is there.
            signing_key = str(keys / "signing-key.pem")
            claims = ["--tier", "RELATIONS", "--sub", "tester", "--org", "1480"]
            minted = run([str(SCRIPT), "token", "--key", signing_key, *claims], env)
            assert minted.returncode == 0, minted.stderr
            examples = run([str(SCRIPT), "demo-data", "--examples"], env)
            number = json.loads(examples.stdout)["ordinary_adult"][0]
            answer = httpx.post(
                f"{server.base}/graphql",
                json={"query": "query ($p: String!) { person(personnummer: $p) { __typename } }",
                      "variables": {"p": number}},
                headers={"Authorization": f"Bearer {minted.stdout.strip()}"},
            ).json()  # fmt: skip
            assert answer["data"]["person"]["__typename"] == "Person"
        finally:
            server.stop()
    output = server.output
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert any(record["message"].startswith("Started server process") for record in records)
    assert [record for record in records if "color_message" in record] == []
    assert "\x1b[" not in output
    assert not [line for line in output.splitlines() if "uvicorn" in line and line[0] != "{"]


@pytest.mark.parametrize("entry", ["image", "factory"])
def test_a_missing_key_file_is_one_clear_line(
    image: Dockerfile, api_service: dict, fresh_database: str, entry: str
) -> None:
    """Through the image's start command, and through uvicorn's factory as docs show it."""
    missing = "/nonexistent/public-keys.jwks.json"
    env = container_env(
        image, api_service, DATABASE_URL=fresh_database, VASTFOLKET_JWT_PUBLIC_KEYS=missing
    )
    port = str(free_port())
    factory = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
               "--port", port]  # fmt: skip
    command = started(image, int(port)) if entry == "image" else factory
    result = run(command, env, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0
    assert "Traceback" not in output and "FileNotFoundError" not in output, output
    (line,) = [line for line in output.splitlines() if missing in line]
    assert "VASTFOLKET_JWT_PUBLIC_KEYS" in line and "No such file" in line, output
    assert "GraphiQL" not in output


def test_without_database_url_the_image_says_what_is_missing(
    image: Dockerfile, api_service: dict, tmp_path: Path
) -> None:
    """The image's user cannot write its working directory: no embedded server there."""
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    env = container_env(image, api_service, VASTFOLKET_DATA_DIR=str(blocked / ".vastfolket"))
    del env["DATABASE_URL"]
    keys = run([str(SCRIPT), "keys", str(tmp_path / "keys")], env)
    assert keys.returncode == 0, keys.stderr
    env["VASTFOLKET_JWT_PUBLIC_KEYS"] = str(tmp_path / "keys" / "public-keys.jwks.json")
    result = run(started(image, free_port()), env, timeout=60)
    output = (result.stdout + result.stderr).strip()
    assert result.returncode != 0 and "Traceback" not in output, output
    assert len(output.splitlines()) == 1, output
    assert "VASTFOLKET_DATA_DIR" in output and "DATABASE_URL is not set" in output


def test_a_token_for_a_server_with_configured_keys_needs_their_key(
    image: Dockerfile, api_service: dict
) -> None:
    """A development token would be refused there: `token` says so instead of printing one."""
    env = container_env(image, api_service)
    result = run([str(SCRIPT), "token", "--tier", "BASIC", "--sub", "x"], env)
    assert result.returncode != 0 and "--key" in result.stderr, result.stdout


def test_compose_runs_a_job_worker_sharing_the_apis_files(
    image: Dockerfile, api_service: dict, fresh_database: str
) -> None:
    services = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    worker = services["services"]["worker"]
    assert worker["command"] == ["vastfolket", "worker"]
    assert worker["build"]["context"] == api_service["build"]["context"]
    assert worker["environment"]["DATABASE_URL"] == api_service["environment"]["DATABASE_URL"]
    # One named volume, mounted where each service's settings put the files.
    for service in (api_service, worker):
        files = {**image.env, **service["environment"]}["VASTFOLKET_SELECTION_FILES_DIR"]
        (mount,) = [v for v in service["volumes"] if v["type"] == "volume"]
        assert (mount["source"], mount["target"]) == ("selections", files)
    assert "selections" in services["volumes"]
    assert any(files in line and "install -d -o vastfolket" in line
               for line in image.instructions("RUN"))  # fmt: skip
    # Its command, with its environment, runs orders; SIGTERM stops it cleanly.
    with scratch_dir("compose-worker") as workdir:
        env = container_env(
            image, worker, DATABASE_URL=fresh_database,
            VASTFOLKET_SELECTION_FILES_DIR=str(workdir / "selections"),  # the volume
        )  # fmt: skip
        command = [str(SCRIPT), *worker["command"][1:]]
        running = Server(command, env, 0, cwd=workdir)
        try:
            running.read_until("selection worker started", timeout=60)
        finally:
            status = running.stop(signal.SIGTERM)
    assert status == 0, running.output
