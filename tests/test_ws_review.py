"""Attacks on the WebSocket, through the real server: a client that pings and reads
nothing, a `complete` while events stream, every token HTTP refuses, and lookups sent
over the WebSocket instead of HTTP.

A subscription the client completed sends nothing more, reads nothing more, and logs
nothing more — also once its connection is gone; the protocol's own answers (pongs) to a
client that reads nothing are bounded in memory; the token of `connection_init` is
refused for every reason a bearer token is; a query answers, refuses and logs as over
HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import psutil
import pytest
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response
from websockets.uri import parse_uri

from api.settings import Settings
from resolvers.domain.access import Tier
from tests.importing import apply, changes, record
from tests.subscribing import (
    PROTOCOL,
    Served,
    connected,
    following,
    fresh_numbers,
    owner,
    serving,
    small_receive_buffer,
)
from tests.test_limits import nested_relations
from tests.test_tokens import ATTACKS

__all__ = ["owner"]  # a fixture of tests/subscribing.py

# About a kilobyte an event: the buffers between server and client hold a few hundred.
BULKY = (
    "subscription ($after: String) { changes(after: $after) { "
    + " ".join(f"p{n}: personnummer" for n in range(45))
    + " } }"
)
BATCH = 500  # events a subscription reads at once (schema.changes.feed)
LOGGED = "SELECT count(*) FROM access_log WHERE subject = $1 AND personnummer = ANY($2)"
LOOKUP = """query Look($number: String!) {
  person(personnummer: $number) {
    ... on Person { lastName } ... on ProtectedPerson { personnummer notice }
  }
}"""
ROWS = """SELECT kind, personnummer, tier, operation_name, root_fields, request_id
          FROM access_log WHERE subject = $1 ORDER BY request"""
# Each over a limit of the engine, or refused by the parser, validation or an argument.
REFUSED = {
    "aliases": "{ " + " ".join(f"a{n}: __typename" for n in range(51)) + " }",
    "depth": nested_relations(10),
    "tokens": "{ " + "__typename " * 2001 + "}",
    "syntax": "{ person(",
    "unknown field": "{ nonsense }",
}
BAD_NUMBER = '{ person(personnummer: "19801332-0000") { __typename } viewer { subject } }'


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_ws_review") as running:
        yield running


def _memory(pid: int) -> int:
    """The server's resident memory, its workers' with it."""
    server = psutil.Process(pid)
    return sum(process.memory_info().rss for process in [server, *server.children(True)])


@contextlib.contextmanager
def _opened(port: int) -> Iterator[tuple[socket.socket, ClientProtocol]]:
    """A WebSocket opened by hand (the `websockets` protocol on a socket that takes little
    before its sender must wait), so that the client can send without ever reading."""
    uri = parse_uri(f"ws://127.0.0.1:{port}/graphql")
    protocol = ClientProtocol(uri, subprotocols=[PROTOCOL])  # type: ignore[list-item]
    protocol.send_request(protocol.connect())
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        sock.sendall(b"".join(protocol.data_to_send()))
        while not any(isinstance(event, Response) for event in protocol.events_received()):
            byte = sock.recv(1)  # the handshake's answer, and no further
            assert byte, "the server closed during the handshake"
            protocol.receive_data(byte)
        assert protocol.handshake_exc is None, protocol.handshake_exc
        yield sock, protocol


def test_a_client_that_pings_and_reads_nothing_is_dropped_before_its_pongs_pile_up(
    served: Served,
) -> None:
    """No token is needed to ping. Each ping is answered by the protocol itself; a pong
    that is not read waits in the server's memory. Unbounded, a client that only pings
    made the server hold hundreds of MB until the slow-reader bound (11 s here) ended it."""
    pid = served.server.process.pid
    before = _memory(pid)
    with _opened(served.server.port) as (sock, protocol):
        for _ in range(500):
            protocol.send_ping(b"x" * 125)  # the most a ping carries
        pings = b"".join(protocol.data_to_send())
        sock.settimeout(1)
        sent, deadline = 0, time.monotonic() + 8
        with contextlib.suppress(OSError):  # reset: the server dropped the connection
            while time.monotonic() < deadline:
                with contextlib.suppress(TimeoutError):
                    sock.sendall(pings)
                    sent += len(pings)
        grown = _memory(pid) - before
    assert time.monotonic() < deadline, f"still connected after 8 s, having sent {sent} bytes"
    assert sent < 8 * 2**20, sent  # a few thousand pings' worth of room, then dropped
    assert grown < 64 * 2**20, f"the server grew by {grown / 2**20:.0f} MiB"


async def test_complete_ends_a_subscription_while_events_stream_to_it(
    served: Served, owner: asyncpg.Connection
) -> None:
    """`complete` ends the subscription at once: the client still receives what was on
    its way (the rest of a batch, in the buffers), not the rest of the feed. A cancel
    that came as a send finished was swallowed (Python 3.11's wait_for): the subscription
    went on uncounted by the cap, sent every event for the completed id, and once the
    connection was gone logged the next event as shown to a client that was not there."""
    persons = fresh_numbers(4 * BATCH)
    records = [record(person, post_id) for post_id, person in enumerate(persons, 1)]
    subject = "completes"
    with small_receive_buffer(served.server.port) as sock:
        async with following(
            served.server, served.token(subject), sock=sock, max_queue=1, compression=None
        ) as subscriber:
            start = await subscriber.head()
            await apply(served.owner_url, changes(*records))
            await subscriber.subscribe("1", BULKY, after=start)
            for _ in range(50):
                assert (await subscriber.receive())["id"] == "1"
            await subscriber.send({"id": "1", "type": "complete"})
            after = 0
            with contextlib.suppress(TimeoutError):
                while True:
                    message = await subscriber.receive(1.5)
                    assert message["id"] == "1" and message["type"] == "next", message
                    after += 1
    assert after < 2 * BATCH, f"{after} events came after the complete"
    # Read and logged before the complete: the batch on its way and the one being sent.
    assert await owner.fetchval(LOGGED, subject, persons) <= 2 * BATCH
    (later,) = fresh_numbers(1)
    await apply(served.owner_url, changes(record(later, 1)))
    await asyncio.sleep(2.5)  # past a tick (1 s), and the notification's wake-up
    assert await owner.fetchval(LOGGED, subject, [later]) == 0


@pytest.mark.parametrize("attack", ATTACKS)
async def test_every_token_http_refuses_closes_the_websocket_4403(
    served: Served, attack: str
) -> None:
    """The WebSocket verifies its token as HTTP does (tests/test_tokens.py): the same
    tokens are refused, and the reason says why."""
    token = ATTACKS[attack](Settings(data_dir=Path(served.data_dir)))
    async with connected(served.server) as subscriber:
        await subscriber.send({"type": "connection_init", "payload": {"token": token}})
        try:
            message = await subscriber.receive()
        except ConnectionClosed as closed:
            frame = closed.rcvd
        else:
            raise AssertionError(f"accepted: {message}")
    assert frame is not None and frame.code == 4403, frame
    assert frame.reason.startswith("Forbidden: the token"), frame.reason


async def _over_websocket(served: Served, bearer: str, query: str, **variables: object) -> dict:
    """The one answer of a query sent on a connection: ``next``'s payload, or an ``error``
    message's errors as HTTP gives them (``{"data": None, "errors": [...]}``)."""
    async with following(served.server, bearer) as subscriber:
        await subscriber.subscribe("q", query, **variables)
        message = await subscriber.receive()
        if message["type"] == "error":
            return {"data": None, "errors": message["payload"]}
        assert message["type"] == "next", message
        assert await subscriber.receive() == {"id": "q", "type": "complete"}
        return dict(message["payload"])


async def _over_http(served: Served, bearer: str, query: str, **variables: object) -> dict:
    async with httpx.AsyncClient(base_url=served.server.base) as client:
        response = await client.post(
            "/graphql", json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {bearer}"},
        )  # fmt: skip
    return dict(response.json())


async def test_a_lookup_over_the_websocket_answers_and_logs_as_over_http(
    served: Served, owner: asyncpg.Connection
) -> None:
    """Also a protected person: the notice only, logged PROTECTED, whichever way asked."""
    shown, protected = fresh_numbers(2)
    await apply(served.owner_url, changes(
        record(shown, 1), record(protected, 2, protection="SKYDDAD_FOLKBOKFORING")))  # fmt: skip
    answers = {}
    for way, ask in (("ws", _over_websocket), ("http", _over_http)):
        bearer = served.token(f"lookup-{way}", tier=Tier.RELATIONS, roles=())
        answers[way] = [await ask(served, bearer, LOOKUP, number=n) for n in (shown, protected)]
    assert answers["ws"] == answers["http"]
    assert answers["ws"][0] == {"data": {"person": {"lastName": "Svensson"}}}
    assert set(answers["ws"][1]["data"]["person"]) == {"personnummer", "notice"}
    logged = {way: await owner.fetch(ROWS, f"lookup-{way}") for way in ("ws", "http")}
    for way, rows in logged.items():
        assert [(row["kind"], row["personnummer"]) for row in rows] == [
            ("SEEN", shown), ("PROTECTED", protected)], way  # fmt: skip
        assert {(row["tier"], row["operation_name"], row["root_fields"]) for row in rows} == {
            ("RELATIONS", "Look", "person")}  # fmt: skip
        assert len({row["request_id"] for row in rows}) == 2  # one per operation


@pytest.mark.parametrize("refused", REFUSED)
async def test_a_query_refused_over_http_is_refused_alike_over_the_websocket(
    served: Served, refused: str
) -> None:
    """The same limits, the same errors, the same codes."""
    bearer = served.token("limits", tier=Tier.RELATIONS, roles=())
    over_http = await _over_http(served, bearer, REFUSED[refused])
    over_websocket = await _over_websocket(served, bearer, REFUSED[refused])
    assert over_websocket == over_http
    assert over_websocket["data"] is None and over_websocket["errors"], over_websocket


async def test_a_field_error_over_http_is_answered_alike_over_the_websocket(
    served: Served,
) -> None:
    """A malformed number fails its lookup only, the same way on both."""
    bearer = served.token("limits", tier=Tier.RELATIONS, roles=())
    over_http = await _over_http(served, bearer, BAD_NUMBER)
    assert await _over_websocket(served, bearer, BAD_NUMBER) == over_http
    assert over_http["data"] == {"person": None, "viewer": {"subject": "limits"}}
    [error] = over_http["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["person"], "BAD_USER_INPUT")
