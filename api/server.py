"""The HTTP server's protocol: uvicorn's httptools protocol, with request limits and
a deadline for slow clients.

uvicorn reads a request's URL and headers before the app sees any of it. It answers
what it cannot parse with a plain-text 400 — among that every URL over 65 535 bytes
(httptools keeps offsets in 16 bits) — and it reads headers of any size into memory
before the app can refuse them. This protocol counts the URL and the headers as they
arrive and, past a limit, answers at once with the same JSON refusal as ``api.guard``
(413, 414 or 431) and closes the connection; any other request it cannot read gets a
JSON ``BAD_REQUEST``.

uvicorn bounds idle keep-alive connections (``timeout_keep_alive``), how many
connections a worker serves (``limit_concurrency``) and, at shutdown, the requests in
flight (``timeout_graceful_shutdown``). It does not bound a client that connects and
sends nothing, half its headers or a body that never ends, nor one that stops reading
its response: each would hold a connection (a response, also its request's task) for
ever, and a few hundred of them would use up the concurrency limit for everyone. So a
request must have arrived in full ``VASTFOLKET_CLIENT_TIMEOUT_SECONDS`` after the
connection opened (or, on a kept-alive connection, after its first byte), and a
response that the client leaves unread (the send buffer full) that long ends the
connection.

``vastfolket serve`` uses it; with plain uvicorn pass ``--http api.server:HttpProtocol``.
"""

from __future__ import annotations

import asyncio
import http
import logging
from functools import cache
from typing import Any

from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.graphql_http import error_response
from api.guard import head_refusal, headers_too_large
from api.settings import RequestLimits, Settings
from schema.errors import BAD_REQUEST, SERVER_BUSY

# Room for the request line and each header's ": " and line end, beyond the URL and
# the headers' names and values.
HEAD_SLACK = 8192

logger = logging.getLogger("vastfolket.api")


class _Refused(Exception):
    """Raised in a parser callback: httptools stops, and uvicorn calls send_400_response."""


class _Bounds:
    """The settings the protocol needs, read once per worker (uvicorn makes a protocol
    per connection) from the environment the app's settings come from."""

    def __init__(self, settings: Settings) -> None:
        self.limits: RequestLimits = settings.request_limits()
        self.client_timeout: float = settings.client_timeout_seconds


@cache
def _bounds() -> _Bounds:
    return _Bounds(Settings())


def busy() -> Response:
    message = "The server is serving as many connections as it may; try again shortly."
    return error_response(message, SERVER_BUSY, 503, Connection="close")


class HttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bounds = _bounds()
        self.limits = bounds.limits
        self.client_timeout = bounds.client_timeout
        self._reading: asyncio.TimerHandle | None = None  # until the request has arrived
        self._writing: asyncio.TimerHandle | None = None  # while the client reads nothing
        self._refusal: Response | None = None
        self._in_head = False
        self._head_bytes = 0  # bytes received of the request's head so far
        self._header_bytes = 0  # names and values of the headers parsed so far

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._reading = self.loop.call_later(self.client_timeout, self._too_slow, "send")

    def connection_lost(self, exc: Exception | None) -> None:
        for timer in (self._reading, self._writing):
            if timer is not None:
                timer.cancel()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._header_bytes = True, 0, 0
        if self._reading is None:  # the next request on a kept-alive connection
            self._reading = self.loop.call_later(self.client_timeout, self._too_slow, "send")

    def on_message_complete(self) -> None:
        super().on_message_complete()
        if self._reading is not None:
            self._reading.cancel()
            self._reading = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._writing is None:
            self._writing = self.loop.call_later(self.client_timeout, self._too_slow, "read")

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
        logger.debug(
            "disconnected %s: it did not %s in %g s", self.client, what, self.client_timeout
        )
        # abort, not close: close would wait for an unread response to drain first.
        self.transport.abort()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)  # called for each piece of the URL as it arrives
        path = self.url.find(b"?")
        self._refuse(
            head_refusal(
                self.limits,
                path_bytes=len(self.url) if path < 0 else path,
                query_bytes=0 if path < 0 else len(self.url) - path - 1,
                header_bytes=0,
            )
        )

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if self._header_bytes > self.limits.headers:
            self._refuse(headers_too_large(self.limits.headers))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        # uvicorn's own refusal past the limit is plain text and a log line per request.
        limit = self.limit_concurrency
        if limit is not None and (len(self.connections) >= limit or len(self.tasks) >= limit):
            self._refuse(busy())
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # httptools keeps a header until its end arrives: bound what it keeps meanwhile.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.limits.url + self.limits.headers + HEAD_SLACK:
                self._send(headers_too_large(self.limits.headers))

    def send_400_response(self, msg: str) -> None:
        refusal = self._refusal
        if refusal is None:
            refusal = error_response("The request is not valid HTTP/1.1.", BAD_REQUEST, 400)
        self._send(refusal)

    def _refuse(self, refusal: Response | None) -> None:
        if refusal is not None:
            self._refusal = refusal
            raise _Refused

    def _send(self, response: Response) -> None:
        status = http.HTTPStatus(response.status_code)
        head = [f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode()]
        headers = [*self.server_state.default_headers, *response.raw_headers]
        for name, value in [*headers, (b"connection", b"close")]:
            head += [name, b": ", value, b"\r\n"]
        self.transport.write(b"".join([*head, b"\r\n", response.body]))
        self.transport.close()
