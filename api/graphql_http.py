"""The GraphQL HTTP endpoint: POST (and GET, for queries) and the GraphiQL page.

Strawberry declares the schema; this endpoint runs it on graphql-core directly:
documents parsed and validated once per distinct query text, the plain-field
execution context, orjson in and out. Strawberry's own view does the same through
layers of hooks and wrappers that cost about a third of a lookup's CPU.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationType,
    execute,
    get_operation_ast,
    parse,
)
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.schema import validate_document

from api.graphiql import default_query, offline_page, with_default_query
from api.logs import ACCESS_LOG_OUTAGE
from api.metrics import ACCESS_LOG_FAILURES, ACCESS_LOG_ROWS
from resolvers import access_log
from resolvers.db import database_unavailable
from resolvers.text import blank, unprintable
from schema import complexity
from schema.build import build_schema, coded_errors, outage, with_code
from schema.complexity import Budget
from schema.context import Context, Limits, build_context
from schema.errors import (
    AUDIT_UNAVAILABLE,
    BAD_REQUEST,
    GRAPHQL_PARSE_FAILED,
    GRAPHQL_VALIDATION_FAILED,
    METHOD_NOT_ALLOWED,
    UNAUTHENTICATED,
    QueryTooComplex,
)
from schema.execution import PlainFieldsExecutionContext
from schema.selection import fields_of, varies_by_request

DOCUMENT_CACHE_SIZE = 1024
# What every 503 tells the client to wait before trying again: an outage of the
# database or the access log is usually over in seconds (a restart, a failover).
RETRY_AFTER_SECONDS = 2

logger = logging.getLogger("vastfolket.access_log")


class Prepared(NamedTuple):
    document: DocumentNode | None
    errors: list[GraphQLError]
    # Execution plans may be shared between requests unless a request can change which
    # fields are selected (``schema.selection.varies_by_request``).
    shared_plans: bool = False
    # Limits left to check per request (page sizes from variables, or which of several
    # operations runs); None when the text alone passed them all.
    budget: Budget | None = None

    def within_budget(self, variables: dict[str, Any] | None, operation: str | None) -> Prepared:
        refusals = self.budget.refusals(variables, operation) if self.budget else []
        return Prepared(None, list(refusals)) if refusals else self


class BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def error_response(
    message: str, code: str, status: int, *, request_id: str | None = None, **headers: str
) -> Response:
    extensions = {"code": code} if request_id is None else {"code": code, "requestId": request_id}
    if status == 503:
        headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
    body = {"errors": [{"message": message, "extensions": extensions}]}
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def unauthenticated(message: str) -> Response:
    return error_response(
        message, UNAUTHENTICATED, 401, **{"WWW-Authenticate": 'Bearer realm="vastfolket"'}
    )


class GraphQLEndpoint:
    def __init__(
        self,
        limits: Limits,
        *,
        access_log_timeout: float = 2.0,
        example_from_register: bool = False,
    ) -> None:
        """``example_from_register``: GraphiQL opens on a number from the register (only
        for a development server: the page is served without a token)."""
        self.schema = build_schema()._schema
        self.limits = limits
        self.access_log_timeout = access_log_timeout
        self._writers: dict[int, access_log.AccessLogWriter] = {}  # by pool: one per app
        self.example_from_register = example_from_register
        self.prepare = lru_cache(maxsize=DOCUMENT_CACHE_SIZE)(self._prepare)
        self.graphiql_html = offline_page(get_graphql_ide_html(graphql_ide="graphiql"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if request.method not in ("GET", "POST"):
            # Starlette lets HEAD through to every GET route: a lookup answered without
            # its body would still be logged as shown.
            response: Response = error_response(
                f"{request.method} is not served here; use GET or POST",
                METHOD_NOT_ALLOWED, 405, Allow="GET, POST",
            )  # fmt: skip
        elif request.method == "GET" and "query" not in request.query_params:
            response = await self.graphiql(request)
        elif not getattr(scope.get("user"), "is_authenticated", False):
            response = unauthenticated("Not authenticated: send 'Authorization: Bearer <token>'.")
        else:
            try:
                response = await self.answer(request)
            except BadRequest as error:
                response = error_response(str(error), BAD_REQUEST, error.status)
        await response(scope, receive, send)

    async def graphiql(self, request: Request) -> Response:
        query = await default_query(
            request.app.state.database.read, from_register=self.example_from_register
        )
        return HTMLResponse(with_default_query(self.graphiql_html, query))

    async def answer(self, request: Request) -> Response:
        query, variables, operation_name = await _parameters(request)
        case_reference = _case_reference(request)
        prepared = self.prepare(query)
        if prepared.budget is not None:
            prepared = prepared.within_budget(variables, operation_name)
        request_id = request.scope["state"]["request_id"]
        if prepared.document is None:
            result = ExecutionResult(None, prepared.errors)
        else:
            _check_method(request, prepared.document, operation_name)
            context = build_context(
                request.app.state.database, request.user.viewer, request_id=request_id,
                limits=self.limits, skatteverket=request.app.state.skatteverket,
            )  # fmt: skip
            outcome = execute(
                self.schema,
                prepared.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=PlainFieldsExecutionContext,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                shared_plans=prepared.shared_plans,
            )
            result = outcome if isinstance(outcome, ExecutionResult) else await outcome
            unreachable = outage(result.errors)
            if unreachable is not None:  # the guard answers it: 503, nothing shown
                raise unreachable
            if context.access:
                origin = access_log.Origin(
                    context.viewer,
                    *_operation(prepared.document, operation_name),
                    request_id,
                    case_reference,
                )
                if not await self._logged(context, origin):
                    return error_response(
                        "The access log cannot be written, so no person data is released; "
                        f"try again shortly (request id {request_id}).",
                        AUDIT_UNAVAILABLE,
                        503,
                        request_id=request_id,
                    )
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = [error.formatted for error in coded_errors(result.errors, request_id)]
        return Response(orjson.dumps(body), media_type="application/json")

    async def _logged(self, context: Context, origin: access_log.Origin) -> bool:
        """Write what the request showed; False if that failed (the answer is withheld)."""
        pool = context.database.write  # the log is written on the primary, always
        writer = self._writers.get(id(pool))
        if writer is None or writer.pool is not pool:
            writer = access_log.AccessLogWriter(pool, timeout=self.access_log_timeout)
            self._writers = {id(pool): writer}
        try:
            await writer.write(origin, context.access)
        except Exception as error:
            ACCESS_LOG_FAILURES.inc()
            if database_unavailable(error):  # an outage (or a timeout): a line, not a trace
                ACCESS_LOG_OUTAGE.failed(origin.request_id, error)
                return False
            logger.exception(
                "access log not written (request %s)",
                origin.request_id,
                extra={"request_id": origin.request_id},
            )
            return False
        ACCESS_LOG_ROWS.inc(len(context.access))
        return True

    def _prepare(self, query: str) -> Prepared:
        """Parse, measure and validate a query text (cached: once per distinct text)."""
        limits = self.limits
        try:
            document = parse(
                query, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_tokens
            )
        except GraphQLError as error:
            refusal = too_many_tokens(error, limits)
            return Prepared(None, [refusal or with_code([error], GRAPHQL_PARSE_FAILED)[0]])
        # Measured before validation: its cost grows with the square of repeated fields.
        refusals, budget = complexity.check(self.schema, document, limits)
        if refusals:
            return Prepared(None, list(refusals))
        errors = validate_document(self.schema, document, complexity.VALIDATION_RULES)
        if errors:
            return Prepared(None, with_code(errors, GRAPHQL_VALIDATION_FAILED))
        return Prepared(document, [], not varies_by_request(document), budget)


def too_many_tokens(error: GraphQLError, limits: Limits) -> QueryTooComplex | None:
    """The parser's refusal of an overlong or overnested text, as a limit refusal."""
    if not error.message.endswith("Parsing aborted."):
        return None
    if "nested too deeply" in error.message:
        return QueryTooComplex(
            f"The query is nested too deeply to read (the limit is {limits.max_depth}).",
            limit="depth",
            maximum=limits.max_depth,
            actual=None,
        )
    return QueryTooComplex(
        f"The query is too long: at most {limits.max_tokens} tokens and as many comments are read.",
        limit="tokens",
        maximum=limits.max_tokens,
        actual=None,
    )


