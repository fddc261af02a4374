"""How a person is selected — columns per tier plus the three addresses — and decoded.

Every query that returns persons selects ``person_columns(tier)`` from ``visible_person
AS p`` joined with ``ADDRESS_JOINS``, so a person and their addresses arrive in one row
and one statement serves a whole batch. What is selected, in which order and under which
name, follows the rows' declarations (``resolvers.register.columns``): ``person_outputs`` is the
select list and the record's layout at once, so the decoding cannot drift from the SQL
(tests/test_columns.py holds each statement's result columns equal to it).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from resolvers.domain.access import Tier
from resolvers.register.columns import declared, read_at
from resolvers.register.rows import (
    NO_ADDRESSES,
    AddressRow,
    PersonAddresses,
    PersonRow,
    RelationRow,
)

_KINDS = ("F", "S", "U")  # folkbokföringsadress, särskild postadress, utlandsadress
_ADDRESS = declared(AddressRow)
_RELATION = declared(RelationRow)
if len(_ADDRESS) != len(AddressRow._fields) or _ADDRESS[0].field != "kind":
    raise TypeError("every AddressRow field is a column, kind first (NULL when absent)")


class Output(NamedTuple):
    """One column of a statement's result: what is selected, its name, its declared type."""

    expression: str
    name: str
    type: type


def person_outputs(tier: Tier, person: str = "p", *, addresses: bool = True) -> list[Output]:
    """The columns of a person at ``tier`` (data above it is never read), then their
    three addresses (joined by ``address_joins(person)``) unless ``addresses`` is False."""
    outputs = [
        Output(f"{person}.{c.column}", f"{person}_{c.field}", c.type)
        for c in read_at(PersonRow, tier)
    ]
    if addresses:
        outputs += [
            Output(f"{person}_{kind}.{c.column}", f"{person}_{kind.lower()}_{c.field}", c.type)
            for kind in _KINDS
            for c in _ADDRESS
        ]
    return outputs


def relation_outputs(relation: str = "rp") -> list[Output]:
    """The columns of a relation (``RelationRow`` but its person), read as ``relation``."""
    return [Output(f"{relation}.{c.column}", f"relation_{c.field}", c.type) for c in _RELATION]


def select_list(outputs: list[Output]) -> str:
    return ", ".join(f"{output.expression} AS {output.name}" for output in outputs)


def person_columns(tier: Tier, person: str = "p", *, addresses: bool = True) -> str:
    """The select list of ``person_outputs``."""
    return select_list(person_outputs(tier, person, addresses=addresses))


def address_joins(person: str = "p") -> str:
    """Join the three addresses of the person selected as ``person``."""
    return "\n".join(
        f"LEFT JOIN address AS {person}_{kind} "
        f"ON {person}_{kind}.person_id = {person}.id AND {person}_{kind}.kind = '{kind}'"
        for kind in _KINDS
    )


ADDRESS_JOINS = address_joins()
RELATION_WIDTH = len(_RELATION)
_WIDTH = {tier: len(read_at(PersonRow, tier)) for tier in Tier}
_SIZE = len(_ADDRESS)
PERSON_RECORD_WIDTH = {tier: _WIDTH[tier] + len(_KINDS) * _SIZE for tier in Tier}


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
