"""The engine: prepare a query text once, execute it per request, on either path."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    ExecutionResult,
    Executor,
    GraphQLSchema,
    create_source_event_stream,
    execute,
    execute_subscription_event,
)
from strawberry.execution.is_awaitable import optimized_is_awaitable

from schema.context import Context, Limits
from schema.engine.disclosure import notes
from schema.engine.events import EventReader, event_reader
from schema.engine.execution import PlainFieldsExecutionContext
from schema.engine.observer import UNOBSERVED, Observer
from schema.engine.plan import gates
from schema.engine.prepare import Prepared, prepare
from schema.engine.stock import StockExecutionContext

DOCUMENT_CACHE_SIZE = 1024  # distinct query texts kept prepared


class Engine:
    """Runs the schema's operations: the fast path, or graphql-core's own (``stock``).

    Built once per app. ``observer`` hears what the engine tells of itself (a compiled
    reader that raised). Raises ``UndeclaredDisclosure`` if a type of the schema shows
    a personnummer without declaring what it discloses.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        limits: Limits,
        *,
        stock: bool = False,
        observer: Observer = UNOBSERVED,
        cache_size: int = DOCUMENT_CACHE_SIZE,
    ) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.limits = limits
        self.stock = stock
        self._notes = notes(self.schema)
        self._gates = gates(self.schema)
        self._observer = observer
        self._prepared = lru_cache(maxsize=cache_size)(self._prepare)

    def prepare(self, text: str) -> Prepared:
        """The text parsed (within the token limit), measured against the limits and
        validated, or the errors that refuse it; cached per distinct text."""
        return self._prepared(text)

    def _prepare(self, text: str) -> Prepared:
        return prepare(self.schema, self.limits, text)

    async def execute(
        self,
        prepared: Prepared,
        context: Context,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        """Run one operation of a prepared document for one request.

        The limits that depend on the request (page sizes from variables, which of
        several operations) are checked first; a refused or unprepared document
        returns its errors without running. Every disclosing object the answer holds
        is noted in ``context.access``. Errors come back as graphql-core raised them:
        their codes are the caller's to give (``schema.build.coded_errors``).
        """
        if prepared.budget is not None:
            prepared = prepared.within_budget(variables, operation_name)
        document = prepared.document
        if document is None:
            return ExecutionResult(None, prepared.errors)
        outcome = execute(
            self.schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=self._executor_class(),
            **self._executor_arguments(prepared),
        )
        return outcome if isinstance(outcome, ExecutionResult) else await outcome

    async def subscribe(
        self,
        prepared: Prepared,
        context: Context,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> Stream | ExecutionResult:
        """Start a subscription: its source of events, and the selection run per event.

        The root field's resolver (its arguments coerced, its permission asked, as any
        field's) returns the source: an async iterator of *batches* of events. The
        caller runs the selection on a batch (``Stream.results``), writes what it
        showed, then sends the results. Errors before the source exists come back as an
        ``ExecutionResult`` (no data).
        """
        if prepared.budget is not None:
            prepared = prepared.within_budget(variables, operation_name)
        document = prepared.document
        if document is None:
            return ExecutionResult(None, prepared.errors)
        executor = self._executor_class().build(
            self.schema, document, None, context, variables, operation_name,
            **self._executor_arguments(prepared),
        )  # fmt: skip
        if isinstance(executor, list):
            return ExecutionResult(None, executor)
        source = create_source_event_stream(executor)
        if inspect.isawaitable(source):
            source = await source
        if isinstance(source, ExecutionResult):
            return source
        reader = None
        if isinstance(executor, PlainFieldsExecutionContext):
            reader = event_reader(executor)
        return Stream(executor, source, reader)

    def _executor_class(self) -> type[Executor]:
        return StockExecutionContext if self.stock else PlainFieldsExecutionContext

    def _executor_arguments(self, prepared: Prepared) -> dict[str, Any]:
        if self.stock:
            return {"notes": self._notes}
        return {
            "is_awaitable": optimized_is_awaitable,
            "shared_plans": prepared.shared_plans,
            "gates": self._gates,
            "notes": self._notes,
            "observer": self._observer,
        }


class Stream:
    """A running subscription: batches of source events, each event answered by the
    operation's selection with the event as its root: by ``reader`` (``events``) where
    it answers, else by graphql-core's per-event execution."""

    def __init__(self, executor: Executor, source: Any, reader: EventReader | None = None) -> None:
        self._executor = executor
        self._reader = reader
        self.batches: AsyncIterator[list[Any]] = aiter(source)

    async def results(self, batch: list[Any]) -> list[ExecutionResult]:
        """The selection run on each event of a batch, in its order. They run together,
        so that what they load (the persons) is loaded for the batch at once."""
        pending = [self._result(event) for event in batch]
        if not any(inspect.isawaitable(result) for result in pending):
            return pending
        return await asyncio.gather(*(_settled(result) for result in pending))

    def _result(self, event: Any) -> Any:
        if self._reader is not None:
            result = self._reader(event)
            if result is not None:
                return result
        return execute_subscription_event(self._executor.build_per_event_executor(event))

    async def aclose(self) -> None:
        closing = getattr(self.batches, "aclose", None)
        if closing is not None:
            await closing()


async def _settled(result: Any) -> ExecutionResult:
    return await result if inspect.isawaitable(result) else result