async def _parameters(request: Request) -> tuple[str, dict[str, Any] | None, str | None]:
    if request.method == "GET":
        params: dict[str, Any] = _query_string(request)
        if "variables" in params:
            params["variables"] = _json(params["variables"], "`variables` is not valid JSON")
    else:
        params = _json(await request.body(), "the request body is not valid JSON")
    if not isinstance(params, dict):
        raise BadRequest("the request body must be a JSON object")
    query, variables = params.get("query"), params.get("variables")
    operation_name = params.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("no GraphQL query found in the request ('query' must be a string)")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be a JSON object")
    if operation_name is not None and not isinstance(operation_name, str):
        raise BadRequest("'operationName' must be a string")
    return query, variables, operation_name


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


def _operation(document: DocumentNode, operation_name: str | None) -> tuple[str | None, str]:
    """The operation's name and its root fields by name (not alias), for the access log."""
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return operation_name, ""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names = dict.fromkeys(
        field.name.value for field in fields_of(operation.selection_set, fragments)
    )
    return (operation.name.value if operation.name else operation_name), ",".join(names)


def _check_method(request: Request, document: DocumentNode, operation_name: str | None) -> None:
    """Only queries over GET: a link must not be able to change anything."""
    if request.method != "GET":
        return
    operation = get_operation_ast(document, operation_name)
    if operation is not None and operation.operation is not OperationType.QUERY:
        raise BadRequest("only queries may be sent with GET; use POST", status=405)
