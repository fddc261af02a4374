"""The typed client before answers that are not the API's: a proxy or gateway between it
and the API answering JSON of its own. Each is an `UnexpectedResponse` (over WebSocket a
`VastfolketError`) saying what came, never an AttributeError from inside the client."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import aclosing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from vastfolket_client import Client
from vastfolket_client.errors import ApiError, UnexpectedResponse, VastfolketError
from websockets.asyncio.server import ServerConnection, serve

# What gateways and proxies answer with, in JSON that is no GraphQL response.
NOT_GRAPHQL = [
    b'{"errors": "upstream timed out"}',
    b'{"errors": {"message": "rate limited"}}',
    b'{"errors": ["rate limited"]}',
    b'{"errors": [{"message": "denied", "extensions": "policy"}]}',
    b'{"errors": [{"message": "denied", "path": "person"}]}',
]


@contextmanager
def answering(body: bytes, status: int = 502) -> Iterator[str]:
    """An HTTP server on this machine answering every POST with ``body``; its URL."""

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Gateway) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/graphql"
        finally:
            server.shutdown()


@pytest.mark.parametrize("body", NOT_GRAPHQL)
async def test_a_gateway_s_own_json_is_an_unexpected_response(body: bytes) -> None:
    with answering(body) as url:
        async with Client(url, "token") as client:
            with pytest.raises(UnexpectedResponse) as raised:
                await client.viewer()
    assert raised.value.status_code == 502 and raised.value.body == body.decode()


async def test_an_api_error_still_arrives_as_its_family() -> None:
    """The API's own shape, through the same server: the check above lets it by."""
    body = b'{"errors": [{"message": "busy", "extensions": {"code": "SERVER_BUSY"}}]}'
    with answering(body, 503) as url:
        async with Client(url, "token") as client:
            with pytest.raises(ApiError) as raised:
                await client.viewer()
    assert (raised.value.code, raised.value.status_code) == ("SERVER_BUSY", 503)


# Messages a subscription may get from something that is not the API.
NOT_OUR_MESSAGES = [
    {"id": "1", "type": "next", "payload": {}},
    {"id": "1", "type": "next", "payload": {"errors": "upstream timed out"}},
    {"id": "1", "type": "error", "payload": ["rate limited"]},
]


@pytest.mark.parametrize("message", NOT_OUR_MESSAGES)
async def test_a_websocket_message_not_of_the_api_is_a_vastfolket_error(
    message: dict[str, Any],
) -> None:
    async def gateway(connection: ServerConnection) -> None:
        await connection.recv()  # connection_init
        await connection.send(json.dumps({"type": "connection_ack"}))
        await connection.recv()  # subscribe
        await connection.send(json.dumps(message))
        await connection.wait_closed()

    async with serve(gateway, "127.0.0.1", 0) as server:
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/graphql"
        async with Client(url, "token") as client, aclosing(client.follow_changes()) as events:
            with pytest.raises(VastfolketError) as raised:
                await anext(events)
    assert "unexpected graphql-transport-ws message" in str(raised.value)
