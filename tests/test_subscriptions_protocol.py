"""The WebSocket's protocol and bounds, through the real server: graphql-transport-ws
only, the token in connection_init (and its expiry), the protocol's close codes, the
caps on subscriptions and connections, what is refused as input, and HTTP's answer to a
subscription."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import Api
from tests.importing import apply, changes, record
from tests.subscribing import FOLLOW, Served, connected, following, fresh_numbers, serving


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_ws_protocol") as running:
        yield running


@pytest.mark.parametrize("offered", [("graphql-ws",), None], ids=["graphql-ws", "none"])
async def test_only_graphql_transport_ws_is_served(
    served: Served, offered: tuple[str, ...] | None
) -> None:
    async with connected(served.server, subprotocols=offered) as subscriber:
        assert subscriber.connection.subprotocol is None
        code, reason = await subscriber.closed()
    assert code == 4406 and "graphql-transport-ws" in str(reason)


def _bearer(served: Served, **claims: object) -> dict:
    return {"Authorization": f"Bearer {served.token('tokens', **claims)}"}


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (None, "no token"),
        ({"Authorization": "Bearer not.a.token"}, "invalid"),
        ({"Authorization": "Basic dXNlcjpwdw=="}, "Bearer <token>"),
        ({"token": ""}, "no token"),
        ("expired", "expired"),
    ],
    ids=["none", "not a token", "not bearer", "empty", "expired"],
)
async def test_without_a_valid_token_the_connection_is_closed_4403(
    served: Served, payload: object, why: str
) -> None:
    if payload == "expired":
        payload = _bearer(served, ttl=-5)
    async with connected(served.server) as subscriber:
        init = {"type": "connection_init"} if payload is None else {
            "type": "connection_init", "payload": payload}  # fmt: skip
        await subscriber.send(init)
        code, reason = await subscriber.closed()
    assert code == 4403 and why in str(reason), reason


async def test_the_token_may_come_as_token(served: Served) -> None:
    async with connected(served.server) as subscriber:
        assert await subscriber.init({"token": served.token("plain")}) == {"type": "connection_ack"}
        await subscriber.send({"type": "ping"})
        assert await subscriber.receive() == {"type": "pong"}


async def test_a_token_expiring_while_subscribed_closes_the_connection_4403(
    served: Served,
) -> None:
    (person,) = fresh_numbers(1)
    async with following(served.server, served.token("brief", ttl=3)) as subscriber:
        await subscriber.follow("1")
        await apply(served.owner_url, changes(record(person, 1)))
        [event] = await subscriber.events("1", 1)  # served while the token holds
        assert event["personnummer"] == person
        code, reason = await subscriber.closed(timeout=5)
    assert code == 4403 and "expired" in str(reason)


async def test_the_protocol_close_codes(served: Served) -> None:
    bearer = served.token("codes")
    async with following(served.server, bearer) as subscriber:  # a second init
        await subscriber.send({"type": "connection_init", "payload": {"token": bearer}})
        assert (await subscriber.closed())[0] == 4429
    async with connected(served.server) as subscriber:  # subscribe before init
        await subscriber.subscribe("1")
        assert (await subscriber.closed())[0] == 4401
    async with connected(served.server) as subscriber:  # no init at all (2 s here)
        assert (await subscriber.closed(timeout=5))[0] == 4408
    async with following(served.server, bearer) as subscriber:  # an id taken
        await subscriber.subscribe("1")
        await subscriber.subscribe("1")
        assert (await subscriber.closed())[0] == 4409


@pytest.mark.parametrize(
    ("message", "why"),
    [
        ([1, 2], "JSON object"),
        ({"type": "subscribe", "id": 7, "payload": {"query": FOLLOW}}, "'id'"),
        ({"type": "subscribe", "id": "1", "payload": "subscription { x }"}, "'payload'"),
        ({"type": "complete", "id": ["1"]}, "'id'"),
        ({"type": "nonsense"}, "Unknown message type"),
    ],
    ids=["not an object", "id a number", "payload a string", "complete id a list", "type"],
)
async def test_a_message_of_the_wrong_shape_closes_4400_saying_why(
    served: Served, message: object, why: str
) -> None:
    async with following(served.server, served.token("shapes")) as subscriber:
        await subscriber.send(message)  # type: ignore[arg-type]
        code, reason = await subscriber.closed()
    assert code == 4400 and why in str(reason), reason


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"query": 5}, "BAD_REQUEST"),
        ({"query": FOLLOW, "variables": "x"}, "BAD_REQUEST"),
        ({"query": FOLLOW, "operationName": ["Follow"]}, "BAD_REQUEST"),
        ({"query": "subscription { changes {"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "subscription { changes { nonsense } }"}, "GRAPHQL_VALIDATION_FAILED"),
        ({"query": FOLLOW, "variables": {"after": "abc"}}, "BAD_USER_INPUT"),
        ({"query": "mutation { x }"}, "GRAPHQL_VALIDATION_FAILED"),
    ],
    ids=["query a number", "variables a string", "operationName a list", "syntax",
         "unknown field", "not a cursor", "mutation"],
)  # fmt: skip
async def test_an_operation_refused_gets_an_error_with_its_code_and_the_connection_stays(
    served: Served, payload: dict, code: str
) -> None:
    async with following(served.server, served.token("refused")) as subscriber:
        await subscriber.send({"id": "1", "type": "subscribe", "payload": payload})
        message = await subscriber.receive()
        assert message["type"] == "error" and message["id"] == "1", message
        assert [error["extensions"]["code"] for error in message["payload"]] == [code]
        await subscriber.send({"type": "ping"})
        assert await subscriber.receive() == {"type": "pong"}


async def test_a_query_over_the_websocket_is_answered_once(served: Served) -> None:
    async with following(served.server, served.token("asker")) as subscriber:
        await subscriber.subscribe("q", "query { changesHead }")
        answer = await subscriber.receive()
        assert answer["type"] == "next" and answer["payload"]["data"]["changesHead"]
        assert await subscriber.receive() == {"id": "q", "type": "complete"}


async def test_a_connection_runs_at_most_its_cap_of_subscriptions(served: Served) -> None:
    (person,) = fresh_numbers(1)
    async with following(served.server, served.token("many")) as subscriber:
        head = await subscriber.head()
        for ident in ("1", "2", "3"):
            await subscriber.subscribe(ident, after=head)
        await subscriber.subscribe("4", after=head)
        refused = await subscriber.receive()
        assert refused["type"] == "error" and refused["id"] == "4", refused
        assert refused["payload"][0]["extensions"] == {
            "code": "TOO_MANY_SUBSCRIPTIONS", "maximum": 3}  # fmt: skip
        await subscriber.send({"id": "1", "type": "complete"})
        await subscriber.subscribe("4", after=head)  # room again
        await apply(served.owner_url, changes(record(person, 1)))
        received = {(await subscriber.receive())["id"] for _ in range(3)}
        assert received == {"2", "3", "4"}


async def test_a_caller_holds_at_most_its_cap_of_connections(served: Served) -> None:
    bearer = served.token("busy")
    async with following(served.server, bearer), following(served.server, bearer):
        async with connected(served.server) as third:
            await third.send({"type": "connection_init", "payload": {"token": bearer}})
            code, reason = await third.closed()
        assert code == 4430 and "2 per caller" in str(reason)
        async with following(served.server, served.token("other")):  # another caller
            pass
    for _ in range(50):  # once the server has seen them close
        async with connected(served.server) as again:
            with contextlib.suppress(ConnectionClosed):
                if await again.init({"token": bearer}) == {"type": "connection_ack"}:
                    return
        await asyncio.sleep(0.1)
    raise AssertionError("the caller's connections were not released")


async def test_a_subscription_over_http_is_refused_pointing_to_the_websocket(api: Api) -> None:
    response = await api.post("subscription { changes { cursor } }")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "WebSocket" in error["message"] and "graphql-transport-ws" in error["message"]


def test_websockets_leave_room_for_http_and_its_health_checks(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """With room for four connections, two WebSockets at most: the third is told to try
    again later, and HTTP (a health check, a lookup) is still answered."""
    settings = {"VASTFOLKET_MAX_CONNECTIONS": "4", "VASTFOLKET_WS_MAX_CONNECTIONS_PER_CALLER": "9"}
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_ws_room", **settings) as served:
        asyncio.run(_crowd(served))


async def _crowd(served: Served) -> None:
    async with (
        following(served.server, served.token("a")),
        following(served.server, served.token("b")),
    ):
        async with connected(served.server) as third:
            code, reason = await third.closed()
        assert code == 1013 and "try again" in str(reason)
        async with httpx.AsyncClient(base_url=served.server.base) as http:
            assert (await http.get("/healthz")).status_code == 200


async def test_an_authorization_header_on_the_upgrade_is_not_read(served: Served) -> None:
    """The token is read from connection_init only: a header on the upgrade request, good
    or bad, is neither a way in nor a refusal without a reason."""
    bad = {"additional_headers": {"Authorization": "Bearer not-a-token"}}
    async with connected(served.server, **bad) as subscriber:
        ack = await subscriber.init({"Authorization": f"Bearer {served.token('header')}"})
        assert ack == {"type": "connection_ack"}
    good = {"additional_headers": {"Authorization": f"Bearer {served.token('header')}"}}
    async with connected(served.server, **good) as subscriber:
        await subscriber.send({"type": "connection_init", "payload": {}})
        code, _ = await subscriber.closed()
    assert code == 4403
