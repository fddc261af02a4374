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

import keyword
from collections.abc import Callable
from operator import attrgetter
from typing import Any, NamedTuple

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLString,
    Undefined,
)
from strawberry.permission import PermissionExtension
from strawberry.types.field import StrawberryField

from resolvers.domain.access import Viewer

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
    attribute: str | None = None  # ``read`` gets this attribute of the object
    exact: type | None = None  # a leaf whose coercion returns values of this class as they are
    enum: bool = False  # a leaf of an enum type: few values, each coerced once per plan


# Leaf types whose output coercion returns a value of exactly this class unchanged.
_EXACT = {GraphQLString: str, GraphQLBoolean: bool}


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
    attribute = None if ahead else definition.python_name
    return_type = field_def.type
    nullable = not isinstance(return_type, GraphQLNonNull)
    named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
    if isinstance(named, GraphQLScalarType | GraphQLEnumType):
        coerce = named.coerce_output_value
        exact = _EXACT.get(named) if isinstance(named, GraphQLScalarType) else None
        enum = isinstance(named, GraphQLEnumType)
        return PlainField(
            key, details, read, coerce, None, nullable, False, ahead, attribute, exact, enum
        )
    if isinstance(named, GraphQLObjectType):
        return PlainField(key, details, read, None, named, nullable, False, ahead, attribute)
    if isinstance(named, GraphQLList):
        item = named.of_type
        item = item.of_type if isinstance(item, GraphQLNonNull) else item
        if isinstance(item, GraphQLObjectType):
            return PlainField(key, details, read, None, item, nullable, True, ahead, attribute)
    return general


def _reader(definition: StrawberryField) -> tuple[Reader | None, bool]:
    """How to read the field at once: an attribute, or a declared read-ahead."""
    if definition.base_resolver is None:
        return attrgetter(definition.python_name), False
    return dict(definition.metadata or {}).get(READ_AHEAD), True


def _permitted(definition: StrawberryField, viewer: Viewer | None) -> bool:
    """Gated by nothing but permissions that allow this caller.

    A permission answers one question, ``allows(viewer)``, which its ``has_permission``
    asks too (``schema.directives``): the fast path asks the same question the general
    path does. A permission that cannot answer it (no ``allows``: it may look at the
    object, or the arguments) leaves the field to the general path.
    """
    for extension in definition.extensions:
        if not isinstance(extension, PermissionExtension):
            return False
        for permission in extension.permissions:
            allows = getattr(permission, "allows", None)
            if allows is None or viewer is None or not allows(viewer):
                return False
    return True


def gates(schema: GraphQLSchema) -> tuple[Any, ...]:
    """Every permission of the schema that answers ``allows(viewer)``, each once: all a
    plan depends on of the caller, so plans may be shared between callers whose every
    answer is the same (``PlainFieldsExecutionContext``)."""
    found: dict[int, Any] = {}
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_def in graphql_type.fields.values():
            definition = field_def.extensions.get(STRAWBERRY_FIELD)
            for extension in getattr(definition, "extensions", None) or ():
                for permission in getattr(extension, "permissions", ()):
                    if hasattr(permission, "allows"):
                        found[id(permission)] = permission
    return tuple(found.values())


def compile_reader(
    fields: list[PlainField], reader_for: Callable[[PlainField], SelectionReader | None]
) -> SelectionReader | None:
    """One function answering the whole selection, or None if a field is not plain.

    ``reader_for`` gives the compiled reader of an object field's sub-selection. The
    function is generated as Python source, one block per field, so that a page's
    thousands of fields cost an attribute read and a class check each, not a trip
    through a loop of general steps.
    """
    names: dict[str, Any] = {"Fallback": Fallback, "NOT_READY": NOT_READY, "_leaf": _leaf}
    body: list[str] = []
    for index, field in enumerate(fields):
        if field.read is None:
            return None
        sub = reader_for(field) if field.object_type is not None else None
        if field.object_type is not None and sub is None:
            return None
        names.update({f"read{index}": field.read, f"coerce{index}": field.coerce})
        names.update({f"sub{index}": sub, f"exact{index}": field.exact})
        body += _field_source(index, field, names)
    answer = ", ".join(f"{field.key!r}: v{index}" for index, field in enumerate(fields))
    source = "def read_all(source, context):\n" + "".join(
        f"    {line}\n" for line in [*body, f"return {{{answer}}}"]
    )
    # Safe to run: made of identifiers the schema declares and response keys as literals.
    exec(compile(source, "<compiled reader>", "exec"), names)
    reader: SelectionReader = names["read_all"]
    return reader


def _field_source(index: int, field: PlainField, names: dict[str, Any]) -> list[str]:
    """The lines reading field ``index`` into ``v<index>``, exactly as the general path
    would answer it, or raising ``Fallback`` where only that path can."""
    v = f"v{index}"
    attribute = field.attribute
    if attribute is not None and attribute.isidentifier() and not keyword.iskeyword(attribute):
        lines = [f"{v} = source.{attribute}"]
    elif field.ahead:
        lines = [f"{v} = read{index}(source, context)", f"if {v} is NOT_READY: raise Fallback"]
    else:
        lines = [f"{v} = read{index}(source)"]
    lines.append(f"if {v} is None:")
    lines.append("    pass" if field.nullable else "    raise Fallback")
    if field.coerce is not None and field.enum:
        # An enum's coercion depends on the value alone, and a value it refuses raises
        # before it is kept: the cache holds at most the enum's values.
        names[f"cache{index}"] = {}
        lines.append("else:")
        lines.append(f"    coerced = cache{index}.get({v})")
        lines.append("    if coerced is None:")
        lines.append(f"        coerced = cache{index}[{v}] = _leaf(coerce{index}, {v})")
        lines.append(f"    {v} = coerced")
        return lines
    if field.coerce is not None:
        if field.exact is not None:
            lines.append(f"elif {v}.__class__ is not exact{index}:")
        else:
            lines.append("else:")
        lines.append(f"    {v} = _leaf(coerce{index}, {v})")
        return lines
    assert field.object_type is not None
    # The schema's type checks are isinstance tests; None means no check.
    is_type_of = field.object_type.is_type_of
    names[f"is_type{index}"] = is_type_of
    check = "" if is_type_of is None else f" and is_type{index}(item, None)"
    if field.is_list:
        names["_fallback"] = _fallback
        lines.append("else:")
        lines.append(
            f"    {v} = [sub{index}(item, context) if item is not None{check}"
            f" else _fallback() for item in {v}]"
        )
    else:
        lines.append("else:")
        if check:
            lines.append(f"    item = {v}")
            lines.append(f"    if not (True{check}): raise Fallback")
        lines.append(f"    {v} = sub{index}({v}, context)")
    return lines


def _fallback() -> Any:
    raise Fallback


def _leaf(coerce: Reader, value: Any) -> Any:
    coerced = coerce(value)
    if coerced is None or coerced is Undefined:
        raise Fallback
    return coerced
