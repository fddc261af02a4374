"""An execution context that answers plain fields without per-field machinery.

Most fields of a person are attributes of an object already in memory. graphql-core
resolves each one through a path entry, a resolve-info object, Strawberry's resolver
wrapper and, for tier-gated fields, the permission extension: tens of microseconds
per field, thousands of fields in a page. Here, fields that are plain attributes
without arguments are read directly: leaves are coerced at once, objects go straight
to their sub-selection. Everything else — resolvers, lists, unions, errors, fields
above the caller's tier — takes graphql-core's own path, unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    Undefined,
)
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.permission import PermissionExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from schema.directives import TierPermission, tier_allows

STRAWBERRY_FIELD = "strawberry-definition"


class _Field(NamedTuple):
    key: str
    details: Any  # graphql-core's FieldDetailsList
    attribute: str | None  # set when the field may be read directly
    coerce: Callable[[Any], Any] | None  # set for a plain leaf: its output coercion
    object_type: GraphQLObjectType | None
    nullable: bool
    list_type: GraphQLList[Any] | None = None  # set for a list of objects


_CANNOT = object()  # a fast path declines; graphql-core's own path takes over


def _is_type(object_type: GraphQLObjectType, value: Any) -> bool:
    """``is_type_of`` without resolve info: the schema's checks are isinstance tests."""
    is_type_of = object_type.is_type_of
    return is_type_of is None or bool(is_type_of(value, None))  # type: ignore[arg-type]


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per grouped field set (graphql-core memoizes those per selection), kept
        # alongside so that its id is not reused while this request runs.
        self._plans: dict[int, tuple[Any, list[_Field]]] = {}

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plans.get(id(grouped_field_set))
        if plan is None:
            plan = (grouped_field_set, self._plan(parent_type, grouped_field_set))
            self._plans[id(grouped_field_set)] = plan
        results: dict[str, Any] = {}
        pending: list[str] = []
        try:
            for field in plan[1]:
                coerce = field.coerce
                if coerce is not None:  # a plain leaf: the hot path, kept inline
                    value = getattr(source_value, field.attribute)  # type: ignore[arg-type]
                    if value is None:
                        if field.nullable:
                            results[field.key] = None
                            continue
                    else:
                        coerced = coerce(value)
                        if coerced is not None and coerced is not Undefined:
                            results[field.key] = coerced
                            continue
                result = self._execute(field, parent_type, source_value, path, position_context)
                if result is Undefined:
                    continue
                results[field.key] = result
                if self.is_awaitable(result):
                    pending.append(field.key)
        except Exception:
            if pending:
                self.settle_in_background([results[key] for key in pending])
            raise
        if not pending:
            return results
        return self._gather(results, pending)

    def _execute(
        self, field: _Field, parent_type: GraphQLObjectType, source: Any, path: Any, context: Any
    ) -> Any:
        if field.attribute is not None and field.coerce is None:
            value = getattr(source, field.attribute)
            if value is None and field.nullable:
                return None
            if value is not None and field.list_type is not None:
                field_path = Path(path, field.key, parent_type.name)
                done = self._object_list(field.list_type, field.details, field_path, value, context)
                if done is not _CANNOT:
                    return done
            elif value is not None and field.object_type and _is_type(field.object_type, value):
                field_path = Path(path, field.key, parent_type.name)
                return self._object(field, value, field_path, context)
        field_path = Path(path, field.key, parent_type.name)
        return self.execute_field(parent_type, source, field.details, field_path, context)

    def _object(self, field: _Field, value: Any, path: Path, context: Any) -> Any:
        object_type = field.object_type
        assert object_type is not None
        try:
            result = self._subfields(object_type, field.details, path, value, context)
        except Exception as error:
            self.handle_field_error(error, object_type, field.details, path)
            return None
        if not self.is_awaitable(result):
            return result
        return self._await_object(field, result, path)

    def _subfields(
        self, object_type: GraphQLObjectType, details: Any, path: Path, value: Any, context: Any
    ) -> Any:
        grouped_field_set = self.collect_subfields(object_type, details)[0]
        return self.execute_fields(object_type, value, path, grouped_field_set, context)

    async def _await_object(self, field: _Field, result: Awaitable[Any], path: Path) -> Any:
        try:
            return await result
        except Exception as error:
            assert field.object_type is not None
            self.handle_field_error(error, field.object_type, field.details, path)
            return None

    def complete_list_value(
        self,
        return_type: GraphQLList[Any],
        field_details_list: Any,
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        done = self._object_list(return_type, field_details_list, path, result, position_context)
        if done is not _CANNOT:
            return done
        return super().complete_list_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _object_list(
        self, list_type: GraphQLList[Any], details: Any, path: Path, items: Any, context: Any
    ) -> Any:
        """Complete a plain list of objects item by item, or decline (``_CANNOT``)."""
        item_type = list_type.of_type
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        if not isinstance(named, GraphQLObjectType) or not isinstance(items, list):
            return _CANNOT
        for item in items:
            if item is None or self.is_awaitable(item) or not _is_type(named, item):
                return _CANNOT
        completed: list[Any] = []
        pending: list[int] = []
        for index, item in enumerate(items):
            item_path = path.add_key(index, None)
            try:
                result = self._subfields(named, details, item_path, item, context)
            except Exception as error:
                self.handle_field_error(error, item_type, details, item_path)
                result = None
            if self.is_awaitable(result):
                result = self._await_item(result, item_type, details, item_path)
                pending.append(index)
            completed.append(result)
        if not pending:
            return completed
        return self._gather_items(completed, pending)

    async def _await_item(self, result: Any, item_type: Any, details: Any, path: Path) -> Any:
        try:
            return await result
        except Exception as error:
            self.handle_field_error(error, item_type, details, path)
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

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Field]:
        return [
            self._plan_field(parent_type, key, details)
            for key, details in grouped_field_set.items()
        ]

    def _plan_field(self, parent_type: GraphQLObjectType, key: str, details: Any) -> _Field:
        node = details[0].node
        slow = _Field(key, details, None, None, None, True)
        field_def = self.schema.get_field(parent_type, node.name.value)
        if field_def is None or field_def.args or node.arguments:
            return slow
        definition = field_def.extensions.get(STRAWBERRY_FIELD)
        if not isinstance(definition, StrawberryField) or not self._readable(definition):
            return slow
        return_type = field_def.type
        nullable = not isinstance(return_type, GraphQLNonNull)
        named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        attribute = definition.python_name
        if isinstance(named, GraphQLScalarType | GraphQLEnumType):
            return _Field(key, details, attribute, named.coerce_output_value, None, nullable)
        if isinstance(named, GraphQLObjectType):
            return _Field(key, details, attribute, None, named, nullable)
        if isinstance(named, GraphQLList):
            return _Field(key, details, attribute, None, None, nullable, named)
        return slow

    def _readable(self, definition: StrawberryField) -> bool:
        """A plain attribute, and — if tier-gated — one this caller may read."""
        if definition.base_resolver is not None:
            return False
        viewer = getattr(self.context_value, "viewer", None)
        for extension in definition.extensions:
            if not isinstance(extension, PermissionExtension):
                return False
            for permission in extension.permissions:
                if not isinstance(permission, TierPermission) or viewer is None:
                    return False
                if not tier_allows(viewer.tier, permission.tier):
                    return False
        return True
