"""GraphQL over WebSocket at ``/graphql``: subscriptions (and queries), graphql-transport-ws.

The same path as HTTP; only the ``graphql-transport-ws`` subprotocol is served (the
legacy ``graphql-ws`` let clients skip the handshake: a client offering only it, or
none, is closed with 4406). Browsers cannot set headers on a WebSocket, so the token
comes in ``connection_init``'s payload — ``{"Authorization": "Bearer <token>"}`` or
``{"token": "<token>"}`` — and is verified as an HTTP bearer token is; refused, the
connection is closed with 4403 and the reason. It stays open until the token expires
(``exp`` and the leeway, as a request would be refused), then it is closed with 4403.

A caller (the token's subject and organisation) holds at most
``VASTFOLKET_WS_MAX_CONNECTIONS_PER_CALLER`` connections per worker (one more: 4430), a
connection runs at most ``VASTFOLKET_WS_MAX_SUBSCRIPTIONS`` operations; a client that
reads nothing is closed with 4499 (``api.websocket_handler``). When the worker stops,
at the end of the drain (``api.shutdown``), every connection is closed with 1001, and a
new one meanwhile is closed at once with 1001.

The protocol is Strawberry's (``api.websocket_handler``); this module gives it its
"view" (``Session.on_ws_connect``) and its "schema" (``api.websocket_operations``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UNSET, UnsetType

from api.auth import InvalidToken, TokenVerifier
from api.operation import Pipeline, Transport
from api.settings import Settings
from api.shutdown import Shutdown
from api.websocket_handler import Socket, TransportWSHandler
from api.websocket_operations import Operations
from resolvers.domain.access import Viewer

logger = logging.getLogger("vastfolket.api")

PROTOCOL = "graphql-transport-ws"
GOING_AWAY = 1001
TRY_AGAIN_LATER = 1013
SUBPROTOCOL_NOT_ACCEPTABLE = 4406
FORBIDDEN = 4403
TOO_MANY_CONNECTIONS = 4430
NO_TOKEN = (
    'Forbidden: no token; send {"Authorization": "Bearer <token>"} as the connection_init payload'
)
EXPIRED = "Forbidden: the token has expired; connect again with a new one"
STOPPING = "The server is stopping: connect again, and resume from your last cursor"

Caller = tuple[str, str | None]  # the token's subject and organisation


class Refused(Exception):
    """connection_init refused: the close code and the reason the client reads."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


def token_of(params: dict[str, Any]) -> str:
    """The token in a connection_init payload."""
    header = params.get("Authorization", params.get("authorization"))
    if header is not None:
        scheme, _, token = header.partition(" ") if isinstance(header, str) else ("", "", "")
        if scheme.lower() != "bearer" or not token.strip():
            raise Refused(FORBIDDEN, "Forbidden: the Authorization must be 'Bearer <token>'")
        return token.strip()
    given = params.get("token")
    if not isinstance(given, str) or not given.strip():
        raise Refused(FORBIDDEN, NO_TOKEN)
    return given.strip()


