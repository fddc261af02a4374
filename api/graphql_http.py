"""The GraphQL HTTP endpoint: POST (and GET, for queries) and the GraphiQL page.

A thin adapter: it reads the HTTP parameters and headers, has the pipeline prepare the
document they name (its text, or its id: ``api.documents``; the engine prepares each
distinct text once), hands the operation to the pipeline every transport shares
(``api.operation``), and encodes its outcome in the media type the client accepts
(``api.media``: the status codes and bodies each one decides), a refusal as HTTP 503.
Strawberry's own view does the same through layers of hooks and wrappers that cost
about a third of a lookup's CPU.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import DocumentNode, OperationType, get_operation_ast
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html

from api import media
from api.documents import BadRequest, Documents, Parts, request_parts
from api.graphiql import PAGE_HEADERS, GraphiQLPage
from api.operation import Outcome, Pipeline, Transport
from resolvers.domain.text import blank, unprintable
from resolvers.selections.orders import Policy
from schema.engine import Engine
from schema.errors import METHOD_NOT_ALLOWED, UNAUTHENTICATED

# What every 503 tells the client to wait before trying again: an outage of the
# database or the access log is usually over in seconds (a restart, a failover).
RETRY_AFTER_SECONDS = 2
SUBSCRIPTIONS_OVER_WEBSOCKET = (
    "subscriptions are served over WebSocket at this path (/graphql), in the "
    "graphql-transport-ws protocol; see docs/changes.md"
)
# The parameters that name a document: a GET without any of them opens GraphiQL.
DOCUMENT_PARAMETERS = ("query", "documentId", "extensions")


def error_response(
    message: str, code: str, status: int, *, request_id: str | None = None,
    media_type: str = media.JSON, **headers: str,
) -> Response:  # fmt: skip
    extensions = {"code": code} if request_id is None else {"code": code, "requestId": request_id}
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return media.encoded(body, status, media_type, **headers)


def unauthenticated(message: str) -> Response:
    return error_response(
        message, UNAUTHENTICATED, 401, **{"WWW-Authenticate": 'Bearer realm="vastfolket"'}
    )


class GraphQLEndpoint:
    def __init__(
        self,
        engine: Engine,
        *,
        documents: Documents | None = None,
        access_log_timeout: float = 2.0,
        example_from_register: bool = False,
        selections: Policy | None = None,
    ) -> None:
        """``example_from_register``: GraphiQL opens on a number from the register, beside
        the docs' examples (only for a development server: the page is served without a
        token)."""
        self.engine = engine
        self.pipeline = Pipeline(
            engine,
            documents=documents,
            access_log_timeout=access_log_timeout,
            selections=selections,
        )
        self.graphiql_page = GraphiQLPage(
            get_graphql_ide_html(graphql_ide="graphiql"), development=example_from_register
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in ("GET", "POST"):
            # Starlette lets HEAD through to every GET route: a lookup answered without
            # its body would still be logged as shown.
            response: Response = error_response(
                f"{request.method} is not served here; use GET or POST",
                METHOD_NOT_ALLOWED, 405, Allow="GET, POST",
            )  # fmt: skip
        elif request.method == "GET" and not any(
            name in request.query_params for name in DOCUMENT_PARAMETERS
        ):
            response = await self.graphiql(request)
        elif not getattr(scope.get("user"), "is_authenticated", False):
            response = unauthenticated("Not authenticated: send 'Authorization: Bearer <token>'.")
        else:
            media_type = media.response_type(request)
            try:
                response = await self.answer(request, media_type)
            except BadRequest as error:
                response = error_response(
                    str(error), error.code, error.status, media_type=media_type, **error.headers
                )
        await response(scope, receive, send)

    async def graphiql(self, request: Request) -> Response:
        page = await self.graphiql_page.render(request.app.state.database.read)
        return HTMLResponse(page, headers=PAGE_HEADERS)

    async def answer(self, request: Request, media_type: str) -> Response:
        parts = await _parameters(request)
        variables, operation_name = parts.variables, parts.operation_name
        case_reference = _case_reference(request)
        prepared = self.pipeline.prepare(parts)
        if prepared.document is not None:
            _check_method(request, prepared.document, operation_name)
        request_id = request.scope["state"]["request_id"]
        state = request.app.state
        transport = Transport(state.database, request_id, case_reference, state.skatteverket)
        run = functools.partial(
            self.pipeline.run, prepared, variables, operation_name, request.user.viewer
        )
        if prepared.document is not None and _is_mutation(prepared.document, operation_name):
            outcome = await _in_transaction(run, transport)
        else:
            outcome = await run(transport)
        refusal, result = outcome.refusal, outcome.result
        if refusal is not None or result is None:  # the one or the other
            assert refusal is not None
            return error_response(
                refusal.message, refusal.code, 503, request_id=request_id, media_type=media_type
            )
        return media.graphql_response(result, media_type, request_error=outcome.request_error)


async def _in_transaction(
    run: Callable[[Transport], Awaitable[Outcome]], transport: Transport
) -> Outcome:
    """A mutation on one connection in one transaction: its changes and its access log
    rows commit together, or, when the answer is refused, neither does."""
    async with transport.database.write.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            outcome = await run(transport._replace(connection=connection))
        except BaseException:
            await transaction.rollback()
            raise
        await (transaction.rollback() if outcome.refusal else transaction.commit())
        return outcome


def _is_mutation(document: DocumentNode, operation_name: str | None) -> bool:
    operation = get_operation_ast(document, operation_name)
    return operation is not None and operation.operation is OperationType.MUTATION


async def _parameters(request: Request) -> Parts:
    if request.method == "GET":
        params: dict[str, Any] = _query_string(request)
        for name in ("variables", "extensions"):  # JSON in a GET's parameters
            if name in params:
                params[name] = _json(params[name], f"`{name}` is not valid JSON")
        if params.get("operationName") == "":  # the spec's way to name none over GET
            del params["operationName"]
    else:
        unsupported = media.unsupported_body(request)
        if unsupported is not None:
            raise BadRequest(unsupported, status=415)
        params = _json(await request.body(), "the request body is not valid JSON")
    if not isinstance(params, dict):
        raise BadRequest("the request body must be a JSON object")
    return request_parts(params)


def _query_string(request: Request) -> dict[str, str]:
    """GET parameters as UTF-8 text; Starlette would read stray bytes as Latin-1 and
    put U+FFFD for percent-escapes that are not UTF-8."""
    raw = bytes(request.scope.get("query_string", b""))
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("the query string is not valid UTF-8") from None
    return dict(pairs)


def _json(data: str | bytes, complaint: str) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        raise BadRequest(complaint) from None


def _text_header(request: Request, name: str) -> str | None:
    """A header's value as the UTF-8 text it is (Starlette reads headers as Latin-1,
    which would keep 'ÄR-2026/123' as 'ÃR-2026/123')."""
    key = name.lower().encode("ascii")
    values = [value for header, value in request.scope["headers"] if header == key]
    if not values:
        return None
    if len(values) > 1:  # one would be kept and the other never checked
        raise BadRequest(f"{name} is given {len(values)} times; send it once")
    try:
        return bytes(values[0]).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest(f"{name} is not valid UTF-8") from None


def _case_reference(request: Request) -> str | None:
    reference = _text_header(request, "X-Case-Reference")
    if reference is None:
        return None
    reference = reference.strip()  # ärendereferens, as a case management system writes it
    problem = unprintable(reference)
    if problem is not None:
        raise BadRequest(f"X-Case-Reference may only hold printable text: {problem}")
    if blank(reference) or len(reference) > 100:
        raise BadRequest("X-Case-Reference must be 1 to 100 characters, not all blank")
    return reference


def _check_method(request: Request, document: DocumentNode, operation_name: str | None) -> None:
    """Only queries over GET: a link must not be able to change anything. Subscriptions
    only over WebSocket: an HTTP answer cannot follow the feed."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return
    if operation.operation is OperationType.SUBSCRIPTION:
        raise BadRequest(SUBSCRIPTIONS_OVER_WEBSOCKET)
    if request.method == "GET" and operation.operation is not OperationType.QUERY:
        raise BadRequest("only queries may be sent with GET; use POST", status=405)
