"""The people and households of the demo register while they are being drawn."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from resolvers.register.rows import AddressRow

Row = tuple[Any, ...]

SKYDDAD, SEKRETESS = "SKYDDAD_FOLKBOKFORING", "SEKRETESSMARKERING"


def address_row(person_id: int, address: AddressRow) -> Row:
    """An ``address`` row for COPY: whose it is, then the address's columns."""
    return (person_id, *address)


@dataclass(frozen=True, slots=True)
class Area:
    """A key code area: where a household lives, with the streets to pick an address from."""

    key_code: str
    municipality_code: str
    postal_code: str
    postal_town: str
    streets: tuple[str, ...]


@dataclass(slots=True, eq=False)
class Person:
    """A person; relations point at other persons, or hold numbers of persons not drawn."""

    id: int
    personnummer: str
    birth_date: dt.date
    male: bool
    first_names: str
    given_name_code: str | None
    middle_name: str | None
    last_name: str
    household: Household
    civil_status: str = "OG"
    civil_status_date: dt.date | None = None
    deregistration: tuple[str, dt.date] | None = None
    protection: str | None = None
    special_address: Row | None = None
    spouse: Person | None = None
    union: list[Any] = field(default_factory=list)  # kind, valid_from, valid_to
    parents: list[tuple[str, str]] = field(default_factory=list)  # kind, personnummer
    children: list[Person] = field(default_factory=list)
    guardians: list[tuple[Person, dt.date]] = field(default_factory=list)
    wards: list[tuple[Person, dt.date]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class Household:
    """People sharing a registered address; ``kind`` is one of the household kinds."""

    kind: str
    area: Area
    members: list[Person] = field(default_factory=list)
    lines: tuple[str | None, str | None, str] = (None, None, "")  # care_of, line1, line2
    moved_in: dt.date = dt.date.min
    foreign: tuple[str | None, ...] | None = None  # line1..line3, country
