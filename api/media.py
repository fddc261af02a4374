"""GraphQL over HTTP's media types: what a request must send, what its answer is sent as,
and what that decides about the status and the body. The one place of these rules.

A POST body is JSON, sent as ``Content-Type: application/json`` (UTF-8, the default;
no other charset). Anything else is refused with 415: a body the server would have to
guess at, and a "simple" cross-site form post that no CORS preflight stops.

The answer's media type follows the ``Accept`` header: the highest ``q``, then a type
named over a wildcard, then the one listed first:

- ``application/json``, the legacy type — with no ``Accept``, with ``*/*`` or
  ``application/*``, with ``application/json``, and with nothing we serve (the spec
  lets the server choose then): a well-formed GraphQL request is answered 200, even one
  that did not parse or validate, always with ``data`` (null when nothing ran);
- ``application/graphql-response+json``, when the client names it (RFC 7231's order
  picks it): a *request error* — the document did not parse or validate, a limit
  refused it, its variables or the operation it names were refused, so nothing ran —
  is 400 with ``errors`` and no ``data`` entry; an operation that ran is 200 with
  ``data`` as it came out (null, partial or whole), as with ``application/json``.

With either, a request that is not a GraphQL request is a 4xx (``BAD_REQUEST``), an
outage a 503, a missing token a 401, and every error keeps its ``extensions.code``.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import ExecutionResult
from starlette.requests import Request
from starlette.responses import Response

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
# Sent with its charset, as the spec asks; application/json keeps the header it always had.
CONTENT_TYPES = {JSON: JSON, GRAPHQL_RESPONSE: f"{GRAPHQL_RESPONSE}; charset=utf-8"}
# What most clients send, answered without parsing the header.
PLAIN_ACCEPTS = frozenset({"", "*/*", JSON, f"{JSON}; charset=utf-8", "application/*"})
# How specific a media range is, for the types it covers (RFC 7231, 5.3.2).
SPECIFICITY = {GRAPHQL_RESPONSE: 2, JSON: 2, "application/*": 1, "*/*": 0}
UNACCEPTABLE = (0.0, 0, 0)


def unsupported_body(request: Request) -> str | None:
    """What is wrong with a POST body's declared type (the answer is a 415), or None
    when it is ``application/json`` in UTF-8."""
    declared = request.headers.get("content-type")
    if declared == JSON:
        return None
    if declared is None:
        return "no Content-Type: send the body as 'application/json'"
    kind, *parameters = (part.strip().lower() for part in declared.split(";"))
    charset = dict(_parameter(part) for part in parameters).get("charset", "utf-8")
    if kind != JSON or charset.strip('"') != "utf-8":
        return f"the body is sent as {declared!r}: send it as 'application/json' (UTF-8)"
    return None


def response_type(request: Request) -> str:
    """The media type to answer in: ``JSON`` or ``GRAPHQL_RESPONSE``."""
    accept = ",".join(request.headers.getlist("accept"))
    if accept in PLAIN_ACCEPTS:
        return JSON
    accept = accept.lower()
    return JSON if GRAPHQL_RESPONSE not in accept else _preferred(accept)


def graphql_response(result: ExecutionResult, media: str, *, request_error: bool) -> Response:
    """The answer to a GraphQL request that was served (not refused), in ``media``.

    ``request_error``: nothing ran (``api.operation.Outcome.request_error``); it decides
    only with ``GRAPHQL_RESPONSE``.
    """
    errors = [error.formatted for error in result.errors or ()]
    if media == GRAPHQL_RESPONSE and request_error:
        return encoded({"errors": errors}, 400, media)
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body["errors"] = errors
    return encoded(body, 200, media)


def encoded(body: dict[str, Any], status: int, media: str, **headers: str) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type=CONTENT_TYPES[media])


def _preferred(accept: str) -> str:
    """RFC 7231's choice between the two: the highest ``q``, then the more specific range
    (a type named beats a wildcard), then the one listed first. The most specific range
    covering a type gives its ``q``; wildcards stand for ``application/json`` only (the
    new type is chosen only when named)."""
    ranks: dict[str, tuple[float, int, int]] = {}
    for position, media_range in enumerate(accept.split(",")):
        kind, *parameters = (part.strip() for part in media_range.split(";"))
        specificity = SPECIFICITY.get(kind)
        if specificity is None:
            continue
        served = GRAPHQL_RESPONSE if kind == GRAPHQL_RESPONSE else JSON
        quality = _quality(dict(_parameter(part) for part in parameters).get("q"))
        known = ranks.get(served)
        if known is None or specificity > known[1]:
            ranks[served] = (quality, specificity, -position)
    response_rank = ranks.get(GRAPHQL_RESPONSE, UNACCEPTABLE)
    if response_rank[0] > 0 and response_rank > ranks.get(JSON, UNACCEPTABLE):
        return GRAPHQL_RESPONSE
    return JSON


def _parameter(text: str) -> tuple[str, str]:
    name, _, value = text.partition("=")
    return name.strip(), value.strip()


def _quality(value: str | None) -> float:
    if value is None:
        return 1.0
    try:
        return min(max(float(value), 0.0), 1.0)
    except ValueError:
        return 0.0
