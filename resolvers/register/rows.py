"""Database rows as named tuples, and the values derived from them.

The schema's object types read these rows directly (their fields are these
attributes and properties), so a page of persons costs no copying into other
objects: a derived value is computed only when a query asks for it. Named tuples
rather than frozen dataclasses: as immutable, and five times cheaper to build,
which counts at thousands of rows a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated, NamedTuple

from resolvers.domain import codes
from resolvers.domain import personnummer as numbers
from resolvers.domain.access import Tier
from resolvers.register.columns import Column

# Where a record was read.
LOCAL, SKATTEVERKET = "LOCAL", "SKATTEVERKET"


# A column named as its field, read from the BASIC or the EXTENDED tier on.
BASIC, EXTENDED = Column(Tier.BASIC), Column(Tier.EXTENDED)


class AddressRow(NamedTuple):
    """One address; every field is the ``address`` column of its name (kind first: a
    record's kind is NULL when the person has no address of that kind)."""

    kind: Annotated[str, BASIC]  # F folkbokföringsadress, S särskild postadress, U utlandsadress
    care_of: Annotated[str | None, BASIC] = None
    line1: Annotated[str | None, BASIC] = None
    line2: Annotated[str | None, BASIC] = None
    line3: Annotated[str | None, BASIC] = None
    postal_code: Annotated[str | None, BASIC] = None
    postal_town: Annotated[str | None, BASIC] = None
    county_code: Annotated[str | None, BASIC] = None
    # Two digits within the county, as delivered.
    municipality_code: Annotated[str | None, BASIC] = None
    country: Annotated[str | None, BASIC] = None

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
    """A visible person, read from ``visible_person``: each field annotated with a
    ``Column`` is the column of that tier (the column of its name unless it says
    otherwise). Fields above the caller's tier are never selected and stay None."""

    id: Annotated[int, BASIC]
    personnummer: Annotated[str, BASIC]
    birth_date: Annotated[dt.date, BASIC]
    first_names: Annotated[str, BASIC]
    given_name_code: Annotated[str | None, BASIC]
    middle_name: Annotated[str | None, BASIC]
    last_name: Annotated[str, BASIC]
    status: Annotated[str, Column(Tier.BASIC, stored=False)]  # the view's person_status()
    moved_in_date: Annotated[dt.date | None, EXTENDED] = None
    key_code: Annotated[str | None, EXTENDED] = None
    civil_status_code: Annotated[str | None, Column(Tier.EXTENDED, "civil_status")] = None
    civil_status_date: Annotated[dt.date | None, EXTENDED] = None
    deregistration_code: Annotated[str | None, EXTENDED] = None
    deregistration_date: Annotated[dt.date | None, EXTENDED] = None
    addresses: PersonAddresses = NO_ADDRESSES  # joined: resolvers.register.records
    source: str = LOCAL  # or SKATTEVERKET: looked up there, never stored here
    fetched_at: dt.datetime | None = None  # when Skatteverket answered; None for LOCAL
    # The number a lookup asked for when Skatteverket had replaced it by this one
    # (resolvers.register.former_numbers); None when the lookup asked for this number.
    former_personnummer: str | None = None

    @property
    def is_coordination_number(self) -> bool:
        return numbers.is_coordination_number(self.personnummer)

    @property
    def gender(self) -> str:
        return numbers.gender_code(self.personnummer)

    @property
    def personnummer10(self) -> str:
        return numbers.ten(self.personnummer)

    @property
    def personnummer11(self) -> str:
        return numbers.short(self.personnummer)

    @property
    def personnummer13(self) -> str:
        return numbers.long(self.personnummer)

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
        return DeregistrationRow(code, codes.DEREGISTRATION[code].swedish, self.deregistration_date)


class RelationRow(NamedTuple):
    """A current relation, read from ``visible_relation_person``; ``person`` is the related
    person when visible in the register."""

    code: Annotated[str, Column(name="kind")]  # Navet's relation type: B, MO, FA, F, V, VF, M, P
    personnummer: Annotated[str, Column(name="related_personnummer")]
    since: Annotated[dt.date | None, Column(name="valid_from")]
    until: Annotated[dt.date | None, Column(name="valid_to")]
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
