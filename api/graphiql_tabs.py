"""GraphiQL's tabs on a development server: each of the docs' example operations.

They are read from the docs (``api/examples.py``, which the docs' test runs too), so a
tab is the example as the docs print it, under a comment naming where it comes from
and the role it needs, with its variables filled in from the register. The role is the
one the published schema declares on its root field (``@requiresRole``), so the comment
cannot disagree with what the API enforces.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

from graphql import (
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    build_schema,
    parse,
)
from graphql.language import FieldNode

from api.examples import Example, doc_examples, filled
from api.startup import cli_command
from schema.build import SDL_PATH


def example_tabs(number: Callable[[str], str]) -> list[dict[str, str]]:
    """A tab (``query``, ``variables``) per example, ``<kind>`` filled in by ``number``."""
    return [_tab(example, number) for example in doc_examples() if example.operation]


def _tab(example: Example, number: Callable[[str], str]) -> dict[str, str]:
    source = example.where.rpartition(":")[0]
    lines = [f"# {example.section} (from {source})"]
    for role in _roles(example.query):
        lines += [
            f"# Needs the role {role}; a token that has it:",
            f"#   {cli_command()} token --tier BASIC --sub your.name --org 1480 --role {role}",
        ]
    if example.operation is OperationType.SUBSCRIPTION:
        lines.append("# It runs until you stop it, each event shown as it arrives.")
    tab = {"query": "\n".join(lines) + "\n" + example.query}
    variables = example.runs[0].get("variables")
    if variables:
        tab["variables"] = json.dumps(filled(variables, number), indent=2, ensure_ascii=False)
    return tab


def _roles(query: str) -> list[str]:
    """The roles the query's root fields require, as the published schema says."""
    schema = _published()
    roles: list[str] = []
    for definition in parse(query).definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = schema.get_root_type(definition.operation or OperationType.QUERY)
        for selection in definition.selection_set.selections:
            if not isinstance(selection, FieldNode) or root is None:
                continue
            field = root.fields.get(selection.name.value)
            if field is not None and field.ast_node is not None:
                roles += [role for role in _required(field.ast_node) if role not in roles]
    return roles


def _required(node: object) -> list[str]:
    return [
        argument.value.value
        for directive in getattr(node, "directives", None) or ()
        if directive.name.value == "requiresRole"
        for argument in directive.arguments or ()
        if isinstance(argument.value, StringValueNode)
    ]


def declared_roles() -> list[str]:
    """Every role the published schema requires somewhere, in order."""
    schema = _published()
    found = {
        role
        for named in schema.type_map.values()
        for field in (getattr(named, "fields", None) or {}).values()
        for role in _required(field.ast_node)
    }
    return sorted(found)


@functools.cache
def _published() -> GraphQLSchema:
    return build_schema(SDL_PATH.read_text(encoding="utf-8"))
