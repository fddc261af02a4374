"""What the generated `Client` builds on: it sends an operation over HTTP (or, for a
subscription, over WebSocket with graphql-transport-ws) and turns the answer's errors
into the exceptions of `errors.py`.

The token goes in the `Authorization` header of every HTTP request, and in the payload
of `connection_init` on a WebSocket, as the API reads it there; never anywhere else (an
HTTP redirect is not followed, a WebSocket redirected to another origin is refused).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from .base_model import UNSET
from .errors import (
    SubscriptionClosed,
    UnexpectedResponse,
    VastfolketError,
    answer_error,
    well_formed,
)

# graphql-response+json first: with it, a request that fails to parse or validate gets
# a 4xx (GraphQL over HTTP); the errors are read the same either way.
ACCEPT = "application/graphql-response+json, application/json;q=0.9"
PROTOCOL = Subprotocol("graphql-transport-ws")


class VastfolketBaseClient:
    """A connection to the API at `url` (its `/graphql`), as the caller `token` names.

    Args:
        url: e.g. "https://vastfolket.example/graphql".
        token: the caller's JWT; sent as `Authorization: Bearer <token>` (over an
            `Authorization` of `headers`, whatever its spelling).
        headers: more headers for every HTTP request (a method's `headers=` adds some
            for one request, e.g. `{"X-Case-Reference": "ÄR-2026/11"}`); an
            `Authorization` among them is sent on a WebSocket too.
        http_client: an `httpx.AsyncClient` of your own (its headers are kept).
        ws_url: where to subscribe; by default `url` with ws:// or wss://.
        timeout: seconds to wait for an HTTP answer, or for the WebSocket's handshake.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        ws_url: str | None = None,
        timeout: float = 10,
    ) -> None:
        self.url = url
        self.ws_url = ws_url or _websocket_url(url)
        self.timeout = timeout
        bearer = {} if token is None else {"Authorization": f"Bearer {token}"}
        self.headers = _merged({"Accept": ACCEPT}, headers or {}, bearer)
        self._owns_http_client = http_client is None
        self.http_client = http_client or httpx.AsyncClient(timeout=timeout)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the HTTP client, unless it was given."""
        if self._owns_http_client:
            await self.http_client.aclose()

    async def execute(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Posts one operation; `kwargs` go to `httpx.AsyncClient.post` (`headers=`)."""
        body = {
            "query": query,
            "operationName": operation_name,
            "variables": _jsonable(variables or {}),
        }
        # The API reads header values as UTF-8 (`X-Case-Reference: ÄR-2026/11`); httpx
        # would encode a str as ASCII only.
        given = _merged(self.headers, kwargs.pop("headers", {}))
        headers = {_utf8(name): _utf8(value) for name, value in given.items()}
        return await self.http_client.post(self.url, json=body, headers=headers, **kwargs)

    def get_data(self, response: httpx.Response) -> dict[str, Any]:
        """The answer's `data`; its errors raised as the first error's class."""
        try:
            answer = response.json()
        except ValueError:
            raise UnexpectedResponse(response.status_code, response.text) from None
        if not isinstance(answer, dict) or not ({"data", "errors"} & answer.keys()):
            raise UnexpectedResponse(response.status_code, response.text)
        if not well_formed(answer.get("errors", [])):
            raise UnexpectedResponse(response.status_code, response.text)
        if answer.get("errors"):
            raise answer_error(
                answer["errors"],
                answer.get("data"),
                status_code=response.status_code,
                retry_after=_seconds(response.headers.get("Retry-After")),
            )
        if not response.is_success or not isinstance(answer.get("data"), dict):
            raise UnexpectedResponse(response.status_code, response.text)
        return cast(dict[str, Any], answer["data"])

    async def execute_ws(
        self,
        query: str,
        operation_name: str | None = None,
        variables: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """Subscribes over a WebSocket of its own, yielding each event's `data`.

        Raises `SubscriptionClosed` when the connection ends before the API completes
        the subscription, and an `ApiError` for an `error` message or an event with
        errors. `kwargs` go to `websockets.asyncio.client.connect`.
        """
        payload = {
            "query": query,
            "operationName": operation_name,
            "variables": _jsonable(variables or {}),
        }
        connecting = connect(
            self.ws_url, subprotocols=[PROTOCOL], open_timeout=self.timeout, **kwargs
        )
        try:
            async with connecting as websocket:
                _check_origin(self.ws_url, connecting.uri)
                await self._initialise(websocket)
                await _send(websocket, {"id": "1", "type": "subscribe", "payload": payload})
                while (data := await _next_event(websocket)) is not None:
                    yield data
        except ConnectionClosed as closed:
            frame = closed.rcvd
            raise SubscriptionClosed(
                frame.code if frame else None, frame.reason if frame else None
            ) from closed

    async def _initialise(self, websocket: ClientConnection) -> None:
        given = (value for name, value in self.headers.items() if name.lower() == "authorization")
        authorization = next(given, None)
        if isinstance(authorization, bytes):
            authorization = authorization.decode()
        init = {"Authorization": authorization} if authorization else {}
        await _send(websocket, {"type": "connection_init", "payload": init})
        async with asyncio.timeout(self.timeout):
            while (message := await _receive(websocket))["type"] != "connection_ack":
                if message["type"] == "ping":
                    await _send(websocket, {"type": "pong"})


async def _next_event(websocket: ClientConnection) -> dict[str, Any] | None:
    """The next event's data; None once the API completes the subscription."""
    while True:
        message = await _receive(websocket)
        kind, payload = message["type"], message.get("payload")
        if kind == "next" and isinstance(payload, dict) and well_formed(payload.get("errors", [])):
            if payload.get("errors"):
                raise answer_error(payload["errors"], payload.get("data"))
            if isinstance(payload.get("data"), dict):
                return cast(dict[str, Any], payload["data"])
        if kind == "error" and payload and well_formed(payload):
            raise answer_error(cast(list[dict[str, Any]], payload))
        if kind == "complete":
            return None
        if kind == "ping":
            await _send(websocket, {"type": "pong"})
        elif kind not in ("pong", "connection_ack"):
            raise VastfolketError(f"unexpected graphql-transport-ws message: {message!r}")


async def _send(websocket: ClientConnection, message: dict[str, Any]) -> None:
    await websocket.send(json.dumps(message))


async def _receive(websocket: ClientConnection) -> dict[str, Any]:
    message = json.loads(await websocket.recv())
    if not isinstance(message, dict) or "type" not in message:
        raise VastfolketError(f"not a graphql-transport-ws message: {message!r}")
    return message


def _jsonable(value: Any) -> Any:
    """Variables as JSON: an argument left out (UNSET) is not sent, so the API's default
    applies; an input object sends only the fields given."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, dict):
        return {name: _jsonable(item) for name, item in value.items() if item is not UNSET}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return to_jsonable_python(value)


def _merged(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Headers, each layer's over those before it whatever their spelling (a name differing
    only in case is the same header: two would be sent, and the server read one)."""
    merged: dict[str, tuple[str, Any]] = {}
    for layer in layers:
        merged.update((name.lower(), (name, value)) for name, value in layer.items())
    return dict(merged.values())


def _check_origin(configured: str, reached: str) -> None:
    """Refuse a WebSocket redirected to another origin before the token is sent: it goes
    in connection_init's payload, which websockets cannot strip as it strips headers."""
    asked, got = parse_uri(configured), parse_uri(reached)
    if (asked.secure, asked.host, asked.port) != (got.secure, got.host, got.port):
        raise VastfolketError(
            f"{configured} redirected the subscription to {reached}: the token is sent to "
            "no other origin than ws_url's (set ws_url to subscribe there)"
        )


def _utf8(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def _websocket_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme={"https": "wss"}.get(parts.scheme, "ws")))


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
