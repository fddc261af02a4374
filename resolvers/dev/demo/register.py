"""The demo register's rows: persons, addresses and relations, ready for COPY."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.dev.demo.model import SKYDDAD, Household, Person, Row, address_row
from resolvers.register.columns import row_of, stored_columns
from resolvers.register.rows import AddressRow, PersonRow, RelationRow

# The columns the API reads (the rows' declarations), and what the tables hold besides:
# a person's protection, and whose an address or a relation is.
PERSON_COLUMNS = (*stored_columns(PersonRow), "protection")
ADDRESS_COLUMNS = ("person_id", *stored_columns(AddressRow))
RELATION_COLUMNS = ("person_id", *stored_columns(RelationRow))
RELATION_WIDTH = len(RELATION_COLUMNS) - 1  # a RelationRow's columns lead it
COUNTY = "14"  # Västra Götaland: every demo household lives in Göteborg or Mölndal


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
    return row_of(
        PERSON_COLUMNS, id=p.id, personnummer=p.personnummer, birth_date=p.birth_date,
        first_names=p.first_names, given_name_code=p.given_name_code,
        middle_name=p.middle_name, last_name=p.last_name, moved_in_date=moved_in,
        key_code=key_code, civil_status=p.civil_status,
        civil_status_date=p.civil_status_date, deregistration_code=code,
        deregistration_date=day, protection=p.protection,
    )  # fmt: skip


def _address_rows(p: Person, registered: bool) -> list[Row]:
    home = p.household
    if p.deregistration and p.deregistration[0] == "UV" and home.foreign:
        line1, line2, line3, country = home.foreign
        foreign = AddressRow("U", line1=line1, line2=line2, line3=line3, country=country)
        return [address_row(p.id, foreign)]
    if not registered:
        return []
    rows = [address_row(p.id, registered_address(home))]
    return rows + ([p.special_address] if p.special_address else [])


def registered_address(home: Household) -> AddressRow:
    """The household's folkbokföringsadress, in county 14 (Västra Götaland)."""
    (care_of, line1, line2), area = home.lines, home.area
    return AddressRow(
        "F", care_of=care_of, line1=line1, line2=line2, postal_code=area.postal_code,
        postal_town=area.postal_town, county_code=COUNTY, municipality_code=area.municipality_code,
    )  # fmt: skip


def _relation_rows(p: Person) -> list[Row]:
    """Every relation of ``p``, as seen from ``p``; the other side stores its own."""
    relations = [RelationRow(kind, number, p.birth_date, None) for kind, number in p.parents]
    relations += [RelationRow("B", c.personnummer, c.birth_date, None) for c in p.children]
    relations += [RelationRow("V", g.personnummer, since, None) for g, since in p.guardians]
    relations += [RelationRow("VF", c.personnummer, since, None) for c, since in p.wards]
    if p.spouse is not None:
        kind, since, until = p.union
        relations.append(RelationRow(kind, p.spouse.personnummer, since, until))
    return [(p.id, *relation[:RELATION_WIDTH]) for relation in relations]
