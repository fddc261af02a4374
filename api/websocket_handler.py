"""graphql-transport-ws on one connection: Strawberry's handler, and the socket it talks to.

Strawberry's ``BaseGraphQLTransportWSHandler`` keeps the protocol: ``connection_init``
and its ``connection_ack`` (or 4403 when the view refuses it), the init timeout 4408, a
second init 4429, ``subscribe`` before the ack 4401, a duplicate id 4409, ``ping`` and
``pong``, ``complete`` both ways, and 4400 for a message it cannot read. What it is
given is checked here first, so that a message of the wrong shape is a 4400 with a
reason rather than a traceback; the subscriptions cap answers with a coded error; and
any refusal of an operation — before it ran or while it runs (``PreExecutionError``
from the operations, ``api.websocket_operations``) — is its ``error`` message, the last
it gets.

``Socket`` is what the handler sends on and reads from: JSON text messages, each send
bounded by ``VASTFOLKET_WS_SEND_TIMEOUT_SECONDS``. A subscriber that takes nothing for
that long is closed with 4499 (``SLOW_CONSUMER``): its own sends wait, nobody else's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected as StarletteDisconnected
from strawberry.http.exceptions import (
    NonJsonMessageReceived,
    NonTextMessageReceived,
    WebSocketDisconnected,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.types.execution import PreExecutionError

from schema.errors import TOO_MANY_SUBSCRIPTIONS

logger = logging.getLogger("vastfolket.api")

SLOW_CONSUMER = 4499
SLOW_CONSUMER_REASON = "Slow consumer: messages were not read in time; resume from your last cursor"
MAX_ID_LENGTH = 128  # characters of an operation id (graphql-ws sends UUIDs)
MAX_REASON_BYTES = 123  # what a close frame holds


def message_problem(message: object) -> str | None:
    """Why a message cannot be handled (a 4400 close), or None."""
    if not isinstance(message, dict):
        return "A message must be a JSON object"
    kind = message.get("type")
    if kind in ("subscribe", "complete"):
        ident = message.get("id")
        if not isinstance(ident, str) or not 1 <= len(ident) <= MAX_ID_LENGTH:
            return f"{kind}: 'id' must be a string of 1 to {MAX_ID_LENGTH} characters"
    if kind == "subscribe" and not isinstance(message.get("payload"), dict):
        return "subscribe: 'payload' must be an object"
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Any, None]):
    async def handle_message(self, message: Any) -> None:
        problem = message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: Any) -> None:
        limit = self.max_subscriptions_per_connection
        if (
            self.connection_acknowledged
            and message["id"] not in self.operations
            and limit is not None
            and len(self.operations) >= limit
        ):
            await self._refuse_over_limit(message["id"], limit)
            return
        # The operation's parameters as sent, whatever their types, handed on whole as
        # its "query": the operations read them as HTTP's are read (its text, or the id
        # of a trusted document: api.documents.request_parts).
        parts = {"query": message["payload"], "variables": None, "operationName": None}
        await super().handle_subscribe(
            {"id": message["id"], "type": "subscribe", "payload": parts}  # type: ignore[typeddict-item]
        )

    async def _refuse_over_limit(self, ident: str, limit: int) -> None:
        error = GraphQLError(
            f"This connection runs {limit} operations already, the most it may: complete "
            "one first, or open another connection.",
            extensions={"code": TOO_MANY_SUBSCRIPTIONS, "maximum": limit},
        )
        await self.send_message({"id": ident, "type": "error", "payload": [error.formatted]})

    async def _send_result_stream(self, operation: Operation[Any, None], source: Any) -> None:
        async for result in source:
            if isinstance(result, PreExecutionError):  # refused: the operation's last word
                await operation.send_initial_errors(list(result.errors or ()))
                return
            await operation.send_next(result)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):  # the connection is gone: no one to tell
            return
        logger.error("unexpected error serving a WebSocket", exc_info=error)


def _fitted(reason: str) -> str:
    encoded = reason.encode()
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    return encoded[: MAX_REASON_BYTES - 3].decode(errors="ignore") + "..."


class Socket:
    """The connection as Strawberry's handler uses it (``AsyncWebSocketAdapter``)."""

    def __init__(self, websocket: WebSocket, send_timeout: float) -> None:
        self.websocket = websocket
        self.send_timeout = send_timeout
        self.closed = False

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object]:
        try:
            while not self.closed:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                text = message.get("text")
                if text is None:
                    raise NonTextMessageReceived
                try:
                    decoded = orjson.loads(text)
                except orjson.JSONDecodeError:
                    if ignore_parsing_errors:
                        continue
                    raise NonJsonMessageReceived from None
                yield decoded
        except (WebSocketDisconnect, StarletteDisconnected):
            return

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.closed:
            raise WebSocketDisconnected
        text = orjson.dumps(message).decode()
        try:
            # Not wait_for: on Python 3.11 it swallows a cancel that comes as the send
            # completes, and a client's `complete` would leave its subscription sending.
            async with asyncio.timeout(self.send_timeout):
                await self.websocket.send_text(text)
        except TimeoutError:
            logger.info("closed a WebSocket whose client read nothing for %g s (%d)",
                        self.send_timeout, SLOW_CONSUMER)  # fmt: skip
            await self.close(SLOW_CONSUMER, SLOW_CONSUMER_REASON)
            raise WebSocketDisconnected from None
        except (WebSocketDisconnect, StarletteDisconnected):
            self.closed = True
            raise WebSocketDisconnected from None

    async def close(self, code: int, reason: str) -> None:
        """Close once (the handler may close again after a refusal of ours)."""
        if self.closed:
            return
        self.closed = True
        # The API's protocol queues a close at once; plain uvicorn's waits for the client.
        with contextlib.suppress(WebSocketDisconnect, StarletteDisconnected, TimeoutError):
            async with asyncio.timeout(self.send_timeout):
                await self.websocket.close(code, _fitted(reason))
