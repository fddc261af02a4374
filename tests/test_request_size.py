"""Every size limit of a request answers as documented: JSON with a code, before any work.

Through the app (as every test) and through the real server — uvicorn with the API's
protocol, in a process of its own — since uvicorn reads URL and headers, and refuses
some, before the app sees them.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from resolvers.domain.access import Tier
from tests.conftest import Api
from tests.running import Server, free_port, fresh_env

ROOT = Path(__file__).resolve().parent.parent
QUERY = "{ viewer { subject } }"


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": code}, error
    assert error["message"]


async def test_oversized_headers_are_refused_before_the_token_is_read(api: Api) -> None:
    """An 8 MB token used to be decoded (and refused, 401) before anything looked at its size."""
    huge = await api.client.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": "Bearer " + "a" * 8_000_000}
    )
    assert_refused(huge, 431, "REQUEST_HEADER_TOO_LARGE")
    assert huge.headers["x-request-id"]
    many = {f"x-padding-{i}": "b" * 1000 for i in range(20)}  # 20 kB in all
    assert_refused(await api.client.get("/healthz", headers=many), 431, "REQUEST_HEADER_TOO_LARGE")
    token = {"Authorization": f"Bearer {api.token(Tier.BASIC)}"}
    ordinary = await api.client.post("/graphql", json={"query": QUERY}, headers=token)
    assert ordinary.json() == {"data": {"viewer": {"subject": "tester"}}}


# The longest URL parts httpx sends (64 KiB each): over the URL's limit, 65 535 bytes.
LONG_PATH = "/" + "p" * 65_535
LONG_QUERY = {"query": QUERY + " " * 65_500}


async def test_an_overlong_url_is_refused(api: Api) -> None:
    assert_refused(await api.client.get(LONG_PATH), 414, "URI_TOO_LONG")
    # A query string is a GET request's body: too long, it is answered as one.
    assert_refused(await api.client.get("/graphql", params=LONG_QUERY), 413, "PAYLOAD_TOO_LARGE")


@pytest.fixture(scope="module")
def server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The production command: uvicorn on the app factory, with the API's protocol."""
    env = fresh_env(tmp_path_factory.mktemp("s"), DATABASE_URL=database_url)
    port = free_port()
    command = ["uvicorn", "api.app:create_app", "--factory", "--port", str(port)]
    server = Server(
        [sys.executable, "-m", *command, "--http", "api.server:HttpProtocol", "--no-access-log"],
        env, port, cwd=ROOT,
    )  # fmt: skip
    try:
        yield server.wait_ready(timeout=60).base
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def test_the_server_answers_an_overlong_url_as_documented(server: str) -> None:
    """httptools cannot read a URL over 65 535 bytes: uvicorn answered a plain-text 400."""
    assert_refused(httpx.get(f"{server}/graphql", params=LONG_QUERY), 413, "PAYLOAD_TOO_LARGE")
    # Longer URLs than httpx sends, and not read to their end:
    for target, status, code in (
        (b"/graphql?query=" + b"+" * 200_000, b"413", b"PAYLOAD_TOO_LARGE"),
        (b"/" + b"p" * 200_000, b"414", b"URI_TOO_LONG"),
    ):
        answer = raw(server, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer
        assert b'"code":"' + code + b'"' in answer, answer


def test_the_server_refuses_oversized_headers_as_documented(server: str) -> None:
    headers = {"Authorization": "Bearer " + "a" * 40_000}
    assert_refused(httpx.get(f"{server}/graphql?query={QUERY}", headers=headers), 431,
                   "REQUEST_HEADER_TOO_LARGE")  # fmt: skip
    many = {f"x-padding-{i}": "b" * 1000 for i in range(20)}
    assert_refused(httpx.get(f"{server}/healthz", headers=many), 431, "REQUEST_HEADER_TOO_LARGE")
    assert httpx.get(f"{server}/healthz").json() == {"status": "ok"}


def test_the_server_stops_reading_a_header_past_the_limit(server: str) -> None:
    """An 8 MB header is not read into memory: the refusal comes after its first part."""
    answer = raw(server, b"GET /healthz HTTP/1.1\r\nAuthorization: Bearer " + b"a" * 8_000_000)
    assert answer.startswith(b"HTTP/1.1 431 "), answer
    assert b'"code":"REQUEST_HEADER_TOO_LARGE"' in answer, answer


def test_the_server_answers_unreadable_requests_in_json(server: str) -> None:
    answer = raw(server, b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert b'"code":"BAD_REQUEST"' in answer, answer


def raw(server: str, request: bytes) -> bytes:
    """Send bytes no HTTP client would send, as far as the server reads them; its answer."""
    with socket.create_connection(("127.0.0.1", int(server.rsplit(":", 1)[1]))) as connection:
        connection.settimeout(10)
        try:
            for start in range(0, len(request), 65_536):
                connection.sendall(request[start : start + 65_536])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused, and closed, before all was sent
        return connection.recv(65_536)
