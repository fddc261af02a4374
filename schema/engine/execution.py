"""An execution context that answers plain fields without per-field machinery.

Most fields of a person are attributes of a row already in memory. graphql-core
resolves each one through a path entry, a resolve-info object, Strawberry's resolver
wrapper and, for tier-gated fields, the permission extension: microseconds per field,
thousands of fields in a page. Here, plain fields (see ``schema.engine.plan``) are read
directly: leaves are coerced at once, objects and lists of objects go straight to
their sub-selection, and a selection that is plain all the way down is answered by
one compiled reader. Everything else — resolvers, unions, errors, fields above the
caller's tier — takes graphql-core's own path, unchanged. A compiled reader that
raises is told to the engine's observer (a metric) and the general path answers.
Which plan serves a selection is ``schema.engine.planning``'s.

Every object completed, on either path, whose type declares a disclosure
(``schema.engine.disclosure``) is noted in the request's access record
(``resolvers.audit.access_log``), as the stock engine notes it: what the answer shows is
what gets logged.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from graphql import GraphQLList, GraphQLObjectType, GraphQLResolveInfoHelpers, Undefined
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel

from schema.engine.observer import UNOBSERVED, Observer, reader_failed
from schema.engine.plan import NOT_READY, PlainField, is_type
from schema.engine.planning import PlanningExecutionContext

_CANNOT = object()  # a fast path declines; graphql-core's own path takes over


def _coerced(coerce: Any, value: Any) -> Any:
    """The leaf's output value, or None to let the general path report why not."""
    try:
        return coerce(value)
    except Exception:
        return None


def _settle_late(values: Any) -> None:
    """Let awaitables finish on their own, their errors retrieved (not logged as lost)."""
    for value in values:
        if inspect.isawaitable(value):
            asyncio.ensure_future(value).add_done_callback(_retrieve)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


_DETACHED_HELPERS = GraphQLResolveInfoHelpers(
    gather=lambda values: gather_with_cancel(*values), track=_settle_late
)


class PlainFieldsExecutionContext(PlanningExecutionContext):
    def __init__(self, *args: Any, observer: Observer = UNOBSERVED, **kwargs: Any) -> None:
        """``observer`` hears of compiled readers that raised; the rest is
        ``PlanningExecutionContext``'s."""
        super().__init__(*args, **kwargs)
        self._observer = observer

    def build_response(self, data: dict[str, Any] | None) -> Any:
        try:
            return super().build_response(data)
        finally:
            # graphql-core's helpers hold bound methods of this context: a reference
            # cycle that kept the whole request (its rows, loaders, plans) alive until
            # the garbage collector ran, and made it run often: its pauses were a page's
            # p99. Done, the request is freed at once; work still settling in the
            # background gets helpers that do not point back at it.
            self.async_helpers = _DETACHED_HELPERS

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        self.note(parent_type, source_value)
        plan = self._plan(parent_type, grouped_field_set)
        if plan.reader is not None:
            try:
                return plan.reader(source_value, self.context_value)
            except Exception as error:  # the general path below answers it exactly
                reader_failed(self._observer, parent_type.name, error)
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field, details in zip(plan.fields, grouped_field_set.values(), strict=True):
                # A shared plan's field details are an earlier request's: use this one's.
                result = self._execute(
                    field, details, parent_type, source_value, path, position_context
                )
                if result is Undefined:
                    continue
                results[field.key] = result
                if field.coerce is None and self.is_awaitable(result):
                    pending.append(field.key)
        except Exception:
            if pending:
                self.settle_in_background([results[key] for key in pending])
            raise
        if not pending:
            return results
        return self._gather(results, pending)

    def _execute(
        self,
        field: PlainField,
        details: Any,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Any,
        ctx: Any,
    ) -> Any:
        if field.read is None:
            value = NOT_READY
        else:
            try:
                value = (
                    field.read(source, self.context_value) if field.ahead else field.read(source)
                )
            except Exception:  # the general path reads it again and reports it at the field
                value = NOT_READY
        if value is not NOT_READY:
            if value is None and field.nullable:
                return None
            if value is not None and field.coerce is not None:
                coerced = _coerced(field.coerce, value)
                if coerced is not None and coerced is not Undefined:
                    return coerced
            elif value is not None and field.is_list:
                field_path = Path(path, field.key, parent_type.name)
                done = self._object_list(field.object_type, details, field_path, value, ctx)
                if done is not _CANNOT:
                    return done
            elif value is not None and field.object_type and is_type(field.object_type, value):
                field_path = Path(path, field.key, parent_type.name)
                return self._object(field.object_type, details, field_path, value, ctx)
        field_path = Path(path, field.key, parent_type.name)
        return self.execute_field(parent_type, source, details, field_path, ctx)

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        item_type = getattr(return_type.of_type, "of_type", return_type.of_type)
        if isinstance(item_type, GraphQLObjectType):
            done = self._object_list(item_type, field_details_list, path, result, position_context)
            if done is not _CANNOT:
                return done
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _object_list(self, object_type: Any, details: Any, path: Path, items: Any, ctx: Any) -> Any:
        """Complete a plain list of objects item by item, or decline (``_CANNOT``)."""
        if not isinstance(items, list):
            return _CANNOT
        for item in items:
            if item is None or self.is_awaitable(item) or not is_type(object_type, item):
                return _CANNOT
        completed: list[Any] = []
        pending: list[int] = []
        for index, item in enumerate(items):
            result = self._object(object_type, details, path.add_key(index, None), item, ctx)
            if self.is_awaitable(result):
                pending.append(index)
            completed.append(result)
        if not pending:
            return completed
        return self._gather_items(completed, pending)

    def _object(
        self, object_type: GraphQLObjectType, details: Any, path: Path, value: Any, ctx: Any
    ) -> Any:
        try:
            grouped_field_set = self.collect_subfields(object_type, details)[0]
            result = self.execute_fields(object_type, value, path, grouped_field_set, ctx)
        except Exception as error:
            self.handle_field_error(error, object_type, details, path)
            return None
        if not self.is_awaitable(result):
            return result
        return self._await_object(object_type, details, path, result)

    async def _await_object(
        self, object_type: GraphQLObjectType, details: Any, path: Path, result: Any
    ) -> Any:
        try:
            return await result
        except Exception as error:
            self.handle_field_error(error, object_type, details, path)
            return None

    async def _gather_items(self, completed: list[Any], pending: list[int]) -> list[Any]:
        awaited = await gather_with_cancel(*(completed[index] for index in pending))
        for index, value in zip(pending, awaited, strict=True):
            completed[index] = value
        return completed

    async def _gather(self, results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
        if len(pending) == 1:
            results[pending[0]] = await results[pending[0]]
            return results
        awaited = await gather_with_cancel(*(results[key] for key in pending))
        results.update(zip(pending, awaited, strict=True))
        return results
