"""The demo register's rows: persons, addresses and relations, ready for COPY."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.demo.model import SKYDDAD, Person, Row

PERSON_COLUMNS = (
    "id", "personnummer", "birth_date", "first_names", "given_name_code", "middle_name",
    "last_name", "moved_in_date", "key_code", "civil_status", "civil_status_date",
    "deregistration_code", "deregistration_date", "protection",
)  # fmt: skip
ADDRESS_COLUMNS = (
    "person_id", "kind", "care_of", "line1", "line2", "line3", "postal_code", "postal_town",
    "county_code", "municipality_code", "country",
)  # fmt: skip
RELATION_COLUMNS = ("person_id", "kind", "related_personnummer", "valid_from", "valid_to")


@dataclass(frozen=True, slots=True)
class DemoRegister:
    """Rows for COPY, in ``*_COLUMNS`` order; addresses and relations sorted by person id."""

    persons: list[Row]
    addresses: list[Row]
    relations: list[Row]


def register_of(people: Sequence[Person]) -> DemoRegister:
    """The rows of ``people``, who are in id order."""
    persons: list[Row] = []
    addresses: list[Row] = []
    relations: list[Row] = []
    for p in people:
        registered = not p.deregistration and p.protection != SKYDDAD
        persons.append(_person_row(p, registered))
        addresses.extend(_address_rows(p, registered))
        relations.extend(_relation_rows(p))
    return DemoRegister(persons, addresses, relations)


def _person_row(p: Person, registered: bool) -> Row:
    """Persons hidden by protection or gone from the register have no area or move-in day."""
    code, day = p.deregistration or (None, None)
    moved_in = max(p.household.moved_in, p.birth_date) if registered else None
    key_code = p.household.area.key_code if registered else None
    return (p.id, p.personnummer, p.birth_date, p.first_names, p.given_name_code,
            p.middle_name, p.last_name, moved_in, key_code, p.civil_status,
            p.civil_status_date, code, day, p.protection)  # fmt: skip


def _address_rows(p: Person, registered: bool) -> list[Row]:
    home, area = p.household, p.household.area
    if p.deregistration and p.deregistration[0] == "UV" and home.foreign:
        return [(p.id, "U", None, *home.foreign[:3], None, None, None, None, home.foreign[3])]
    if not registered:
        return []
    care_of, line1, line2 = home.lines
    place = (area.postal_code, area.postal_town, "14", area.municipality_code, None)
    rows: list[Row] = [(p.id, "F", care_of, line1, line2, None, *place)]
    return rows + ([p.special_address] if p.special_address else [])


def _relation_rows(p: Person) -> list[Row]:
    """Every relation of ``p``, as seen from ``p``; the other side stores its own."""
    rows: list[Row] = [(p.id, kind, number, p.birth_date, None) for kind, number in p.parents]
    rows += [(p.id, "B", c.personnummer, c.birth_date, None) for c in p.children]
    rows += [(p.id, "V", g.personnummer, since, None) for g, since in p.guardians]
    rows += [(p.id, "VF", c.personnummer, since, None) for c, since in p.wards]
    if p.spouse is not None:
        rows.append((p.id, p.union[0], p.spouse.personnummer, p.union[1], p.union[2]))
    return rows
