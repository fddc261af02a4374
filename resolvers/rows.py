"""Database rows as named tuples, and the values derived from them.

The schema's object types read these rows directly (their fields are these
attributes and properties), so a page of persons costs no copying into other
objects: a derived value is computed only when a query asks for it. Named tuples
rather than frozen dataclasses: as immutable, and five times cheaper to build,
which counts at thousands of rows a second.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from typing import NamedTuple

from resolvers import codes

# Where a record was read.
LOCAL, SKATTEVERKET = "LOCAL", "SKATTEVERKET"


class AddressRow(NamedTuple):
    kind: str  # F folkbokföringsadress, S särskild postadress, U utlandsadress
    care_of: str | None
    line1: str | None
    line2: str | None
    line3: str | None
    postal_code: str | None
    postal_town: str | None
    county_code: str | None
    municipality_code: str | None  # two digits within the county, as delivered
    country: str | None

    @property
    def municipality(self) -> str | None:
        """The four-digit kommunkod: county + municipality (Göteborg 1480)."""
        if self.county_code and self.municipality_code:
            return self.county_code + self.municipality_code
        return None

    @property
    def postal_code_formatted(self) -> str | None:
        code = self.postal_code
        return f"{code[:3]} {code[3:]}" if code else None

    @property
    def lines(self) -> list[str]:
        """The address as printed on an envelope."""
        lines = [f"c/o {self.care_of}"] if self.care_of else []
        lines += [line for line in (self.line1, self.line2, self.line3) if line]
        town = " ".join(part for part in (self.postal_code_formatted, self.postal_town) if part)
        if town:
            lines.append(town)
        if self.country:
            lines.append(self.country)
        return lines


class PersonAddresses(NamedTuple):
    """The three address kinds of one person, each optional."""

    registered: AddressRow | None = None
    special: AddressRow | None = None
    foreign: AddressRow | None = None

    @property
    def mailing(self) -> AddressRow | None:
        """Särskild postadress if any, else the registered address, else the foreign one."""
        return self.special or self.registered or self.foreign


NO_ADDRESSES = PersonAddresses()


class CivilStatusRow(NamedTuple):
    code: str
    kind: str
    meaning: str
    since: dt.date | None


class DeregistrationRow(NamedTuple):
    code: str
    meaning: str
    date: dt.date | None


class PersonRow(NamedTuple):
    """A visible person. Fields above the caller's tier are never selected and stay None."""

    id: int
    personnummer: str
    birth_date: dt.date
    first_names: str
    given_name_code: str | None
    middle_name: str | None
    last_name: str
    status: str
    moved_in_date: dt.date | None = None
    key_code: str | None = None
    civil_status_code: str | None = None
    civil_status_date: dt.date | None = None
    deregistration_code: str | None = None
    deregistration_date: dt.date | None = None
    addresses: PersonAddresses = NO_ADDRESSES
    source: str = LOCAL  # or SKATTEVERKET: looked up there, never stored here
    fetched_at: dt.datetime | None = None  # when Skatteverket answered; None for LOCAL

    @property
    def is_coordination_number(self) -> bool:
        return int(self.personnummer[6:8]) > 60

    @property
    def gender(self) -> str:
        return "M" if int(self.personnummer[10]) % 2 else "F"

    @property
    def personnummer10(self) -> str:
        return self.personnummer[2:]

    @property
    def personnummer11(self) -> str:
        number = self.personnummer
        separator = "+" if time.localtime().tm_year - int(number[:4]) >= 100 else "-"
        return f"{number[2:8]}{separator}{number[8:]}"

    @property
    def personnummer13(self) -> str:
        return f"{self.personnummer[:8]}-{self.personnummer[8:]}"

    @property
    def given_name(self) -> str | None:
        return codes.given_name(self.first_names, self.given_name_code)

    @property
    def registered_address(self) -> AddressRow | None:
        return self.addresses.registered

    @property
    def special_postal_address(self) -> AddressRow | None:
        return self.addresses.special

    @property
    def foreign_address(self) -> AddressRow | None:
        return self.addresses.foreign

    @property
    def mailing_address(self) -> AddressRow | None:
        """Where letters go; none to a deceased person, whose addresses stay shown as
        registered. Decided here, so a record from Skatteverket follows the same rule."""
        if self.status == codes.DECEASED:
            return None
        return self.addresses.mailing

    @property
    def civil_status(self) -> CivilStatusRow | None:
        code = self.civil_status_code
        if code is None:
            return None
        kind, meaning = codes.CIVIL_STATUS[code]
        return CivilStatusRow(code, kind, meaning, self.civil_status_date)

    @property
    def deregistration(self) -> DeregistrationRow | None:
        code = self.deregistration_code
        if code is None:
            return None
        return DeregistrationRow(code, codes.DEREGISTRATION[code], self.deregistration_date)


# Columns per tier, in field order, so a row is built positionally; a caller's query
# selects only the columns of their tier: data above it is never read.
PERSON_COLUMNS = (
    "id", "personnummer", "birth_date", "first_names", "given_name_code", "middle_name",
    "last_name", "status", "moved_in_date", "key_code", "civil_status", "civil_status_date",
    "deregistration_code", "deregistration_date",
)  # fmt: skip
BASIC_PERSON_COLUMNS = PERSON_COLUMNS[: PERSON_COLUMNS.index("status") + 1]


class RelationRow(NamedTuple):
    """A current relation; ``person`` is the related person when visible in the register."""

    code: str  # Navet's relation type: B, MO, FA, F, V, VF, M, P
    personnummer: str
    since: dt.date | None
    until: dt.date | None
    person: PersonRow | None = None

    @property
    def kind(self) -> str:
        return codes.RELATION_KIND[self.code]


@dataclass(frozen=True, slots=True)
class Page:
    """One page of persons ordered as asked, with whether more follow."""

    rows: list[PersonRow] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next_page: bool = False
