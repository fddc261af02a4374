"""What a query asks for below a field, to load a whole list's data in one go.

Read from graphql-core's field nodes, once per field of a cached document: Strawberry's
``info.selected_fields`` builds a tree of objects for the whole selection on every call,
which cost a tenth of a lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import FieldNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types import Info

RELATION_FIELDS = frozenset({"relations", "spouse", "children", "guardians", "wards"})
_REMEMBERED = 4096

# By the field's first node and the path below it. The node is kept with the answer, so
# its id cannot be reused by another node while the entry exists.
_below: dict[tuple[int, tuple[str, ...]], tuple[FieldNode, frozenset[str]]] = {}


def fields_of(
    selection_set: SelectionSetNode | None, fragments: dict[str, Any]
) -> Iterator[FieldNode]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from fields_of(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                yield from fields_of(fragment.selection_set, fragments)


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
    level = [
        child for node in raw.field_nodes for child in fields_of(node.selection_set, fragments)
    ]
    for name in path:
        level = [
            child
            for field in level
            if field.name.value == name
            for child in fields_of(field.selection_set, fragments)
        ]
    names = frozenset(field.name.value for field in level)
    if len(_below) >= _REMEMBERED:
        _below.clear()
    _below[key] = (first, names)
    return names


def selects_relations(info: Info, *path: str) -> bool:
    return not RELATION_FIELDS.isdisjoint(selected_below(info, *path))


# Person fields that do not read the person's addresses. Any other field asked of a
# related person (an address, or a field added later) makes its addresses load.
PERSON_FIELDS_WITHOUT_ADDRESSES = RELATION_FIELDS | {
    "__typename", "personnummer", "isCoordinationNumber", "gender", "birthDate",
    "firstNames", "givenName", "givenNameCode", "middleName", "lastName", "status",
    "source", "fetchedAt", "personnummer10", "personnummer11", "personnummer13",
    "movedInDate", "keyCode", "civilStatus", "deregistration",
}  # fmt: skip


def related_persons_need_addresses(info: Info, *path: str) -> bool:
    """Whether the query asks for an address (or anything but plain fields) of a person
    related to the one(s) at ``path``: if not, their addresses need not be read."""
    return any(
        not selected_below(info, *path, relation, "person") <= PERSON_FIELDS_WITHOUT_ADDRESSES
        for relation in RELATION_FIELDS
    )
