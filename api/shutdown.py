"""Stopping without dropping requests: readiness first, then the port, then the work.

On SIGTERM a worker at once reports not ready (``/readyz`` 503) and refuses new requests
with ``SHUTTING_DOWN`` (503, ``Connection: close``): a clear "not processed, send it
again", where a reset connection would leave the client guessing. Requests already
running go on. After ``VASTFOLKET_SHUTDOWN_DRAIN_SECONDS`` (time for a load balancer to
see the readiness and stop sending) uvicorn is told to stop: it closes the port (new
connections are refused before anything is read), waits up to
``VASTFOLKET_GRACEFUL_SHUTDOWN_SECONDS`` for the requests in flight, then ends the app.
SIGINT (Ctrl+C) skips the drain.

uvicorn offers no hook for the moment a stop is asked, and its own signal handlers are
plain ``signal.signal`` handlers: the app's lifespan wraps them, so this works under
``vastfolket serve`` and plain ``uvicorn`` alike.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
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


class Shutdown:
    """Whether this worker is stopping, learnt from the server's own stop signals."""

    def __init__(self, drain_seconds: float) -> None:
        self.drain_seconds = drain_seconds
        self.begun = False
        self._servers: dict[int, Any] = {}  # the server's handlers, by signal
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain: asyncio.TimerHandle | None = None
        self._stopped = False  # the server has been told

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
        """Hand the signal to the server: it closes the port and finishes in-flight work."""
        self._stopped = True
        if self._drain is not None:
            self._drain.cancel()
            self._drain = None
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
