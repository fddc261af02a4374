"""Database rows as frozen dataclasses: what the schema types wrap."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AddressRow:
    kind: str
    care_of: str | None
    line1: str | None
    line2: str | None
    line3: str | None
    postal_code: str | None
    postal_town: str | None
    county_code: str | None
    municipality_code: str | None
    country: str | None


@dataclass(frozen=True, slots=True)
class PersonAddresses:
    """The three address kinds of one person, each optional."""

    registered: AddressRow | None = None
    special: AddressRow | None = None
    foreign: AddressRow | None = None

    @property
    def mailing(self) -> AddressRow | None:
        """Särskild postadress if any, else the registered address, else the foreign one."""
        return self.special or self.registered or self.foreign


NO_ADDRESSES = PersonAddresses()


@dataclass(frozen=True, slots=True)
class PersonRow:
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
    civil_status: str | None = None
    civil_status_date: dt.date | None = None
    deregistration_code: str | None = None
    deregistration_date: dt.date | None = None
    addresses: PersonAddresses = NO_ADDRESSES


# Column lists per tier, in field order, so a row is built positionally.
# A caller's query selects only the columns of their tier: data above it is never read.
PERSON_COLUMNS = tuple(name for name in PersonRow.__dataclass_fields__ if name != "addresses")
BASIC_PERSON_COLUMNS = PERSON_COLUMNS[: PERSON_COLUMNS.index("status") + 1]


@dataclass(frozen=True, slots=True)
class RelationRow:
    """A current relation; ``person`` is the related person when visible in the register."""

    kind: str
    related_personnummer: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    person: PersonRow | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of persons ordered as asked, with whether more follow."""

    rows: list[PersonRow] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    has_next_page: bool = False
