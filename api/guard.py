"""The outer guard: bounded request bodies, and no failure leaves as a traceback.

Whatever goes wrong below this middleware — in authentication, the GraphQL endpoint, a
health check — the caller gets the same JSON error shape as every other error, with a
stable code and the request id, never the exception. An unreachable database is an
outage, not a bug: ``DATABASE_UNAVAILABLE`` (503, ``Retry-After``), logged in a line
(``api.logs.Outage``); anything else is ``INTERNAL_SERVER_ERROR`` (500), its traceback
logged under the request id. Request bodies are refused above a size limit before they
are read (``Content-Length``) or as soon as the bytes read pass it (a body sent without
a length); a query string (GraphQL over GET) has the same limit.
"""

from __future__ import annotations

import logging

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.graphql_http import error_response
from api.logs import DATABASE_OUTAGE
from api.metrics import DATABASE_UNAVAILABLE_REFUSALS
from resolvers.db import database_unavailable
from schema.errors import (
    BAD_REQUEST,
    DATABASE_UNAVAILABLE,
    INTERNAL_SERVER_ERROR,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    PAYLOAD_TOO_LARGE,
)

logger = logging.getLogger("vastfolket.errors")

HTTP_CODES = {404: NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: PAYLOAD_TOO_LARGE}


class _BodyTooLarge(Exception):
    pass


def too_large(limit: int) -> Response:
    message = f"The request body (or query string) is larger than {limit} bytes."
    return error_response(message, PAYLOAD_TOO_LARGE, 413)


def internal_error(request_id: str) -> Response:
    message = f"Internal server error (request id {request_id})."
    return error_response(message, INTERNAL_SERVER_ERROR, 500, request_id=request_id)


def unreachable_database(request_id: str) -> Response:
    message = f"The database cannot be reached; try again shortly (request id {request_id})."
    return error_response(message, DATABASE_UNAVAILABLE, 503, request_id=request_id)


def failure_response(scope: Scope, error: Exception) -> Response | None:
    """What a failure below the guard answers, logged once; None if no one is listening."""
    request_id = scope.get("state", {}).get("request_id", "-")
    if isinstance(error, ClientDisconnect):  # the caller left while sending: not our fault
        logger.debug("client disconnected before its request arrived (request %s)", request_id)
        return None
    if database_unavailable(error):
        DATABASE_OUTAGE.failed(request_id, error)
        DATABASE_UNAVAILABLE_REFUSALS.inc()
        return unreachable_database(request_id)
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
    """Size limit on request bodies, and a JSON error for any exception (logged with its id)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _content_length(scope)
        if (declared is not None and declared > limit) or len(scope["query_string"]) > limit:
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


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
