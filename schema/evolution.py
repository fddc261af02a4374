"""The published schema against the last released one: what would break a client.

``schema/released.graphql`` is the schema clients were last given. The published
``schema/schema.graphql`` may add to it freely; it may take something away only after a
release that marked it ``@deprecated(reason: …)`` (the deprecation-first rule), so a
client had a release to move off it. Everything else graphql-core's
``find_breaking_changes`` reports — a changed type, a new required argument, a removed
type — breaks clients and is refused, unless it is released on purpose
(``vastfolket schema release``). ``find_dangerous_changes`` is told, not refused.

The rule is applied by taking out of the released schema what it deprecated and the
published one no longer has, before graphql-core compares them: what is left to report
was not declared.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field, replace
from typing import Any

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    StringValueNode,
    build_ast_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    parse,
)
from graphql.utilities.find_schema_changes import BreakingChangeType

from schema.build import SDL_PATH

RELEASED_PATH = SDL_PATH.with_name("released.graphql")
RELEASE_COMMAND = "vastfolket schema release"

_WITH_FIELDS = (
    ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode | InputObjectTypeDefinitionNode
)
_REMOVALS = {
    BreakingChangeType.FIELD_REMOVED,
    BreakingChangeType.ARG_REMOVED,
    BreakingChangeType.VALUE_REMOVED_FROM_ENUM,
}


@dataclass(frozen=True)
class Comparison:
    breaking: list[str] = field(default_factory=list)  # not declared: refused
    removed: list[str] = field(default_factory=list)  # deprecated when released: allowed
    dangerous: list[str] = field(default_factory=list)  # told, not refused
    removals: bool = False  # whether any of ``breaking`` takes something away

    @property
    def ok(self) -> bool:
        return not self.breaking


def compare(released_sdl: str, published_sdl: str) -> Comparison:
    released = parse(released_sdl)
    published = build_schema(published_sdl)
    reasons = _deprecations(released)
    gone = {coordinate: reason for coordinate, reason in reasons.items()
            if not _exists(published, coordinate)}  # fmt: skip
    kept = _reachable(build_ast_schema(_without(released, set(gone))), published)
    breaking = find_breaking_changes(kept, published)
    return Comparison(
        breaking=[change.description for change in breaking],
        removed=[f"{coordinate} (deprecated: {reason})" for coordinate, reason in gone.items()],
        dangerous=[change.description for change in find_dangerous_changes(kept, published)],
        removals=any(change.type in _REMOVALS for change in breaking),
    )


def report(comparison: Comparison, released: str = "schema/released.graphql") -> str:
    """What a developer reads: each change, and what to do about the refused ones."""
    lines = []
    if comparison.breaking:
        lines.append(f"Breaking changes against {released}, not declared:")
        lines += [f"  - {change}" for change in comparison.breaking]
        lines += ["", *_advice(comparison), ""]
    if comparison.removed:
        lines.append("Removed after a released deprecation (allowed):")
        lines += [f"  - {change}" for change in comparison.removed]
    if comparison.dangerous:
        lines.append("Dangerous changes (allowed; a client may need to handle them):")
        lines += [f"  - {change}" for change in comparison.dangerous]
    if not comparison.breaking:
        lines.append(f"No breaking change against {released}.")
    return "\n".join(lines)


def _advice(comparison: Comparison) -> list[str]:
    lines = []
    if comparison.removals:
        lines.append(
            "To remove a field, argument or enum value, deprecate it first: keep it with "
            '`deprecation_reason="Use … instead"` (strawberry.field, strawberry.argument, '
            "strawberry.enum_value), release that, and remove it in a later release."
        )
    lines.append(
        "To change a field's or argument's type, or require an argument, add a new one "
        "beside it and deprecate the old. If this is a deliberate breaking release, "
        f"refresh the released schema with `{RELEASE_COMMAND}` and commit it."
    )
    return [textwrap.fill(line, 88) for line in lines]


def _deprecations(document: DocumentNode) -> dict[str, str]:
    """Every field, argument, input field and enum value that is ``@deprecated`` with a
    reason, by schema coordinate (``Type.field``, ``Type.field(arg:)``, ``Enum.VALUE``)."""
    found: dict[str, str] = {}
    for definition in document.definitions:
        if isinstance(definition, _WITH_FIELDS):
            for node in definition.fields or ():
                coordinate = f"{definition.name.value}.{node.name.value}"
                found.update(_reason(coordinate, node))
                for argument in getattr(node, "arguments", None) or ():
                    found.update(_reason(f"{coordinate}({argument.name.value}:)", argument))
        elif isinstance(definition, EnumTypeDefinitionNode):
            for value in definition.values or ():
                found.update(_reason(f"{definition.name.value}.{value.name.value}", value))
    return found


def _reason(coordinate: str, node: Any) -> dict[str, str]:
    """``{coordinate: reason}`` when the node is deprecated with a reason written out."""
    for directive in node.directives or ():
        if directive.name.value != "deprecated":
            continue
        for argument in directive.arguments or ():
            value = argument.value
            if argument.name.value == "reason" and isinstance(value, StringValueNode):
                return {coordinate: value.value} if value.value.strip() else {}
    return {}


def _exists(schema: GraphQLSchema, coordinate: str) -> bool:
    type_name, _, member = coordinate.partition(".")
    field_name, _, argument = member.rstrip(":)").partition("(")
    found = schema.get_type(type_name)
    if isinstance(found, GraphQLEnumType):
        return field_name in found.values
    if not isinstance(found, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return False
    target = found.fields.get(field_name)
    if target is None or not argument:
        return target is not None
    return argument in getattr(target, "args", {})


def _without(document: DocumentNode, gone: set[str]) -> DocumentNode:
    """The document less the fields, arguments and enum values named in ``gone``."""
    definitions = []
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode):
            name = definition.name.value
            definition = replace(definition, values=_kept(name, definition.values, gone))
        elif isinstance(definition, _WITH_FIELDS):
            name = definition.name.value
            fields: Any = tuple(  # field or input value definitions, as the type holds
                _without_arguments(f"{name}.{node.name.value}", node, gone)
                for node in _kept(name, definition.fields, gone)
            )
            definition = replace(definition, fields=fields)
        definitions.append(definition)
    return replace(document, definitions=tuple(definitions))


def _kept(type_name: str, nodes: Any, gone: set[str]) -> tuple[Any, ...]:
    return tuple(node for node in nodes or () if f"{type_name}.{node.name.value}" not in gone)


def _without_arguments(coordinate: str, node: Any, gone: set[str]) -> Any:
    if not getattr(node, "arguments", None):
        return node
    arguments = tuple(
        argument for argument in node.arguments
        if f"{coordinate}({argument.name.value}:)" not in gone
    )  # fmt: skip
    return replace(node, arguments=arguments)


def _reachable(released: GraphQLSchema, published: GraphQLSchema) -> GraphQLSchema:
    """``released`` less the types only the removed members led to: a type whose last
    field went with a deprecated field is gone with it, not removed on its own."""
    kept = [
        named for name, named in released.type_map.items()
        if not name.startswith("__") and name in published.type_map
    ]  # fmt: skip
    return GraphQLSchema(
        query=released.query_type,
        mutation=released.mutation_type,
        subscription=released.subscription_type,
        types=kept,
        directives=released.directives,
    )
