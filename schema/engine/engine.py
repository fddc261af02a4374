"""The engine: prepare a query text once, execute it per request, on either path."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLSchema, execute
from strawberry.execution.is_awaitable import optimized_is_awaitable

from schema.context import Context, Limits
from schema.engine.disclosure import notes
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
        if self.stock:
            outcome = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=StockExecutionContext,
                notes=self._notes,
            )
        else:
            outcome = execute(
                self.schema,
                document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=PlainFieldsExecutionContext,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                shared_plans=prepared.shared_plans,
                gates=self._gates,
                notes=self._notes,
                observer=self._observer,
            )
        return outcome if isinstance(outcome, ExecutionResult) else await outcome
