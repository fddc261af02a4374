"""How a person is selected — columns per tier plus the three addresses — and decoded.

Every query that returns persons selects ``person_columns(tier)`` from ``visible_person
AS p`` joined with ``ADDRESS_JOINS``, so a person and their addresses arrive in one row
and one statement serves a whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvers.access import Tier
from resolvers.rows import (
    BASIC_PERSON_COLUMNS,
    NO_ADDRESSES,
    PERSON_COLUMNS,
    AddressRow,
    PersonAddresses,
    PersonRow,
)

ADDRESS_FIELDS = AddressRow._fields  # kind first: NULL when absent
_ADDRESS_ALIASES = ("f", "s", "u")  # folkbokföringsadress, särskild, utlandsadress

ADDRESS_JOINS = """
LEFT JOIN address AS f ON f.person_id = p.id AND f.kind = 'F'
LEFT JOIN address AS s ON s.person_id = p.id AND s.kind = 'S'
LEFT JOIN address AS u ON u.person_id = p.id AND u.kind = 'U'
"""


def _select_list(columns: Sequence[str]) -> str:
    person = [f"p.{name}" for name in columns]
    addresses = [
        f"{alias}.{name} AS {alias}_{name}" for alias in _ADDRESS_ALIASES for name in ADDRESS_FIELDS
    ]
    return ", ".join(person + addresses)


_SELECT = {
    tier: _select_list(BASIC_PERSON_COLUMNS if tier is Tier.BASIC else PERSON_COLUMNS)
    for tier in Tier
}
_WIDTH = {
    tier: len(BASIC_PERSON_COLUMNS if tier is Tier.BASIC else PERSON_COLUMNS) for tier in Tier
}
PERSON_RECORD_WIDTH = {tier: _WIDTH[tier] + 3 * len(ADDRESS_FIELDS) for tier in Tier}


def person_columns(tier: Tier) -> str:
    """The select list for a person at ``tier``: data above it is never read."""
    return _SELECT[tier]


def person_from_record(record: Any, tier: Tier, start: int = 0) -> PersonRow | None:
    """Decode the person selected by ``person_columns(tier)`` at ``start`` in the record."""
    if record[start] is None:
        return None
    width = _WIDTH[tier]
    end = start + width
    size = len(ADDRESS_FIELDS)
    slots = [record[end + offset * size : end + (offset + 1) * size] for offset in range(3)]
    if slots[0][0] is None and slots[1][0] is None and slots[2][0] is None:
        addresses = NO_ADDRESSES
    else:
        registered, special, foreign = (AddressRow(*s) if s[0] is not None else None for s in slots)
        addresses = PersonAddresses(registered, special, foreign)
    return PersonRow(*record[start:end], addresses=addresses)  # type: ignore[misc]
