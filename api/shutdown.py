"""Stopping without dropping requests: readiness first, then the port, then the work.

On SIGTERM a worker at once reports not ready (``/readyz`` 503) and refuses new requests
with ``SHUTTING_DOWN`` (503, ``Connection: close``): a clear "not processed, send it
again", where a reset connection would leave the client guessing. Requests already
running go on. After ``VASTFOLKET_SHUTDOWN_DRAIN_SECONDS`` (time for a load balancer to
see the readiness and stop sending) the WebSockets are closed with 1001 (``before_stop``,
within ``CLOSING_SECONDS``; uvicorn would close them with 1012), then uvicorn is told to
stop: it closes the port (new connections are refused before anything is read), waits up to
``VASTFOLKET_GRACEFUL_SHUTDOWN_SECONDS`` for the requests in flight, then ends the app.
SIGINT (Ctrl+C) skips the drain.

uvicorn offers no hook for the moment a stop is asked, and its own signal handlers are
plain ``signal.signal`` handlers: the app's lifespan wraps them, so this works under
``vastfolket serve`` and plain ``uvicorn`` alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql_http import error_response
from schema.errors import SHUTTING_DOWN

logger = logging.getLogger("vastfolket.api")

# Answered while stopping: the probes tell the load balancer, the metrics the last counts.
STILL_ANSWERED = frozenset({"/healthz", "/readyz", "/metrics"})
SIGNALS = (signal.SIGTERM, signal.SIGINT)
# How long the closings asked for (``before_stop``) may take before the server is told.
CLOSING_SECONDS = 1.0


class Shutdown:
    """Whether this worker is stopping, learnt from the server's own stop signals."""

    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self.begun = False
        self._servers: dict[int, Any] = {}  # the server's handlers, by signal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.TimerHandle | None = None
        self._stopped = False  # the stop has begun
        self._told = False  # the server has been told
        # What closes before the server does (WebSockets, with their own close code).
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._closing: asyncio.Task[None] | None = None

    def before_stop(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Run ``closer`` when the worker stops, before the server closes connections."""
        self._closers.append(closer)

    def install(self) -> None:
        """Wrap the server's SIGTERM and SIGINT handlers (when it has Python ones)."""
        if threading.current_thread() is not threading.main_thread():
            return
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            handler = signal.getsignal(sig)
            if callable(handler):
                self._servers[sig] = handler
                signal.signal(sig, self._signalled)

    def uninstall(self) -> None:
        if self._drain is not None:
            self._drain.cancel()
        for sig, handler in self._servers.items():
            signal.signal(sig, handler)
        self._servers.clear()

    def _signalled(self, sig: int, frame: FrameType | None) -> None:
        first, self.begun = not self.begun, True  # readiness and refusals: at once
        if first and self._loop is not None:  # a signal handler may only wake the loop
            self._loop.call_soon_threadsafe(self._begin, sig)
        # SIGTERM waits for the drain (a second one, the process group's then the
        # supervisor's, changes nothing); SIGINT stops now.
        if sig != signal.SIGTERM or self.drain_seconds <= 0:
            self._stop(sig)

    def _begin(self, sig: int) -> None:
        logger.info("stopping: not ready any more, new requests refused")
        if sig == signal.SIGTERM and self.drain_seconds > 0 and not self._stopped:
            assert self._loop is not None
            self._drain = self._loop.call_later(self.drain_seconds, self._stop, sig)

    def _stop(self, sig: int) -> None:
        """Hand the signal to the server (it closes the port and finishes in-flight
        work), once what closes first has closed; a second stop hands it over at once."""
        first, self._stopped = not self._stopped, True
        if self._drain is not None:
            self._drain.cancel()
            self._drain = None
        if first and self._closers and self._loop is not None:
            self._loop.call_soon_threadsafe(self._close_first, sig)
            return
        self._tell(sig)

    def _close_first(self, sig: int) -> None:
        self._closing = asyncio.ensure_future(self._close_then_tell(sig))

    async def _close_then_tell(self, sig: int) -> None:
        closings = asyncio.gather(*(closer() for closer in self._closers))
        with contextlib.suppress(Exception):
            await asyncio.wait_for(closings, CLOSING_SECONDS)
        if not self._told:
            self._tell(sig)

    def _tell(self, sig: int) -> None:
        self._told = True
        handler = self._servers.get(sig)
        if handler is not None:
            handler(sig, None)


def shutting_down() -> Response:
    message = "The server is shutting down; the request was not processed. Send it again."
    return error_response(message, SHUTTING_DOWN, 503, Connection="close")


class Draining:
    """While stopping: new requests refused, and every response closes its connection."""

    def __init__(self, app: ASGIApp, *, shutdown: Shutdown) -> None:
        self.app = app
        self.shutdown = shutdown

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.shutdown.begun and scope["path"] not in STILL_ANSWERED:
            await shutting_down()(scope, receive, send)
            return

        async def closing_send(message: Message) -> None:
            # Checked per response: a request that began before the stop ends after it.
            if message["type"] == "http.response.start" and self.shutdown.begun:
                message.setdefault("headers", []).append((b"connection", b"close"))
            await send(message)

        await self.app(scope, receive, closing_send)
