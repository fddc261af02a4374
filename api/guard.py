"""The outer guard: bounded requests, and no failure leaves as a traceback.

Whatever goes wrong below this middleware — in authentication, the GraphQL endpoint, a
health check — the caller gets the same JSON error shape as every other error, with a
stable code and the request id, never the exception. An unreachable database is an
outage, not a bug: ``DATABASE_UNAVAILABLE`` (503, ``Retry-After``), logged in a line
(``api.logs.Outage``); anything else is ``INTERNAL_SERVER_ERROR`` (500), its traceback
logged under the request id. Request bodies are refused above a size limit before they
are read (``Content-Length``) or as soon as the bytes read pass it (a body sent without
a length); a query string (GraphQL over GET) has the same limit. The URL and the headers
have limits of their own, checked here before authentication decodes a token; the HTTP
server's protocol (``api.server``) applies the same limits while it reads them.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql_http import error_response
from api.operation import outage_refusal
from api.settings import RequestLimits
from resolvers.db import database_unavailable
from schema.errors import (
    BAD_REQUEST,
    INTERNAL_SERVER_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
    REQUEST_HEADER_TOO_LARGE,
    URI_TOO_LONG,
)

logger = logging.getLogger("vastfolket.errors")

HTTP_CODES = {
    404: NOT_FOUND,
    405: METHOD_NOT_ALLOWED,
    413: PAYLOAD_TOO_LARGE,
    414: URI_TOO_LONG,
    431: REQUEST_HEADER_TOO_LARGE,
}


class _BodyTooLarge(Exception):
    pass


def too_large(limit: int) -> Response:
    message = f"The request body (or query string) is larger than {limit} bytes."
    return error_response(message, PAYLOAD_TOO_LARGE, 413)


def head_refusal(
    limits: RequestLimits, *, path_bytes: int, query_bytes: int, header_bytes: int
) -> Response | None:
    """The answer to a request whose URL or headers are over a limit, else None.

    A query string is a GET request's body: too long for its limit or for the URL's, it
    is answered as a body too large. ``header_bytes`` counts the names and values of all
    headers together.
    """
    if path_bytes > limits.url:
        message = f"The URL is longer than {limits.url} bytes."
        return error_response(message, URI_TOO_LONG, 414)
    if query_bytes > limits.body:
        return too_large(limits.body)
    if path_bytes + 1 + query_bytes > limits.url and query_bytes:
        message = f"The URL is longer than {limits.url} bytes: send the query with POST."
        return error_response(message, PAYLOAD_TOO_LARGE, 413)
    if header_bytes > limits.headers:
        return headers_too_large(limits.headers)
    return None


def headers_too_large(limit: int) -> Response:
    message = f"The request headers are larger than {limit} bytes together."
    return error_response(message, REQUEST_HEADER_TOO_LARGE, 431)


def internal_error(request_id: str) -> Response:
    message = f"Internal server error (request id {request_id})."
    return error_response(message, INTERNAL_SERVER_ERROR, 500, request_id=request_id)


def failure_response(scope: Scope, error: Exception) -> Response | None:
    """What a failure below the guard answers, logged once; None if no one is listening."""
    request_id = scope.get("state", {}).get("request_id", "-")
    if isinstance(error, ClientDisconnect):  # the caller left while sending: not our fault
        logger.debug("client disconnected before its request arrived (request %s)", request_id)
        return None
    if database_unavailable(error):
        refusal = outage_refusal(request_id, error)
        return error_response(refusal.message, refusal.code, 503, request_id=request_id)
    logger.error(
        "unexpected error serving %s %s",
        scope.get("method"),
        scope.get("path"),
        exc_info=error,
        extra={"request_id": request_id},
    )
    return internal_error(request_id)


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (unknown path, wrong method) in the API's error shape."""
    status = getattr(error, "status_code", 400)
    detail = getattr(error, "detail", None) or "Bad request."
    headers = getattr(error, "headers", None) or {}
    return error_response(str(detail), HTTP_CODES.get(status, BAD_REQUEST), status, **headers)


class Guard:
    """Size limits on requests, and a JSON error for any exception (logged with its id)."""

    def __init__(self, app: ASGIApp, *, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = _head_refusal(scope, self.limits)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        limit = self.limits.body
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await too_large(limit)(scope, receive, send)
        except Exception as error:
            response = failure_response(scope, error)
            if response is not None and not started:
                await response(scope, receive, send)


def _head_refusal(scope: Scope, limits: RequestLimits) -> Response | None:
    query = len(scope["query_string"])
    path = scope.get("raw_path") or scope["path"].encode()
    headers = sum(len(name) + len(value) for name, value in scope["headers"])
    return head_refusal(limits, path_bytes=len(path), query_bytes=query, header_bytes=headers)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
