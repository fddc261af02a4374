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
    coerce: Callable[[Any], Any] | None  # leaf coercion; None for an object
    object_type: GraphQLObjectType | None
    nullable: bool


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
        if field.attribute is not None:
            value = getattr(source, field.attribute)
            if value is None and field.nullable:
                return None
            if value is not None and field.coerce is not None:
                coerced = field.coerce(value)
                if coerced is not None and coerced is not Undefined:
                    return coerced
            elif value is not None and field.object_type is not None:
                field_path = Path(path, field.key, parent_type.name)
                return self._object(field, value, field_path, context)
        field_path = Path(path, field.key, parent_type.name)
        return self.execute_field(parent_type, source, field.details, field_path, context)

    def _object(self, field: _Field, value: Any, path: Path, context: Any) -> Any:
        object_type = field.object_type
        assert object_type is not None
        try:
            result = self.collect_and_execute_subfields(
                object_type, field.details, path, value, context
            )
        except Exception as error:
            self.handle_field_error(error, object_type, field.details, path)
            return None
        if not self.is_awaitable(result):
            return result
        return self._await_object(field, result, path)

    async def _await_object(self, field: _Field, result: Awaitable[Any], path: Path) -> Any:
        try:
            return await result
        except Exception as error:
            assert field.object_type is not None
            self.handle_field_error(error, field.object_type, field.details, path)
            return None

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
        if isinstance(named, GraphQLObjectType) and named.is_type_of is None:
            return _Field(key, details, attribute, None, named, nullable)
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
