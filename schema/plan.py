"""Which fields of a selection are plain, and a compiled reader for all-plain selections.

A field is plain when the caller may see it, it takes no arguments, and its value can
be read at once: an attribute of the object, or a resolver that declares a
``READ_AHEAD`` reader in its metadata (a value loaded ahead for a whole page; the
reader answers ``NOT_READY`` when it was not). Its type is a leaf (scalar or enum), an
object or a list of objects.
A selection made only of plain fields, all the way down, compiles to one function
that builds the answer from the row directly. Whatever that function cannot answer
exactly (a null in a non-null field, a value its type refuses) raises ``Fallback``,
and graphql-core's own path answers instead, errors and all.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
)
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from resolvers.access import Viewer
from schema.directives import TierPermission, tier_allows

STRAWBERRY_FIELD = "strawberry-definition"
READ_AHEAD = "read_ahead"  # field metadata: (root, context) -> value or NOT_READY
NOT_READY = object()

Reader = Callable[..., Any]  # a field: (source) or, reading ahead, (source, context)
SelectionReader = Callable[[Any, Any], dict[str, Any]]  # (source, context) -> answer


class Fallback(Exception):
    """A compiled reader met a value only the general path can answer."""


class PlainField(NamedTuple):
    key: str
    details: Any  # graphql-core's FieldDetailsList
    read: Reader | None  # set when the field's value may be read directly
    coerce: Reader | None  # set for a plain leaf: its output coercion
    object_type: GraphQLObjectType | None  # set for a plain object, or the items of a list
    nullable: bool
    is_list: bool = False
    ahead: bool = False  # ``read`` takes the request context too (a read-ahead field)


def is_type(object_type: GraphQLObjectType, value: Any) -> bool:
    """``is_type_of`` without resolve info: the schema's checks are isinstance tests."""
    is_type_of = object_type.is_type_of
    return is_type_of is None or bool(is_type_of(value, None))  # type: ignore[arg-type]


def plan_field(
    schema: GraphQLSchema,
    parent_type: GraphQLObjectType,
    key: str,
    details: Any,
    viewer: Viewer | None,
) -> PlainField:
    node = details[0].node
    general = PlainField(key, details, None, None, None, True)
    field_def = schema.get_field(parent_type, node.name.value)
    if field_def is None or field_def.args or node.arguments:
        return general
    definition = field_def.extensions.get(STRAWBERRY_FIELD)
    if not isinstance(definition, StrawberryField):
        return general
    if not _permitted(definition, viewer):
        return general
    read, ahead = _reader(definition)
    if read is None:
        return general
    return_type = field_def.type
    nullable = not isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        return PlainField(key, details, read, named.coerce_output_value, None, nullable)
    if isinstance(named, GraphQLObjectType):
        return PlainField(key, details, read, None, named, nullable, ahead=ahead)
    if isinstance(named, GraphQLList):
        item = named.of_type
        item = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(item, GraphQLObjectType):
            return PlainField(key, details, read, None, item, nullable, True, ahead)
    return general


def _reader(definition: StrawberryField) -> tuple[Reader | None, bool]:
    """How to read the field at once: an attribute, or a declared read-ahead."""
    if definition.base_resolver is None:
        return attrgetter(definition.python_name), False
    return dict(definition.metadata or {}).get(READ_AHEAD), True


def _permitted(definition: StrawberryField, viewer: Viewer | None) -> bool:
    """Gated by nothing but the tier directive, at a tier this caller has."""
    for extension in definition.extensions:
        if not isinstance(extension, PermissionExtension):
            return False
        for permission in extension.permissions:
            if not isinstance(permission, TierPermission) or viewer is None:
                return False
            if not tier_allows(viewer.tier, permission.tier):
                return False
    return True


def compile_reader(
    fields: list[PlainField], reader_for: Callable[[PlainField], SelectionReader | None]
) -> SelectionReader | None:
    """One function answering the whole selection, or None if a field is not plain.

    ``reader_for`` gives the compiled reader of an object field's sub-selection.
    """
    steps = []
    for field in fields:
        if field.read is None:
            return None
        sub = reader_for(field) if field.object_type is not None else None
        if field.object_type is not None and sub is None:
            return None
        steps.append((field.key, field.read, field.coerce, sub, field))

    def read_all(source: Any, context: Any) -> dict[str, Any]:
        answer: dict[str, Any] = {}
        for key, read, coerce, sub, field in steps:
            value = read(source, context) if field.ahead else read(source)
            if value is NOT_READY:
                raise Fallback
            if value is None:
                if not field.nullable:
                    raise Fallback
                answer[key] = None
            elif coerce is not None:
                answer[key] = _leaf(coerce, value)
            elif field.is_list:
                answer[key] = [_object(field, sub, item, context) for item in value]
            else:
                answer[key] = _object(field, sub, value, context)
        return answer

    return read_all


def _leaf(coerce: Reader, value: Any) -> Any:
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise Fallback
    return coerced


def _object(field: PlainField, read: Any, value: Any, context: Any) -> Any:
    assert field.object_type is not None
    if value is None or not is_type(field.object_type, value):
        raise Fallback  # a null item, or one of another type: the general path reports it
    return read(value, context)
