"""The operations a WebSocket runs, through the one pipeline: what Strawberry's handler
calls its schema (``stream``).

Each operation gets a request id of its own (the access log stamps it, log lines carry
it). Its document — its text, or the id of one — is prepared as over HTTP
(``Pipeline.prepare``: trusted documents, the limits, validation); a subscription then
runs through ``Pipeline.subscribe``, one message per event, each event written to the
access log before it is sent; a query through ``Pipeline.run``, one message.
Mutations are not served here: a change and its audit belong in one HTTP request.
Whatever refuses the operation — its parts of the wrong type, a document not trusted,
the limits, validation, a missing role, the access log that cannot be written, the
database out of reach — is one ``PreExecutionError``, sent as the operation's ``error``
message with its code; the operation ends there (the connection stays).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, OperationType, get_operation_ast
from strawberry.types.execution import ExecutionResult, PreExecutionError

from api.documents import BadRequest, Parts, request_parts
from api.logs import new_request_id, request_id_var
from api.operation import Outcome, Pipeline
from schema.engine import Prepared
from schema.errors import BAD_REQUEST, INTERNAL_SERVER_ERROR

if TYPE_CHECKING:
    from api.websocket import Session

logger = logging.getLogger("vastfolket.errors")

MUTATIONS_OVER_HTTP = "mutations are not served over WebSocket: POST them to /graphql"


def refused(message: str, code: str, request_id: str) -> PreExecutionError:
    error = GraphQLError(message, extensions={"code": code, "requestId": request_id})
    return PreExecutionError(data=None, errors=[error])


def message_of(outcome: Outcome, request_id: str) -> ExecutionResult:
    """An outcome as the handler sends it: a result (``next``), or a refusal (``error``)."""
    if outcome.refusal is not None:
        return refused(outcome.refusal.message, outcome.refusal.code, request_id)
    result = outcome.result
    assert result is not None
    # Nothing was disclosed, nor could be: the operation was refused before it ran
    # (or its source ended it), not an answer with errors.
    if outcome.disclosed is None and result.data is None:
        return PreExecutionError(data=None, errors=list(result.errors or ()))
    return ExecutionResult(data=result.data, errors=result.errors)


def _kind(prepared: Prepared, operation_name: str | None) -> OperationType | None:
    if prepared.document is None:
        return None
    operation = get_operation_ast(prepared.document, operation_name)
    return None if operation is None else operation.operation


class Operations:
    """Runs a connection's operations (one per ``subscribe`` message) on the pipeline."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def stream(
        self,
        query: Any,
        variable_values: Any,
        context_value: Session,
        root_value: None,
        operation_name: Any,
    ) -> AsyncGenerator[ExecutionResult]:
        """``query``: the ``subscribe`` message's whole payload (``api.websocket_handler``)."""
        return self._results(context_value, query)

    async def _results(self, session: Session, payload: Any) -> AsyncGenerator[ExecutionResult]:
        request_id = new_request_id()
        request_id_var.set(request_id)  # the operation's own task: its log lines
        try:
            try:
                parts = request_parts(payload)
                prepared = self.pipeline.prepare(parts)
            except BadRequest as error:
                yield refused(str(error), error.code, request_id)
                return
            results = self._run(session, request_id, prepared, parts)
            async with contextlib.aclosing(results):
                async for result in results:
                    yield result
                    if isinstance(result, PreExecutionError):
                        return
        except Exception:
            logger.exception("unexpected error in a WebSocket operation (request %s)",
                             request_id, extra={"request_id": request_id})  # fmt: skip
            message = f"Internal server error (request id {request_id})."
            yield refused(message, INTERNAL_SERVER_ERROR, request_id)

    async def _run(
        self, session: Session, request_id: str, prepared: Prepared, parts: Parts
    ) -> AsyncGenerator[ExecutionResult]:
        pipeline, viewer = self.pipeline, session.viewer
        assert viewer is not None, "the handler runs nothing before connection_init"
        variables, name = parts.variables, parts.operation_name
        kind = _kind(prepared, name)
        transport = session.transport(request_id)
        if kind is OperationType.MUTATION:
            yield refused(MUTATIONS_OVER_HTTP, BAD_REQUEST, request_id)
        elif kind is OperationType.SUBSCRIPTION:
            outcomes = pipeline.subscribe(prepared, variables, name, viewer, transport)
            async with contextlib.aclosing(outcomes):
                async for outcome in outcomes:
                    yield message_of(outcome, request_id)
        else:
            outcome = await pipeline.run(prepared, variables, name, viewer, transport)
            yield message_of(outcome, request_id)
