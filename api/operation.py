"""One operation, whatever brought it: the pipeline every transport calls.

HTTP (``api.graphql_http``) and a WebSocket (``api.websocket_operations``) each read
their own input and then hand over the same things: a prepared document, its variables
and operation name, the viewer, and what the transport knows of the request
(``Transport``: its id, the case reference, the database). The pipeline applies every
rule of an answer the same way for all of them:

1. the limits (the engine's, per text and per request);
2. execution, noting every person the answer shows (``schema.engine``);
3. the database-outage rule: a field that failed because the database is unreachable
   fails the whole answer (``DATABASE_UNAVAILABLE``), never a partial one;
4. the access log: what the answer shows is written, and committed, before it may
   leave; if it cannot be, the answer is withheld (``AUDIT_UNAVAILABLE``); that rule is
   ``api.audit``'s, which a selection's export and its downloads, releasing persons
   without GraphQL, follow too. With
   ``Transport.connection`` (a connection in an open transaction) the rows are written
   on it, so a change and its audit commit or roll back together;
5. error codes (``coded_errors``): every error has a stable ``extensions.code``, and an
   unexpected one is masked, its detail logged under the request id.

Before any of it, ``prepare`` decides which document a request runs: its text, or one
named by its id, and in trusted mode only the manifest's (``api.documents``).

A refusal comes back as ``Outcome.refusal``; each transport answers it in its own
shape (HTTP: 503 with ``Retry-After``).

A subscription (``subscribe``) applies the same rules to each batch of events its
source yields: the selection runs on every event of the batch, what they show is
written and committed, and only then are the results handed out, one per event; if the
log cannot be written the batch is withheld and the subscription ends with the refusal
(the subscriber resumes from the last event it received).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable
from typing import Any, NamedTuple

import asyncpg
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    get_operation_ast,
)

from api import audit
from api.documents import Documents, Parts
from api.logs import DATABASE_OUTAGE
from api.metrics import DATABASE_UNAVAILABLE_REFUSALS
from resolvers.audit import access_log, log_writer
from resolvers.audit.access_log import AccessRecord
from resolvers.changes.wakeups import Wakeups
from resolvers.db import Database, database_unavailable
from resolvers.domain.access import Viewer
from resolvers.selections.orders import Policy
from resolvers.skatteverket.client import SkatteverketClient
from schema.build import coded_errors, outage
from schema.context import Context, build_context
from schema.engine import Engine, Prepared
from schema.errors import AUDIT_UNAVAILABLE, DATABASE_UNAVAILABLE
from schema.selection import fields_of


class Transport(NamedTuple):
    """What the transport knows of one request, beyond the operation and the viewer
    (the client system is the viewer's, from its token)."""

    database: Database  # lookups read from its read pool; the log is written on its primary
    request_id: str
    case_reference: str | None = None  # ärendereferens, as the caller sent it
    skatteverket: SkatteverketClient | None = None  # the fallback, when connected
    # An open transaction the access log rows are written in (a job's, a mutation's);
    # None: they are written and committed on their own, grouped with other requests'.
    connection: asyncpg.Connection | None = None
    # What wakes subscriptions when events may have committed (a WebSocket's worker).
    wakeups: Wakeups | None = None


class Refusal(NamedTuple):
    """Nothing of the answer may leave: why (a code of ``docs/errors.md``) and a message."""

    code: str
    message: str


class Outcome(NamedTuple):
    # The answer, its errors coded; None when refused.
    result: ExecutionResult | None
    # What it showed, as written to the access log; None when refused.
    disclosed: AccessRecord | None
    refusal: Refusal | None = None

    @property
    def request_error(self) -> bool:
        """Nothing ran: the document did not parse or validate, a limit refused it, or
        its variables or the operation it names were refused (GraphQL's request errors,
        which HTTP may answer 400). Such an answer has no data and no error at a field;
        a field's error always has a path, even one that nulled all of ``data``."""
        result = self.result
        if result is None or result.data is not None:
            return False
        return not any(error.path for error in result.errors or ())


def outage_refusal(request_id: str, error: BaseException) -> Refusal:
    """An unreachable database, logged as an outage (a line, not a trace) and counted."""
    DATABASE_OUTAGE.failed(request_id, error)
    DATABASE_UNAVAILABLE_REFUSALS.inc()
    message = f"The database cannot be reached; try again shortly (request id {request_id})."
    return Refusal(DATABASE_UNAVAILABLE, message)


class Pipeline:
    """Runs operations on one engine; one per app (it keeps the access log's writer)."""

    def __init__(
        self,
        engine: Engine,
        *,
        documents: Documents | None = None,
        access_log_timeout: float = 2.0,
        selections: Policy | None = None,
    ) -> None:
        self.engine = engine
        self.documents = documents or Documents(engine)
        self.access_log_timeout = access_log_timeout
        self.selections = selections
        self._writers: dict[int, log_writer.AccessLogWriter] = {}  # by pool: one per app

    def prepare(self, parts: Parts) -> Prepared:
        """The request's document, prepared, if the documents' mode lets it run (else
        ``api.documents.BadRequest``): the one place every transport asks."""
        return self.documents.prepare(parts)

    async def run(
        self,
        prepared: Prepared,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
        transport: Transport,
    ) -> Outcome:
        request_id = transport.request_id
        if prepared.document is None:
            return Outcome(ExecutionResult(None, coded_errors(prepared.errors, request_id)), None)
        context = self._context(viewer, transport)
        result = await self.engine.execute(prepared, context, variables, operation_name)
        refusal = await self._released(
            [result], context.access, prepared, operation_name, viewer, transport
        )
        if refusal is not None:
            return Outcome(None, None, refusal)
        return Outcome(_coded(result, request_id), context.access)

    async def subscribe(
        self,
        prepared: Prepared,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        viewer: Viewer,
        transport: Transport,
    ) -> AsyncGenerator[Outcome]:
        """A subscription's outcomes, one per event; a refusal or an error ends it."""
        request_id = transport.request_id
        if prepared.document is None:
            yield Outcome(ExecutionResult(None, coded_errors(prepared.errors, request_id)), None)
            return
        context = self._context(viewer, transport)
        stream = await self.engine.subscribe(prepared, context, variables, operation_name)
        if isinstance(stream, ExecutionResult):  # refused before its first event
            unreachable = outage(stream.errors)
            if unreachable is not None:
                yield Outcome(None, None, outage_refusal(request_id, unreachable))
            else:
                yield Outcome(_coded(stream, request_id), None)
            return
        try:
            async for batch in stream.batches:
                results = await stream.results(batch)
                record = context.next_batch()
                refusal = await self._released(
                    results, record, prepared, operation_name, viewer, transport
                )
                if refusal is not None:
                    yield Outcome(None, None, refusal)
                    return
                for result in results:
                    yield Outcome(_coded(result, request_id), record)
        except GraphQLError as error:  # the source's own refusal (a cursor pruned meanwhile)
            yield Outcome(ExecutionResult(None, coded_errors([error], request_id)), None)
        except Exception as error:
            if not database_unavailable(error):
                raise
            yield Outcome(None, None, outage_refusal(request_id, error))
        finally:
            await stream.aclose()

    def _context(self, viewer: Viewer, transport: Transport) -> Context:
        return build_context(
            transport.database, viewer, request_id=transport.request_id,
            limits=self.engine.limits, skatteverket=transport.skatteverket,
            wakeups=transport.wakeups, connection=transport.connection,
            selections=self.selections,
        )  # fmt: skip

    async def _released(
        self,
        results: list[ExecutionResult],
        record: AccessRecord,
        prepared: Prepared,
        operation_name: str | None,
        viewer: Viewer,
        transport: Transport,
    ) -> Refusal | None:
        """Why the results may not leave (an outage, an unwritten log), or None once what
        they show is written."""
        request_id = transport.request_id
        for result in results:
            unreachable = outage(result.errors)
            if unreachable is not None:
                return outage_refusal(request_id, unreachable)
        if record:
            assert prepared.document is not None
            names = _operation(prepared.document, operation_name)
            origin = access_log.Origin(viewer, *names, request_id, transport.case_reference)
            if not await self._logged(record, origin, transport):
                message = (
                    "The access log cannot be written, so no person data is released; "
                    f"try again shortly (request id {request_id})."
                )
                return Refusal(AUDIT_UNAVAILABLE, message)
        return None

    async def _logged(
        self, record: AccessRecord, origin: access_log.Origin, transport: Transport
    ) -> bool:
        """Write what the request showed; False if that failed (the answer is withheld)."""
        if transport.connection is not None:
            write = access_log.write_in(
                transport.connection, origin, record, timeout=self.access_log_timeout
            )
        else:
            write = self._writer(transport.database.write).write(origin, record)
        return await audit.written(origin.request_id, _rows(write, len(record)))

    def _writer(self, pool: asyncpg.Pool) -> log_writer.AccessLogWriter:
        writer = self._writers.get(id(pool))
        if writer is None or writer.pool is not pool:
            writer = log_writer.AccessLogWriter(pool, timeout=self.access_log_timeout)
            self._writers = {id(pool): writer}
        return writer


async def _rows(write: Awaitable[None], rows: int) -> int:
    await write
    return rows


def _coded(result: ExecutionResult, request_id: str) -> ExecutionResult:
    if not result.errors:
        return result
    return ExecutionResult(result.data, coded_errors(result.errors, request_id))


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
