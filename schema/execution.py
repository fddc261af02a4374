"""An execution context that answers plain fields without per-field machinery.

Most fields of a person are attributes of a row already in memory. graphql-core
resolves each one through a path entry, a resolve-info object, Strawberry's resolver
wrapper and, for tier-gated fields, the permission extension: microseconds per field,
thousands of fields in a page. Here, plain fields (see ``schema.plan``) are read
directly: leaves are coerced at once, objects and lists of objects go straight to
their sub-selection, and a selection that is plain all the way down is answered by
one compiled reader. Everything else — resolvers, unions, errors, fields above the
caller's tier — takes graphql-core's own path, unchanged.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from graphql import GraphQLList, GraphQLObjectType, Undefined
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.plan import NOT_READY, PlainField, Reader, compile_reader, is_type, plan_field

_CANNOT = object()  # a fast path declines; graphql-core's own path takes over


class _Plan(NamedTuple):
    grouped_field_set: Any  # kept so that its id is not reused while the request runs
    fields: list[PlainField]
    reader: Reader | None


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, _Plan] = {}  # by grouped field set, memoized per selection

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan.reader is not None:
            try:
                return plan.reader(source_value)
            except Exception:  # the general path below reports it exactly
                pass
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field in plan.fields:
                result = self._execute(field, parent_type, source_value, path, position_context)
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
        self, field: PlainField, parent_type: GraphQLObjectType, source: Any, path: Any, ctx: Any
    ) -> Any:
        value = NOT_READY if field.read is None else field.read(source)
        if value is not NOT_READY:
            if value is None and field.nullable:
                return None
            if value is not None and field.coerce is not None:
                coerced = field.coerce(value)
                if coerced is not None and coerced is not Undefined:
                    return coerced
            elif value is not None and field.is_list:
                field_path = Path(path, field.key, parent_type.name)
                done = self._object_list(field, field_path, value, ctx)
                if done is not _CANNOT:
                    return done
            elif value is not None and field.object_type and is_type(field.object_type, value):
                field_path = Path(path, field.key, parent_type.name)
                return self._object(field.object_type, field.details, field_path, value, ctx)
        field_path = Path(path, field.key, parent_type.name)
        return self.execute_field(parent_type, source, field.details, field_path, ctx)

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
            field = PlainField("", field_details_list, None, None, item_type, True, is_list=True)
            done = self._object_list(field, path, result, position_context)
            if done is not _CANNOT:
                return done
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _object_list(self, field: PlainField, path: Path, items: Any, ctx: Any) -> Any:
        """Complete a plain list of objects item by item, or decline (``_CANNOT``)."""
        object_type = field.object_type
        assert object_type is not None
        if not isinstance(items, list):
            return _CANNOT
        for item in items:
            if item is None or self.is_awaitable(item) or not is_type(object_type, item):
                return _CANNOT
        completed: list[Any] = []
        pending: list[int] = []
        for index, item in enumerate(items):
            result = self._object(object_type, field.details, path.add_key(index, None), item, ctx)
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

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        plan = self._plans.get(id(grouped_field_set))
        if plan is None:
            fields = [
                plan_field(self.schema, parent_type, key, details, self.context_value)
                for key, details in grouped_field_set.items()
            ]
            reader = compile_reader(fields, self._sub_reader)
            plan = _Plan(grouped_field_set, fields, reader)
            self._plans[id(grouped_field_set)] = plan
        return plan

    def _sub_reader(self, field: PlainField) -> Reader | None:
        assert field.object_type is not None
        grouped_field_set = self.collect_subfields(field.object_type, field.details)[0]
        return self._plan(field.object_type, grouped_field_set).reader
