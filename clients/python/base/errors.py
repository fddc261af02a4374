"""The API's errors as exceptions, one class per family of `extensions.code`.

Every error the API answers with carries a stable code (docs/errors.md); the client
raises the class of the answer's first error, holding every error of the answer in
`errors` and the data that did arrive in `data`: a field refused (FORBIDDEN) nulls that
field only, and the rest of the answer stands.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


class VastfolketError(Exception):
    """Anything the client could not turn into a typed result."""


class ApiError(VastfolketError):
    """An error the API answered with; a code no family below claims is this class.

    Attributes:
        code: `extensions.code`, e.g. "BAD_USER_INPUT" (None if the API gave none).
        message: for people; branch on `code`, never on this.
        path: where in the answer the error is, e.g. ["person", "relations"].
        extensions: the error's `extensions` as sent (`argument`, `limit`, ...).
        status_code: the HTTP status of the answer (None over WebSocket).
        retry_after: seconds to wait before sending again (`Retry-After`), if given.
        errors: every error of the answer, this one first.
        data: what the answer's `data` held (None when nothing of it ran).
    """

    codes: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        path: list[str | int] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.path = path
        self.extensions = extensions or {}
        self.status_code: int | None = None
        self.retry_after: float | None = None
        self.errors: list[ApiError] = [self]
        self.data: dict[str, Any] | None = None

    def __str__(self) -> str:
        where = f" at {'.'.join(map(str, self.path))}" if self.path else ""
        return f"{self.code}{where}: {self.message}"

    def partial(self, result: type[Model]) -> Model:
        """The data that did arrive, as the operation's result class (`GetPersonWithRelations`
        for `person_with_relations`): refused fields are None there."""
        return result.model_validate(self.data or {})


class Forbidden(ApiError):
    """A field above the caller's tier, or needing a role the caller lacks: that field
    is None, the rest of `data` stands."""

    codes = frozenset({"FORBIDDEN"})


class BadUserInput(ApiError):
    """An argument or variable is wrong; `argument` names it."""

    codes = frozenset({"BAD_USER_INPUT"})

    @property
    def argument(self) -> str | None:
        return self.extensions.get("argument")

    @property
    def reason(self) -> str | None:
        """E.g. "TOO_MANY_MATCHES" for a name search matching too many persons."""
        return self.extensions.get("reason")


class CursorExpired(ApiError):
    """A change-feed cursor older than the events the feed keeps: load the population
    again and join from `changes_head`."""

    codes = frozenset({"CURSOR_EXPIRED"})


class TooManyOrders(ApiError):
    """The organisation has as many selection orders queued or running as it may."""

    codes = frozenset({"TOO_MANY_ORDERS"})


class UpstreamUnavailable(ApiError):
    """Skatteverket gave no usable answer in time; only that lookup failed."""

    codes = frozenset({"UPSTREAM_UNAVAILABLE"})

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, **details)
        seconds = self.extensions.get("retryAfterSeconds")
        self.retry_after = float(seconds) if seconds is not None else None


class Unavailable(ApiError):
    """Nothing of the answer was released (the access log or the database could not be
    reached, the server is busy or stopping); safe to send again after `retry_after`."""

    codes = frozenset({"AUDIT_UNAVAILABLE", "DATABASE_UNAVAILABLE", "SERVER_BUSY", "SHUTTING_DOWN"})


class InvalidOperation(ApiError):
    """The operation does not parse, fit the schema or stay within the query limits, or
    is not one of the documents the server trusts: a client generated from another
    schema, or with other documents, than the server's (its manifest)."""

    codes = frozenset(
        {
            "GRAPHQL_PARSE_FAILED",
            "GRAPHQL_VALIDATION_FAILED",
            "QUERY_TOO_COMPLEX",
            "DOCUMENT_NOT_TRUSTED",
            "PERSISTED_DOCUMENT_NOT_FOUND",
            "PERSISTED_QUERY_NOT_FOUND",
        }
    )


class BadRequest(ApiError):
    """The HTTP request itself was refused (its form, size or method)."""

    codes = frozenset(
        {
            "BAD_REQUEST",
            "PAYLOAD_TOO_LARGE",
            "URI_TOO_LONG",
            "REQUEST_HEADER_TOO_LARGE",
            "NOT_FOUND",
            "METHOD_NOT_ALLOWED",
            "BAD_DOCUMENT_ID",
            "DOCUMENT_ID_MISMATCH",
        }
    )


class Unauthenticated(ApiError):
    """No token, or a token refused; the message says why."""

    codes = frozenset({"UNAUTHENTICATED"})


class TooManySubscriptions(ApiError):
    """The WebSocket connection already runs as many operations as it may."""

    codes = frozenset({"TOO_MANY_SUBSCRIPTIONS"})


class InternalServerError(ApiError):
    """Something unexpected; `extensions["requestId"]` finds the server's log record."""

    codes = frozenset({"INTERNAL_SERVER_ERROR"})


FAMILIES: dict[str, type[ApiError]] = {
    code: family
    for family in (
        Forbidden,
        BadUserInput,
        CursorExpired,
        TooManyOrders,
        UpstreamUnavailable,
        Unavailable,
        InvalidOperation,
        BadRequest,
        Unauthenticated,
        TooManySubscriptions,
        InternalServerError,
    )
    for code in family.codes
}


def well_formed(errors: object) -> bool:
    """Whether ``errors`` is a GraphQL response's `errors`: a list of objects, each with a
    message, and extensions and a path (if any) of their types. A gateway's own JSON
    between the client and the API often is not."""
    return isinstance(errors, list) and all(
        isinstance(error, dict)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("extensions", {}), dict)
        and isinstance(error.get("path", []), list)
        for error in errors
    )


def api_error(error: dict[str, Any]) -> ApiError:
    """One error of an answer, as the class of its code."""
    extensions = error.get("extensions") or {}
    code = extensions.get("code")
    family = FAMILIES.get(code, ApiError) if isinstance(code, str) else ApiError
    return family(
        str(error.get("message", "")), code=code, path=error.get("path"), extensions=extensions
    )


def answer_error(
    errors: list[dict[str, Any]],
    data: dict[str, Any] | None = None,
    *,
    status_code: int | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The exception for an answer with errors: its first error's, holding them all."""
    found = [api_error(error) for error in errors]
    for error in found:
        error.errors, error.data, error.status_code = found, data, status_code
        if retry_after is not None and error.retry_after is None:
            error.retry_after = retry_after
    return found[0]


class UnexpectedResponse(VastfolketError):
    """An HTTP answer that is not a GraphQL response (a proxy's error page, say)."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(f"HTTP {status_code}: not a GraphQL response: {body[:200]!r}")
        self.status_code = status_code
        self.body = body


class SubscriptionClosed(VastfolketError):
    """The WebSocket closed before the subscription completed. Subscribe again with the
    last event's cursor as `after` to go on without a gap (docs/changes.md has the
    close codes: 4403 a token refused or expired, 4499 a slow consumer, 1001 the server
    stopping)."""

    def __init__(self, code: int | None, reason: str | None) -> None:
        super().__init__(f"the subscription's connection closed: {code} {reason or ''}".strip())
        self.code = code
        self.reason = reason
