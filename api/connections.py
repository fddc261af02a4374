"""HTTP connections with a deadline for slow clients.

uvicorn bounds idle keep-alive connections (``timeout_keep_alive``), how many
connections a worker serves (``limit_concurrency``) and, at shutdown, the requests in
flight (``timeout_graceful_shutdown``). It does not bound a client that connects and
sends nothing, half its headers or a body that never ends, nor one that stops reading
its response: each would hold a connection (a response, also its request's task) for
ever, and a few hundred of them would use up the concurrency limit for everyone. This
is uvicorn's httptools protocol with one more deadline: a request must have arrived in
full ``VASTFOLKET_CLIENT_TIMEOUT_SECONDS`` after the connection opened (or, on a kept-alive
connection, after its first byte), and a response that the client leaves unread
(the send buffer full) that long ends the connection.

Used by ``vastfolket serve``; with plain uvicorn pass
``--http api.connections:BoundedHttpToolsProtocol``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import Settings

logger = logging.getLogger("vastfolket.api")


@functools.cache
def client_timeout() -> float:
    """The setting, read once per worker (the protocol is made by uvicorn, per connection)."""
    return Settings().client_timeout_seconds


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading: asyncio.TimerHandle | None = None  # until the request has arrived
        self._writing: asyncio.TimerHandle | None = None  # while the client reads nothing

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading = self.loop.call_later(client_timeout(), self._too_slow, "send")

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._reading, self._writing):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._reading is None:  # the next request on a kept-alive connection
            self._reading = self.loop.call_later(client_timeout(), self._too_slow, "send")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._writing is None:
            self._writing = self.loop.call_later(client_timeout(), self._too_slow, "read")

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._writing is not None:
            self._writing.cancel()
            self._writing = None

    def _too_slow(self, what: str) -> None:
        self._reading = self._writing = None
        if self.transport.is_closing():
            return
        # DEBUG: a flood of slow clients must not flood the log as well.
        logger.debug("disconnected %s: it did not %s in %g s", self.client, what, client_timeout())
        # abort, not close: close would wait for an unread response to drain first.
        self.transport.abort()
