"""The demo register as Navet records: one total record per person, built from its rows.

A record holds what Skatteverket would deliver: no key code (the municipality adds it per
property, ``key_code_rows``), but a property designation, which the demo makes up for each
household's street address.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from operator import itemgetter

from resolvers.dev.demo.build import Drawn
from resolvers.dev.demo.model import Area, Household, Person, Row
from resolvers.dev.demo.register import COUNTY, registered_address
from resolvers.imports.records import (
    CivilStatus,
    Deregistration,
    Names,
    Record,
    Registration,
    Relation,
)
from resolvers.register.rows import AddressRow

KEY_CODE_COLUMNS = ("county_code", "municipality_code", "property_designation", "key_code")
KeyCodeRow = tuple[str, str, str, str]
_BY_PERSON = itemgetter(0)


def designation(street_line: str, block: int) -> str:
    """A property designation for a street address: the street in capitals as the tract,
    the address's key code area as the block, the house number as the unit
    (``LÅNGGATAN 17:5``). The block keeps the same street and number in two areas apart,
    since the key code is looked up by designation."""
    street, _, number = street_line.rpartition(" ")
    if not number.isdigit():  # a letter after the number: "Storgatan 12 B"
        street, _, number = street.rpartition(" ")
    return f"{street.upper()} {block}:{number}"


def purged(record: Record) -> Record:
    """What a file says of a protected person: the number and the mark, nothing else."""
    return Record(
        record.post_id, record.changed_at, record.total, record.personnummer,
        record.protection, None, None, None, None, None, None, None,
    )  # fmt: skip


class RegisterRecords:
    """Total records of a drawn register, built from its rows when they are asked for."""

    def __init__(self, drawn: Drawn) -> None:
        self.drawn, self.people = drawn, drawn.population.people
        self.blocks = {area.key_code: index + 1 for index, area in enumerate(drawn.areas)}

    def record(self, person: Person) -> Record:
        """``person``'s record as generated, protected or not."""
        register, key = self.drawn.register, person.id
        addresses, relations = (
            rows[bisect.bisect_left(rows, key, key=_BY_PERSON) :
                 bisect.bisect_right(rows, key, key=_BY_PERSON)]
            for rows in (register.addresses, register.relations)
        )  # fmt: skip
        return self._record(register.persons[person.id - 1], addresses, relations)

    def stream(
        self, first_post_id: int, changed_at: dt.datetime,
        replaced: Mapping[str, Record | None], extra: Sequence[Record],
    ) -> Iterator[Record]:  # fmt: skip
        """Every person's total record in id order, then ``extra``, numbered from
        ``first_post_id``; a number in ``replaced`` has the record given there (or none)
        instead. Protected persons are purged."""
        register, post_id = self.drawn.register, first_post_id
        addresses = _by_person(register.addresses, len(register.persons))
        relations = _by_person(register.relations, len(register.persons))
        for row, own_addresses, own_relations in zip(
            register.persons, addresses, relations, strict=True
        ):
            if row[1] in replaced:
                record = replaced[row[1]]
                if record is None:
                    continue
                record = replace(record, post_id=post_id, changed_at=changed_at)
            else:
                record = self._record(row, own_addresses, own_relations, post_id, changed_at)
            yield purged(record) if record.protection else record
            post_id += 1
        for record in extra:
            yield replace(record, post_id=post_id, changed_at=changed_at)
            post_id += 1

    def at_home(self, person: Person) -> tuple[Registration, AddressRow]:
        """Where ``person`` is registered when living at home: for undoing a deregistration
        or a protection, whose rows say nowhere."""
        home = person.household
        since = max(home.moved_in, person.birth_date)
        registration = Registration(since, COUNTY, home.area.municipality_code, self.of(home))
        return registration, registered_address(home)

    def of(self, home: Household) -> str:
        """The property designation of ``home``'s address."""
        return designation(home.lines[2], self.blocks[home.area.key_code])

    def key_code_row(self, area: Area, street_line: str) -> KeyCodeRow:
        block = self.blocks[area.key_code]
        return COUNTY, area.municipality_code, designation(street_line, block), area.key_code

    def key_code_rows(self) -> set[KeyCodeRow]:
        """A row for the address of every household drawn."""
        return {self.key_code_row(h.area, h.lines[2]) for h in self.drawn.population.households}

    def _record(
        self, row: Row, addresses: Sequence[Row], relations: Sequence[Row],
        post_id: int = 0, changed_at: dt.datetime | None = None,
    ) -> Record:  # fmt: skip
        (person_id, number, _, first, code, middle, last, moved_in, _, civil, civil_since,
         deregistration, deregistered_on, protection) = row  # fmt: skip
        registration = None
        if moved_in is not None:  # registered at the household's address
            home = self.people[person_id - 1].household
            municipality = home.area.municipality_code
            registration = Registration(moved_in, COUNTY, municipality, self.of(home))
        return Record(
            post_id, changed_at, True, number, protection, None,
            Deregistration(deregistration, deregistered_on) if deregistration else None,
            Names(first, code, middle, last), registration,
            tuple([AddressRow(*a[1:]) for a in addresses]) or None,
            CivilStatus(civil, civil_since),
            tuple([Relation(r[1], r[2], r[3], r[4]) for r in relations]) or None,
        )  # fmt: skip


def _by_person(rows: list[Row], persons: int) -> Iterator[list[Row]]:
    """The rows of persons 1, 2, … in turn, from ``rows`` sorted by person id."""
    index, total = 0, len(rows)
    for person_id in range(1, persons + 1):
        start = index
        while index < total and rows[index][0] == person_id:
            index += 1
        yield rows[start:index]
