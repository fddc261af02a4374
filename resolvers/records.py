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
_KINDS = ("F", "S", "U")  # folkbokföringsadress, särskild postadress, utlandsadress


def address_joins(person: str = "p") -> str:
    """Join the three addresses of the person selected as ``person``."""
    return "\n".join(
        f"LEFT JOIN address AS {person}_{kind} "
        f"ON {person}_{kind}.person_id = {person}.id AND {person}_{kind}.kind = '{kind}'"
        for kind in _KINDS
    )


ADDRESS_JOINS = address_joins()


def _columns(tier: Tier) -> Sequence[str]:
    return BASIC_PERSON_COLUMNS if tier is Tier.BASIC else PERSON_COLUMNS


def person_columns(tier: Tier, person: str = "p", *, addresses: bool = True) -> str:
    """The select list for a person at ``tier`` (data above it is never read), with
    their addresses joined by ``address_joins(person)`` unless ``addresses`` is False."""
    names = [f"{person}.{name} AS {person}_{name}" for name in _columns(tier)]
    if addresses:
        names += [
            f"{person}_{kind}.{name} AS {person}_{kind}_{name}"
            for kind in _KINDS
            for name in ADDRESS_FIELDS
        ]
    return ", ".join(names)


_WIDTH = {tier: len(_columns(tier)) for tier in Tier}
PERSON_RECORD_WIDTH = {tier: _WIDTH[tier] + 3 * len(ADDRESS_FIELDS) for tier in Tier}


def record_width(tier: Tier, *, addresses: bool = True) -> int:
    """How many columns ``person_columns`` selects."""
    return PERSON_RECORD_WIDTH[tier] if addresses else _WIDTH[tier]


_SIZE = len(ADDRESS_FIELDS)


def person_from_record(
    record: Any, tier: Tier, start: int = 0, *, addresses: bool = True
) -> PersonRow | None:
    """Decode the person selected by ``person_columns(tier, addresses=…)`` at ``start``
    in the record; without addresses selected, the person has none.

    Written for speed: it runs for every person of every answer.
    """
    if record[start] is None:
        return None
    end = start + _WIDTH[tier]
    if not addresses:
        return PersonRow(*record[start:end])
    special, foreign = end + _SIZE, end + 2 * _SIZE
    if record[end] is None and record[special] is None and record[foreign] is None:
        found = NO_ADDRESSES
    else:
        found = PersonAddresses(
            _address(record, end), _address(record, special), _address(record, foreign)
        )
    return PersonRow(*record[start:end], addresses=found)  # type: ignore[misc]


def _address(record: Any, start: int) -> AddressRow | None:
    if record[start] is None:  # the address kind: NULL when the person has none
        return None
    return AddressRow._make(record[start : start + _SIZE])
