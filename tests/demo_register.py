"""The demo register in one shape, as ``generate`` draws it and as an import stored it.

``expected`` is what importing the demo's Navet files must give: ``generate``'s rows,
but a protected person holds the number, the birth date and the mark alone — no names,
dates or key code, no addresses, no relations, and no one's relation points at them.
``stored`` reads the register the same way. Rows are keyed by personnummer (an import
numbers persons in its own order); key codes are the person rows' ``key_code``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg

from resolvers.dev.demo import ADDRESS_COLUMNS, PERSON_COLUMNS, RELATION_COLUMNS, generate

Row = tuple[Any, ...]
PERSON_FIELDS = PERSON_COLUMNS[1:]  # personnummer, birth_date, …, protection
STORED_PERSONS = f"SELECT {', '.join(PERSON_FIELDS)} FROM person"
STORED_ADDRESSES = f"""
SELECT p.personnummer, {", ".join(f"a.{column}" for column in ADDRESS_COLUMNS[1:])}
FROM address AS a
JOIN person AS p ON p.id = a.person_id
"""
STORED_RELATIONS = f"""
SELECT p.personnummer, {", ".join(f"r.{column}" for column in RELATION_COLUMNS[1:])}
FROM relation AS r
JOIN person AS p ON p.id = r.person_id
"""


@dataclass(frozen=True)
class Register:
    persons: dict[str, Row]  # by personnummer: the other PERSON_FIELDS
    addresses: list[Row]  # (personnummer, kind, care_of, …), sorted
    relations: list[Row]  # (personnummer, kind, related_personnummer, valid_from, valid_to)

    @property
    def protected(self) -> set[str]:
        return {number for number, row in self.persons.items() if row[-1] is not None}


def expected(persons: int, seed: int, today: dt.date) -> Register:
    """``generate``'s register as an import stores it (see the module's doc)."""
    drawn = generate(persons, seed, today)
    numbers = {row[0]: row[1] for row in drawn.persons}
    protected = {row[1] for row in drawn.persons if row[-1] is not None}
    shown = {
        row[1]: row[2:] if row[1] not in protected else (row[2], *[None] * 10, row[-1])
        for row in drawn.persons
    }
    addresses = [(numbers[id_], *rest) for id_, *rest in drawn.addresses]
    relations = [(numbers[id_], *rest) for id_, *rest in drawn.relations]
    return Register(
        shown,
        _sorted(a for a in addresses if a[0] not in protected),
        _sorted(r for r in relations if r[0] not in protected and r[2] not in protected),
    )


async def stored(connection: asyncpg.Connection | asyncpg.Pool) -> Register:
    persons = {row[0]: tuple(row[1:]) for row in await connection.fetch(STORED_PERSONS)}
    addresses = [tuple(row) for row in await connection.fetch(STORED_ADDRESSES)]
    relations = [tuple(row) for row in await connection.fetch(STORED_RELATIONS)]
    return Register(persons, _sorted(addresses), _sorted(relations))


def assert_same(found: Register, wanted: Register) -> None:
    """Part by part, naming the first persons that differ rather than the whole register."""
    assert found.persons.keys() == wanted.persons.keys()
    differ = [n for n in wanted.persons if found.persons[n] != wanted.persons[n]]
    assert not differ, [(found.persons[n], wanted.persons[n]) for n in differ[:3]]
    assert set(found.addresses) ^ set(wanted.addresses) == set()
    assert set(found.relations) ^ set(wanted.relations) == set()
    assert found == wanted  # and as many of each


def _sorted(rows: Any) -> list[Row]:
    return sorted(rows, key=repr)
