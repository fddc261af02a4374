"""The HTTP server's protocol: uvicorn's httptools protocol, with the request limits.

uvicorn reads a request's URL and headers before the app sees any of it. It answers
what it cannot parse with a plain-text 400 — among that every URL over 65 535 bytes
(httptools keeps offsets in 16 bits) — and it reads headers of any size into memory
before the app can refuse them. This protocol counts the URL and the headers as they
arrive and, past a limit, answers at once with the same JSON refusal as ``api.guard``
(413, 414 or 431) and closes the connection; any other request it cannot read gets a
JSON ``BAD_REQUEST``. Run uvicorn with ``--http api.server:HttpProtocol``.
"""

from __future__ import annotations

import http
from functools import cache
from typing import Any

from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.graphql_http import error_response
from api.guard import RequestLimits, head_refusal, headers_too_large
from api.settings import Settings
from schema.errors import BAD_REQUEST

# Room for the request line and each header's ": " and line end, beyond the URL and
# the headers' names and values.
HEAD_SLACK = 8192


class _Refused(Exception):
    """Raised in a parser callback: httptools stops, and uvicorn calls send_400_response."""


@cache
def _limits() -> RequestLimits:
    return Settings().request_limits()  # the environment the app's settings come from


class HttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = _limits()
        self._refusal: Response | None = None
        self._in_head = False
        self._head_bytes = 0  # bytes received of the request's head so far
        self._header_bytes = 0  # names and values of the headers parsed so far

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes, self._header_bytes = True, 0, 0

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
