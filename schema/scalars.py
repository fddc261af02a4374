"""Scalars of the schema's own, beyond GraphQL's and Strawberry's (``SCALARS``: the
schema's ``scalar_map``)."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from schema.errors import LARGEST_REPORTED

# GraphQL's Int is 32 bits: a file of 2 GiB or more would not fit it.
Long = NewType("Long", int)


def _long(value: Any) -> int:
    """A whole number a JSON reader holds exactly; anything else is refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"Long is a whole number, not {value!r}")
    if abs(value) > LARGEST_REPORTED:
        raise ValueError(f"Long is at most 2^53 - 1 either way, not {value}")
    return value


SCALARS: dict[object, ScalarDefinition] = {
    Long: strawberry.scalar(
        name="Long",
        description="A whole number beyond Int's 32 bits (such as a file's size in bytes), "
        "as a JSON number; exact up to 2^53 - 1, as every JSON reader holds it.",
        serialize=_long,
        parse_value=_long,
    )
}
