"""GraphQL errors with stable ``extensions.code`` values."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"
FORBIDDEN = "FORBIDDEN"
AUDIT_UNAVAILABLE = "AUDIT_UNAVAILABLE"
# The database cannot be reached: the whole answer is refused (HTTP 503, Retry-After).
DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
# The server is stopping: the request was not processed; send it again (elsewhere).
SHUTTING_DOWN = "SHUTTING_DOWN"
# The worker serves as many connections as it may: not processed; send it again.
SERVER_BUSY = "SERVER_BUSY"
UNAUTHENTICATED = "UNAUTHENTICATED"
# A change-feed cursor older than the feed's retention: events after it are gone.
CURSOR_EXPIRED = "CURSOR_EXPIRED"
# A WebSocket connection already runs as many operations as it may.
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# An organisation has as many selection orders queued or running as it may.
TOO_MANY_ORDERS = "TOO_MANY_ORDERS"
# A selection's file: not written yet (HTTP 409), no longer kept, or holding a person
# protected since it was written (HTTP 410).
SELECTION_NOT_READY = "SELECTION_NOT_READY"
SELECTION_EXPIRED = "SELECTION_EXPIRED"
SELECTION_WITHDRAWN = "SELECTION_WITHDRAWN"
# A download's Range the file cannot answer (HTTP 416).
RANGE_NOT_SATISFIABLE = "RANGE_NOT_SATISFIABLE"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
# The query is beyond a configured limit (depth, aliases, tokens, estimated cost).
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
# HTTP-level refusals, before any GraphQL is read.
BAD_REQUEST = "BAD_REQUEST"
PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
URI_TOO_LONG = "URI_TOO_LONG"
REQUEST_HEADER_TOO_LARGE = "REQUEST_HEADER_TOO_LARGE"
NOT_FOUND = "NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
# Documents named by id, and the trusted documents' mode (api/documents.py).
BAD_DOCUMENT_ID = "BAD_DOCUMENT_ID"
DOCUMENT_ID_MISMATCH = "DOCUMENT_ID_MISMATCH"
DOCUMENT_NOT_TRUSTED = "DOCUMENT_NOT_TRUSTED"
PERSISTED_DOCUMENT_NOT_FOUND = "PERSISTED_DOCUMENT_NOT_FOUND"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"  # Apollo's code, for its clients


class BadUserInput(GraphQLError):
    """Input the caller can correct; the message says what is wrong."""

    def __init__(self, message: str, *, argument: str | None = None, **extra: Any) -> None:
        extensions: dict[str, Any] = {"code": BAD_USER_INPUT, **extra}
        if argument is not None:
            extensions["argument"] = argument
        super().__init__(message, extensions=extensions)


class CursorExpired(GraphQLError):
    """A change-feed position before what the retention keeps: the follower must load
    its population again and follow from the head."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": CURSOR_EXPIRED, "argument": "after"})


class UpstreamUnavailable(GraphQLError):
    """Skatteverket gave no usable answer in time; trying again later may work."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        extensions: dict[str, Any] = {"code": UPSTREAM_UNAVAILABLE, "upstream": "SKATTEVERKET"}
        if retry_after is not None:
            extensions["retryAfterSeconds"] = round(retry_after, 1)
        super().__init__(message, extensions=extensions)


LARGEST_REPORTED = 2**53 - 1  # the largest integer every JSON reader holds exactly


class QueryTooComplex(GraphQLError):
    """A query refused before execution: ``limit`` names which limit, with its maximum."""

    def __init__(self, message: str, *, limit: str, maximum: int, actual: int | None) -> None:
        extensions: dict[str, Any] = {"code": QUERY_TOO_COMPLEX, "limit": limit, "maximum": maximum}
        if actual is not None:
            # Counts multiply through fragments and nested pages: a few hundred tokens
            # can make one larger than JSON numbers hold exactly (or orjson encodes).
            extensions["actual"] = min(actual, LARGEST_REPORTED)
        super().__init__(message, extensions=extensions)
