"""The command line, run as a user runs it: a real process, a real server."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from resolvers.domain.personnummer import parse
from tests.running import Server, free_port, newcomer_env, running


def vastfolket(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "api", *args],
        env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The environment of a newcomer: no DATABASE_URL, a data directory of their own."""
    yield newcomer_env(tmp_path_factory.mktemp("install") / ".vastfolket")


@pytest.fixture(scope="module")
def server(fresh_install: dict[str, str]) -> Iterator[Server]:
    """`vastfolket serve` on the embedded default."""
    port = free_port()
    server = Server(
        [sys.executable, "-m", "api", "serve", "--port", str(port)], fresh_install, port
    )
    try:
        yield server.wait_ready()
        beside = psutil.Process(server.process.pid).children(recursive=True)
    finally:
        assert server.stop() == 0, server.output
    pgdata = Path(fresh_install["VASTFOLKET_DATA_DIR"]) / "pgdata"
    assert not (pgdata / "postmaster.pid").exists(), "the embedded server was not stopped"
    assert not [child for child in beside if running(child.pid)], "a process outlived serve"


@pytest.fixture(scope="module")
def served(server: Server) -> str:
    """The base URL of that server."""
    return server.base


def test_serve_prints_graphiql_url_and_a_token_that_works(
    served: str, fresh_install: dict[str, str]
) -> None:
    base = served
    # The token the user copies: minted by `vastfolket token`, signed by the same key.
    token = vastfolket("token", "--tier", "RELATIONS", "--sub", "newcomer", env=fresh_install)
    examples = json.loads(vastfolket("demo-data", "--examples", env=fresh_install))
    child = examples["child_with_two_guardians"][0]
    query = """query ($p: String!) { person(personnummer: $p) {
        ... on Person { lastName guardians { person { lastName } } } } }"""
    response = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": {"p": parse(child).short()}},
        headers={"Authorization": f"Bearer {token.strip()}"},
    )
    person = response.json()["data"]["person"]
    assert person["lastName"] and len(person["guardians"]) == 2
    page = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    assert parse(child).short() in page.text  # the default query uses a real number


def test_serve_output_names_graphiql_and_a_development_token(
    fresh_install: dict[str, str], served: str
) -> None:
    """A second `serve` on the same data directory prints a token the first accepts."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=fresh_install, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "Try the samordningsnummer" in line:
            break
    text = "".join(lines)
    simulator = re.search(r"Skatteverket simulator \(the fallback\): (\S+)", text)
    assert simulator is not None, text
    examples = httpx.get(f"{simulator.group(1)}/admin/examples").json()  # it runs beside
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert re.search(rf"http://localhost:{port}/graphql\?headers=", text)
    token = re.search(r"Development token, tier RELATIONS, valid 8 h: (\S+)", text)
    assert token is not None
    response = httpx.post(
        f"{served}/graphql",
        json={"query": "{ viewer { tier organisation } }"},
        headers={"Authorization": f"Bearer {token.group(1)}"},
    )
    assert response.json()["data"]["viewer"] == {"tier": "RELATIONS", "organisation": "1480"}
    with pytest.raises(httpx.ConnectError):  # and stopped with serve
        httpx.get(f"{simulator.group(1)}/admin/examples")

    # The number the banner names is answered by the fallback of the first server.
    number = re.search(r"Try the samordningsnummer (\S+);", text)
    assert number is not None and parse(number.group(1)).digits in examples["coordination_number"]
    query = """query ($p: String!) { person(personnummer: $p) {
        ... on Person { isCoordinationNumber lastName source fetchedAt } } }"""
    response = httpx.post(
        f"{served}/graphql",
        json={"query": query, "variables": {"p": number.group(1)}},
        headers={"Authorization": f"Bearer {token.group(1)}"},
    )
    person = response.json()["data"]["person"]
    assert person["isCoordinationNumber"] is True
    assert person["source"] == "SKATTEVERKET" and person["lastName"] and person["fetchedAt"]


def test_the_first_start_imported_the_demo_from_navet_files_it_kept(
    server: Server, fresh_install: dict[str, str]
) -> None:
    """The files are where the first start said, and the ones the import ledger holds."""
    navet = Path(fresh_install["VASTFOLKET_DATA_DIR"]) / "navet"
    said = server.output
    assert "Demo register" in said and "Loaded a demo register of 600 persons" in said, said
    assert f"Navet files in {navet}\n" in said
    files = sorted(navet.glob("navet-*.xml"))
    assert [path.name.split("-")[2] for path in files] == ["grunduttag"] + ["andring"] * 4
    again = subprocess.run(
        [sys.executable, "-m", "api", "import", *map(str, files)],
        env=fresh_install, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already applied") == len(files)


def test_serve_answers_an_overlong_url_in_json(served: str) -> None:
    """`serve` runs uvicorn with the API's protocol: no plain-text refusals."""
    response = httpx.get(
        f"{served}/graphql", params={"query": "{ viewer { tier } }" + " " * 65_500}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}


def test_token_command_refuses_unknown_tier(fresh_install: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api", "token", "--tier", "ADMIN", "--sub", "x"],
        env=fresh_install, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "BASIC, EXTENDED or RELATIONS" in result.stdout + result.stderr


SELECTION = """
mutation { orderSelection(criteria: {}, purpose: "Utskick", fields: [PERSONNUMMER, LAST_NAME])
           { id } }
"""


def test_serve_on_the_embedded_default_runs_selection_orders_beside_it(
    server: Server, served: str, fresh_install: dict[str, str]
) -> None:
    beside = psutil.Process(server.process.pid).children(recursive=True)
    assert [child for child in beside if child.cmdline()[-1:] == ["worker"]]
    token = vastfolket(
        "token", "--tier", "BASIC", "--sub", "urval", "--org", "1480", "--role", "selection",
        env=fresh_install,
    ).strip()  # fmt: skip
    headers = {"Authorization": f"Bearer {token}"}

    def ask(query: str) -> dict:
        answer = httpx.post(f"{served}/graphql", json={"query": query}, headers=headers).json()
        assert "errors" not in answer, answer
        return dict(answer["data"])

    count = ask("{ selectionPreview(criteria: {}) { count } }")["selectionPreview"]["count"]
    order_id = ask(SELECTION)["orderSelection"]["id"]
    deadline = time.monotonic() + 120
    while (order := ask(f'{{ selectionOrder(id: "{order_id}") {{ status rowCount }} }}'))[
        "selectionOrder"
    ]["status"] in ("QUEUED", "RUNNING"):
        assert time.monotonic() < deadline, server.output
        time.sleep(0.2)
    assert order["selectionOrder"] == {"status": "DONE", "rowCount": count}
    assert count > 0
    response = httpx.get(f"{served}/selections/{order_id}/file", headers=headers)
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "personnummer;lastName" and len(lines) == count + 1
