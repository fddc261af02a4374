"""What a query selects: below a field, to load a whole list's data in one go; and
whether what it selects can change from one request to the next.

Read from graphql-core's field nodes, once per field of a cached document: Strawberry's
``info.selected_fields`` builds a tree of objects for the whole selection on every call,
which cost a tenth of a lookup. Every walk reads each fragment once, however often it
is spread: a text of a few hundred characters can spread fragments 2**20 times over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from graphql import (
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)
from strawberry.types import Info

CONDITIONS = frozenset({"include", "skip"})
_REMEMBERED = 4096

# By the field's first node and the path below it. The node is kept with the answer, so
# its id cannot be reused by another node while the entry exists.
_below: dict[tuple[int, tuple[str, ...]], tuple[FieldNode, frozenset[str]]] = {}


def fields_of(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, Any],
    seen: set[str] | None = None,
) -> Iterator[FieldNode]:
    """The fields of a selection set, through fragments (each fragment once)."""
    if selection_set is None:
        return
    seen = set() if seen is None else seen
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from fields_of(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
            seen.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from fields_of(fragment.selection_set, fragments, seen)


def selected_below(info: Info, *path: str) -> frozenset[str]:
    """Names of the fields selected at ``path`` below the current field (``@include`` and
    ``@skip`` are not weighed: a field that may be asked for counts as asked for)."""
    raw = info._raw_info
    first = raw.field_nodes[0]
    key = (id(first), path)
    known = _below.get(key)
    if known is not None and known[0] is first:
        return known[1]
    fragments = raw.fragments
    level = _distinct(
        child for node in raw.field_nodes for child in fields_of(node.selection_set, fragments)
    )
    for name in path:
        level = _distinct(
            child
            for field in level
            if field.name.value == name
            for child in fields_of(field.selection_set, fragments)
        )
    names = frozenset(field.name.value for field in level)
    if len(_below) >= _REMEMBERED:
        _below.clear()
    _below[key] = (first, names)
    return names


def _distinct(fields: Iterable[FieldNode]) -> list[FieldNode]:
    """Each field node once: a fragment spread in many places yields its fields once."""
    return list({id(field): field for field in fields}.values())


def varies_by_request(document: DocumentNode) -> bool:
    """Whether what the document selects may differ from one request to the next.

    It may when a selection carries ``@include`` or ``@skip`` (even with a literal), or
    any directive whose arguments read a variable — wherever it is written: on a field,
    a fragment spread or an inline fragment, in an operation or a fragment. Read from
    the parsed document, so spacing and comments (``@ include``, ``@#…\ninclude``)
    change nothing.
    """
    pending: list[SelectionSetNode] = []
    for definition in document.definitions:
        if any(map(_conditional, getattr(definition, "directives", None) or ())):
            return True
        if (selection_set := getattr(definition, "selection_set", None)) is not None:
            pending.append(selection_set)
    while pending:
        for selection in pending.pop().selections:
            if any(map(_conditional, selection.directives or ())):
                return True
            if (inner := getattr(selection, "selection_set", None)) is not None:
                pending.append(inner)
    return False


def _conditional(directive: DirectiveNode) -> bool:
    if directive.name.value in CONDITIONS:
        return True
    return any(_reads_variable(argument.value) for argument in directive.arguments or ())


def _reads_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(map(_reads_variable, value.values))
    if isinstance(value, ObjectValueNode):
        return any(_reads_variable(field.value) for field in value.fields)
    return False