class Callers:
    """The connections each caller holds open on this worker."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: Counter[Caller] = Counter()

    def admit(self, caller: Caller) -> bool:
        if self._open[caller] >= self.limit:
            return False
        self._open[caller] += 1
        return True

    def leave(self, caller: Caller) -> None:
        self._open[caller] -= 1
        if self._open[caller] <= 0:
            del self._open[caller]


class Session:
    """One connection's caller: Strawberry's "view" (it admits the connection) and the
    context every operation of the connection is run with."""

    def __init__(self, endpoint: GraphQLWebSocket, socket: Socket, state: Any) -> None:
        self.endpoint, self.socket, self.state = endpoint, socket, state
        self.connection_params: dict[str, Any] = {}  # connection_init's payload
        self.viewer: Viewer | None = None
        self._caller: Caller | None = None
        self._expiry: asyncio.Task[None] | None = None

    async def on_ws_connect(self, context: object) -> UnsetType:
        try:
            viewer, until = self._verified()
            caller = (viewer.subject, viewer.organisation)
            if not self.endpoint.callers.admit(caller):
                limit = self.endpoint.callers.limit
                raise Refused(TOO_MANY_CONNECTIONS, f"Too many connections: {limit} per caller "
                              "on this server are open; close one first")  # fmt: skip
        except Refused as refusal:
            await self.socket.close(refusal.code, refusal.reason)
            raise ConnectionRejectionError from None
        self.viewer, self._caller = viewer, caller
        self._expiry = asyncio.create_task(self._close_at(until))
        return UNSET

    def _verified(self) -> tuple[Viewer, float]:
        try:
            return self.endpoint.verifier.verify_until(token_of(self.connection_params))
        except InvalidToken as error:
            raise Refused(FORBIDDEN, f"Forbidden: {error}") from None

    async def _close_at(self, until: float) -> None:
        await asyncio.sleep(max(0.0, until - time.time()))
        await self.socket.close(FORBIDDEN, EXPIRED)

    def transport(self, request_id: str) -> Transport:
        state = self.state
        return Transport(state.database, request_id, skatteverket=state.skatteverket,
                         wakeups=state.wakeups)  # fmt: skip

    def end(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        if self._caller is not None:
            self.endpoint.callers.leave(self._caller)
            self._caller = None


class GraphQLWebSocket:
    """The ASGI endpoint of ``/graphql``'s WebSocket side; one per app (worker)."""

    def __init__(
        self, pipeline: Pipeline, verifier: TokenVerifier, shutdown: Shutdown, settings: Settings
    ) -> None:
        self.operations = Operations(pipeline)
        self.verifier = verifier
        self.shutdown = shutdown
        self.callers = Callers(settings.ws_max_connections_per_caller)
        # Never more than half of what the worker serves: HTTP and its health checks keep
        # the rest (uvicorn's limit counts WebSockets too).
        self.max_connections = min(
            settings.ws_max_connections, max(1, settings.max_connections // 2)
        )
        self.max_subscriptions = settings.ws_max_subscriptions
        self.send_timeout = settings.ws_send_timeout_seconds
        self.init_timeout = timedelta(seconds=settings.client_timeout_seconds)
        self._open: set[Socket] = set()
        shutdown.before_stop(self.close_all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        websocket = WebSocket(scope, receive, send)
        socket = Socket(websocket, self.send_timeout)
        if PROTOCOL not in scope.get("subprotocols", ()):
            await websocket.accept()
            reason = f"Subprotocol not acceptable: only {PROTOCOL} is served"
            await socket.close(SUBPROTOCOL_NOT_ACCEPTABLE, reason)
            return
        await websocket.accept(PROTOCOL)
        if self.shutdown.begun:
            await socket.close(GOING_AWAY, STOPPING)
            return
        if len(self._open) >= self.max_connections:
            reason = f"this server process holds {self.max_connections} WebSockets at most"
            await socket.close(TRY_AGAIN_LATER, f"{reason}: try again shortly")
            return
        session = Session(self, socket, websocket.app.state)
        self._open.add(socket)
        try:
            await self._handler(session, socket).handle()
        finally:
            self._open.discard(socket)
            session.end()

    def _handler(self, session: Session, socket: Socket) -> TransportWSHandler:
        return TransportWSHandler(
            view=session,  # type: ignore[arg-type]
            websocket=socket,  # type: ignore[arg-type]
            context=session,
            root_value=None,
            schema=self.operations,  # type: ignore[arg-type]
            connection_init_wait_timeout=self.init_timeout,
            max_subscriptions_per_connection=self.max_subscriptions,
        )

    async def close_all(self) -> None:
        """Close every connection with 1001 (the worker stops): clients reconnect elsewhere."""
        with contextlib.suppress(Exception):
            await asyncio.gather(*(socket.close(GOING_AWAY, STOPPING) for socket in self._open))
