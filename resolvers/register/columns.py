"""Which row fields are read from which columns, declared once on the row's named tuple.

A field read from the database is annotated ``Annotated[type, Column(...)]``: the tier
that may read it and the column behind it. From that one declaration come the select
lists and the per-tier column sets (``resolvers.register.records``), the decoding (rows are built
from records positionally, in the declared order) and the columns the demo register
writes. Declared fields come first, lowest tier first, so that the columns a tier reads
are a prefix of the row: a declaration that breaks this fails when the module loads.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

from resolvers.domain.access import Tier


class Column(NamedTuple):
    """How a field is read: from which tier on, and from which column.

    ``name``: the column (or an expression over the row's columns, such as a cast) it is
    read from, when not the field's own name. ``stored``: False for a column the view
    computes (it is read, never written).
    """

    tier: Tier = Tier.BASIC
    name: str | None = None
    stored: bool = True


class Declared(NamedTuple):
    """One field read from a column, as its row type declares it."""

    field: str
    column: str
    tier: Tier
    stored: bool
    type: type  # the field's type without None: what a test compares the column's type to


@cache
def declared(row_type: type) -> tuple[Declared, ...]:
    """The fields of ``row_type`` read from columns, in field order.

    Raises:
        TypeError: a declared field follows an undeclared one, or a lower tier's field
            follows a higher tier's: the columns of a tier would not be a prefix.
    """
    hints = typing.get_type_hints(row_type, include_extras=True)
    found: list[Declared] = []
    for index, name in enumerate(row_type._fields):  # type: ignore[attr-defined]
        column = _column_of(hints[name])
        if column is None:
            continue
        if index != len(found) or (found and column.tier < found[-1].tier):
            raise TypeError(f"{row_type.__name__}.{name}: declare columns first, by tier")
        kind = _without_none(typing.get_args(hints[name])[0])
        found.append(Declared(name, column.name or name, column.tier, column.stored, kind))
    return tuple(found)


def read_at(row_type: type, tier: Tier) -> tuple[Declared, ...]:
    """The fields a caller of ``tier`` reads: a prefix of the row's fields."""
    return tuple(column for column in declared(row_type) if column.tier <= tier)


def stored_columns(row_type: type) -> tuple[str, ...]:
    """The table columns behind the row's fields, in field order (computed ones left out)."""
    return tuple(column.column for column in declared(row_type) if column.stored)


def row_of(columns: Sequence[str], **values: Any) -> tuple[Any, ...]:
    """``values`` by column name as a row in ``columns`` order; a column not given is NULL.

    Raises:
        KeyError: a value for a column that is not in ``columns``.
    """
    row = tuple(values.pop(name, None) for name in columns)
    if values:
        raise KeyError(f"no such column: {', '.join(sorted(values))}")
    return row


def _column_of(hint: Any) -> Column | None:
    return next(
        (mark for mark in getattr(hint, "__metadata__", ()) if isinstance(mark, Column)), None
    )


def _without_none(hint: Any) -> type:
    if isinstance(hint, types.UnionType):
        kinds = [kind for kind in typing.get_args(hint) if kind is not type(None)]
        if len(kinds) == 1:
            return kinds[0]
    return hint
