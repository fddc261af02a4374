"""The JSON contract of ``GET /personer/{personnummer}``, shared by client and simulator.

One set of models both sides use, so the simulator cannot drift from what the client
reads. Field names are Swedish, as in Skatteverket's own services; lengths follow the
register's limits, and codes are the register's codes, so an answer that passes
validation can be shown without further checks. See docs/skatteverket.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from resolvers.domain import codes
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import CANONICAL_PATTERN, Personnummer
from resolvers.register.rows import SKATTEVERKET, AddressRow, PersonAddresses, PersonRow

Digits12 = Annotated[str, StringConstraints(pattern=CANONICAL_PATTERN)]


def _one_of(known: Collection[str]) -> Callable[[str], str]:
    """A check that a code is one of ``known`` (resolvers/domain/codes.py declares them)."""
    listed = ", ".join(known)

    def check(code: str) -> str:
        if code not in known:
            raise ValueError(f"not one of the register's codes {listed}")
        return code

    return check


CivilStatusCode = Annotated[str, AfterValidator(_one_of(codes.CIVIL_STATUS))]
DeregistrationCode = Annotated[str, AfterValidator(_one_of(codes.DEREGISTRATION))]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class Address(_Model):
    """One address; which one it is follows from where it sits in the person."""

    care_of: Annotated[str | None, StringConstraints(max_length=35)] = Field(None, alias="coAdress")
    line1: Annotated[str | None, StringConstraints(max_length=35)] = Field(
        None, alias="utdelningsadress1"
    )
    line2: Annotated[str | None, StringConstraints(max_length=35)] = Field(
        None, alias="utdelningsadress2"
    )
    line3: Annotated[str | None, StringConstraints(max_length=35)] = Field(
        None, alias="utdelningsadress3"
    )
    postal_code: Annotated[str | None, StringConstraints(pattern=r"^[0-9]{5}$")] = Field(
        None, alias="postnummer"
    )
    postal_town: Annotated[str | None, StringConstraints(max_length=27)] = Field(
        None, alias="postort"
    )
    county_code: Annotated[str | None, StringConstraints(pattern=r"^[0-9]{2}$")] = Field(
        None, alias="lanskod"
    )
    municipality_code: Annotated[str | None, StringConstraints(pattern=r"^[0-9]{2}$")] = Field(
        None, alias="kommunkod"
    )
    country: Annotated[str | None, StringConstraints(max_length=40)] = Field(None, alias="land")

    def row(self, kind: str) -> AddressRow:
        return AddressRow(
            kind, care_of=self.care_of, line1=self.line1, line2=self.line2, line3=self.line3,
            postal_code=self.postal_code, postal_town=self.postal_town,
            county_code=self.county_code, municipality_code=self.municipality_code,
            country=self.country,
        )  # fmt: skip


class CivilStatus(_Model):
    code: CivilStatusCode = Field(alias="kod")
    date: dt.date | None = Field(None, alias="datum")


class Deregistration(_Model):
    code: DeregistrationCode = Field(alias="kod")
    date: dt.date = Field(alias="datum")


class Person(_Model):
    """A person as Skatteverket answers: all data, or (``skyddad``) only the number."""

    personnummer: Digits12
    protected: bool = Field(False, alias="skyddad")
    first_names: Annotated[str | None, StringConstraints(min_length=1, max_length=80)] = Field(
        None, alias="fornamn"
    )
    given_name_code: Annotated[str | None, StringConstraints(pattern=r"^[0-9]{2}$")] = Field(
        None, alias="tilltalsnamnsmarkering"
    )
    middle_name: Annotated[str | None, StringConstraints(max_length=40)] = Field(
        None, alias="mellannamn"
    )
    last_name: Annotated[str | None, StringConstraints(min_length=1, max_length=60)] = Field(
        None, alias="efternamn"
    )
    registered_address: Address | None = Field(None, alias="folkbokforingsadress")
    special_postal_address: Address | None = Field(None, alias="sarskildPostadress")
    foreign_address: Address | None = Field(None, alias="utlandsadress")
    moved_in_date: dt.date | None = Field(None, alias="flyttdatum")
    civil_status: CivilStatus | None = Field(None, alias="civilstand")
    deregistration: Deregistration | None = Field(None, alias="avregistrering")

    @property
    def complete(self) -> bool:
        """An unprotected answer must carry the names the Person type cannot do without."""
        return self.protected or (self.first_names is not None and self.last_name is not None)

    def row(self, tier: Tier, fetched_at: dt.datetime) -> PersonRow:
        """The person as the schema reads it, holding only what ``tier`` may see.

        Upstream persons have no row id; a negative id derived from the number keeps
        them apart from every register row (ids there are positive).
        """
        assert not self.protected and self.first_names and self.last_name
        addresses = PersonAddresses(
            self.registered_address.row("F") if self.registered_address else None,
            self.special_postal_address.row("S") if self.special_postal_address else None,
            self.foreign_address.row("U") if self.foreign_address else None,
        )
        deregistration = self.deregistration
        number = Personnummer(self.personnummer)
        status = codes.person_status(
            number.is_coordination_number, deregistration.code if deregistration else None
        )
        row = PersonRow(
            id=-int(self.personnummer),
            personnummer=self.personnummer,
            birth_date=number.birth_date,
            first_names=self.first_names,
            given_name_code=self.given_name_code,
            middle_name=self.middle_name,
            last_name=self.last_name,
            status=status,
            addresses=addresses,
            source=SKATTEVERKET,
            fetched_at=fetched_at,
        )
        if tier is Tier.BASIC:
            return row
        return row._replace(
            moved_in_date=self.moved_in_date,
            civil_status_code=self.civil_status.code if self.civil_status else None,
            civil_status_date=self.civil_status.date if self.civil_status else None,
            deregistration_code=deregistration.code if deregistration else None,
            deregistration_date=deregistration.date if deregistration else None,
        )
