"""What a query asks for below a field, to load a whole list's data in one go."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

RELATION_FIELDS = frozenset({"relations", "spouse", "children", "guardians", "wards"})


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def selected_below(info: Info, *path: str) -> set[str]:
    """Names of the fields selected at ``path`` below the current field."""
    level: list[SelectedField] = list(_fields(info.selected_fields))
    level = [child for field in level for child in _fields(field.selections)]
    for name in path:
        level = [
            child for field in level if field.name == name for child in _fields(field.selections)
        ]
    return {field.name for field in level}


def selects_relations(info: Info, *path: str) -> bool:
    return not RELATION_FIELDS.isdisjoint(selected_below(info, *path))
