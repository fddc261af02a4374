"""The person record and the three answers a lookup by number can give."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers import codes
from resolvers.access import Tier
from resolvers.personnummer import Personnummer
from resolvers.rows import PersonRow, RelationRow
from schema.address import Address
from schema.directives import requires_tier

if TYPE_CHECKING:
    from schema.relation import Relation

RelationType = Annotated["Relation", strawberry.lazy("schema.relation")]


@strawberry.enum(description="Kön — gender, from the second-last digit of the number.")
class Gender(Enum):
    FEMALE = strawberry.enum_value("F", description="Kvinna (even digit).")
    MALE = strawberry.enum_value("M", description="Man (odd digit).")


@strawberry.enum(description="Status — whether the person is registered (folkbokförd).")
class Status(Enum):
    REGISTERED = strawberry.enum_value("REGISTERED", description="Folkbokförd — registered.")
    DECEASED = strawberry.enum_value("DECEASED", description="Avliden — deceased.")
    EMIGRATED = strawberry.enum_value("EMIGRATED", description="Utvandrad — emigrated.")
    DEREGISTERED = strawberry.enum_value(
        "DEREGISTERED", description="Avregistrerad av annan orsak — deregistered otherwise."
    )


@strawberry.enum(description="Källa — where the record was read.")
class Source(Enum):
    LOCAL = strawberry.enum_value("LOCAL", description="Västfolket's own register.")
    SKATTEVERKET = strawberry.enum_value(
        "SKATTEVERKET", description="Looked up at Skatteverket (not in the local register)."
    )


@strawberry.enum(description="Civilstånd — civil status.")
class CivilStatusKind(Enum):
    UNMARRIED = strawberry.enum_value("UNMARRIED", description="OG: ogift — unmarried.")
    MARRIED = strawberry.enum_value("MARRIED", description="G: gift — married.")
    WIDOWED = strawberry.enum_value("WIDOWED", description="Ä: änka/änkling — widowed.")
    DIVORCED = strawberry.enum_value("DIVORCED", description="S: skild — divorced.")
    REGISTERED_PARTNER = strawberry.enum_value(
        "REGISTERED_PARTNER", description="RP: registrerad partner — registered partner."
    )
    DIVORCED_PARTNER = strawberry.enum_value(
        "DIVORCED_PARTNER", description="SP: skild partner — divorced partner."
    )
    SURVIVING_PARTNER = strawberry.enum_value(
        "SURVIVING_PARTNER", description="EP: efterlevande partner — surviving partner."
    )


@strawberry.type(description="Civilstånd — civil status with the date it last changed.")
class CivilStatus:
    code: str = strawberry.field(description="Skatteverket's code: OG, G, Ä, S, RP, SP or EP.")
    kind: CivilStatusKind = strawberry.field(description="The code as an enum value.")
    meaning: str = strawberry.field(description="Betydelse — the code in words (Swedish).")
    since: dt.date | None = strawberry.field(description="Civilståndsdatum — date of change.")


@strawberry.type(description="Avregistrering — why and when a person left the register.")
class Deregistration:
    code: str = strawberry.field(
        description="Avregistreringsorsak: AV deceased, UV emigrated, GN old personnummer, "
        "GS old samordningsnummer, AS annulled samordningsnummer, OB missing, TA technical, "
        "FI false identity."
    )
    meaning: str = strawberry.field(description="Betydelse — the code in words (Swedish).")
    date: dt.date | None = strawberry.field(description="Avregistreringsdatum — the date.")


@strawberry.type(description="Person — a person in the population register (folkbokföringen).")
class Person:
    id: strawberry.Private[int]
    row: strawberry.Private[PersonRow]
    personnummer: str = strawberry.field(
        description="Personnummer — canonical 12 digits, YYYYMMDDNNNC."
    )
    is_coordination_number: bool = strawberry.field(
        description="Samordningsnummer — true if the number is a coordination number "
        "(day of month + 60)."
    )
    gender: Gender = strawberry.field(description="Kön — gender, from the number.")
    birth_date: dt.date = strawberry.field(
        description="Födelsedatum — birth date, from the number."
    )
    first_names: str = strawberry.field(description="Förnamn — all first names.")
    given_name: str | None = strawberry.field(
        description="Tilltalsnamn — the first name(s) the person goes by, if registered."
    )
    given_name_code: str | None = strawberry.field(
        description="Tilltalsnamnsmarkering — two-digit position code of the tilltalsnamn "
        "('20' = second first name, '12' = first and second)."
    )
    middle_name: str | None = strawberry.field(description="Mellannamn — middle name.")
    last_name: str = strawberry.field(description="Efternamn — last name.")
    status: Status = strawberry.field(description="Status — registered, deceased, emigrated…")
    source: Source = strawberry.field(description="Källa — where this record was read.")
    personnummer10: str = strawberry.field(description="Personnummer as ten digits: YYMMDDNNNC.")
    personnummer11: str = strawberry.field(
        description="Personnummer as written: YYMMDD-NNNC ('+' from age 100)."
    )
    personnummer13: str = strawberry.field(
        description="Personnummer with century and hyphen: YYYYMMDD-NNNC."
    )
    registered_address: Address | None = strawberry.field(
        description="Folkbokföringsadress — the registered address."
    )
    special_postal_address: Address | None = strawberry.field(
        description="Särskild postadress — the special postal address."
    )
    foreign_address: Address | None = strawberry.field(
        description="Utlandsadress — the foreign address."
    )
    mailing_address: Address | None = strawberry.field(
        description="Utskriftsadress — where to send letters: the särskild postadress if "
        "there is one, else the folkbokföringsadress, else the utlandsadress."
    )
    # Above BASIC: plain attributes (None when the caller's SQL did not select them),
    # gated by the tier directive like any other field.
    moved_in_date: dt.date | None = strawberry.field(
        description="Flyttdatum — date registered at the current address.",
        extensions=requires_tier(Tier.EXTENDED),
    )
    key_code: str | None = strawberry.field(
        description="Nyckelkod — the municipality's key code for the registered address.",
        extensions=requires_tier(Tier.EXTENDED),
    )
    civil_status: CivilStatus | None = strawberry.field(
        description="Civilstånd — civil status and the date it last changed.",
        extensions=requires_tier(Tier.EXTENDED),
    )
    deregistration: Deregistration | None = strawberry.field(
        description="Avregistrering — deregistration cause and date; null while registered.",
        extensions=requires_tier(Tier.EXTENDED),
    )
    # Relations loaded ahead for a whole list of persons; None: load on demand.
    relation_rows: strawberry.Private[list[RelationRow] | None] = None

    @strawberry.field(
        description="Relationer — all current relations: spouse, partner, children, "
        "parents, guardians and wards.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    def relations(self, info: Info) -> list[RelationType] | None:
        return _relations(self, info, None)

    @strawberry.field(
        description="Make/maka eller registrerad partner — current spouse or partner.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    def spouse(self, info: Info) -> RelationType | None:
        return _relations(self, info, ("M", "P"), first=True)

    @strawberry.field(description="Barn — children.", extensions=requires_tier(Tier.RELATIONS))
    def children(self, info: Info) -> list[RelationType] | None:
        return _relations(self, info, ("B",))

    @strawberry.field(
        description="Vårdnadshavare — the person's guardians (custody holders).",
        extensions=requires_tier(Tier.RELATIONS),
    )
    def guardians(self, info: Info) -> list[RelationType] | None:
        return _relations(self, info, ("V",))

    @strawberry.field(
        description="Vårdnadshavare för — the persons this person is guardian of.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    def wards(self, info: Info) -> list[RelationType] | None:
        return _relations(self, info, ("VF",))

    @classmethod
    def from_row(cls, row: PersonRow, source: Source = Source.LOCAL) -> Person:
        number = row.personnummer
        addresses = row.addresses
        registered = Address.from_row(addresses.registered)
        special = Address.from_row(addresses.special)
        foreign = Address.from_row(addresses.foreign)
        return cls(
            id=row.id,
            row=row,
            personnummer=number,
            personnummer10=number[2:],
            personnummer11=Personnummer(number).short(),
            personnummer13=f"{number[:8]}-{number[8:]}",
            is_coordination_number=int(number[6:8]) > 60,
            gender=Gender.MALE if int(number[10]) % 2 else Gender.FEMALE,
            birth_date=row.birth_date,
            first_names=row.first_names,
            given_name=codes.given_name(row.first_names, row.given_name_code),
            given_name_code=row.given_name_code,
            middle_name=row.middle_name,
            last_name=row.last_name,
            status=Status(row.status),
            registered_address=registered,
            special_postal_address=special,
            foreign_address=foreign,
            mailing_address=special or registered or foreign,
            moved_in_date=row.moved_in_date,
            key_code=row.key_code,
            civil_status=_civil_status(row),
            deregistration=_deregistration(row),
            source=source,
        )


def _civil_status(row: PersonRow) -> CivilStatus | None:
    if row.civil_status is None:
        return None
    kind, meaning = codes.CIVIL_STATUS[row.civil_status]
    return CivilStatus(
        code=row.civil_status,
        kind=CivilStatusKind(kind),
        meaning=meaning,
        since=row.civil_status_date,
    )


def _deregistration(row: PersonRow) -> Deregistration | None:
    code = row.deregistration_code
    if code is None:
        return None
    return Deregistration(
        code=code, meaning=codes.DEREGISTRATION[code], date=row.deregistration_date
    )


def _relations(
    person: Person, info: Info, kinds: tuple[str, ...] | None, *, first: bool = False
) -> Any:
    """The person's relations of ``kinds``: at once if loaded ahead, else awaitable."""
    if person.relation_rows is not None:
        return _pick(person.relation_rows, kinds, first)

    async def load() -> Any:
        rows = await info.context.loaders.relations_by_person_id.load(person.id)
        return _pick(rows, kinds, first)

    return load()


def _pick(rows: list[RelationRow], kinds: tuple[str, ...] | None, first: bool) -> Any:
    from schema.relation import Relation

    found = [Relation.from_row(row) for row in rows if kinds is None or row.kind in kinds]
    if first:
        return found[0] if found else None
    return found


async def load_relations_ahead(info: Info, persons: list[Person]) -> None:
    """Load the relations of a whole list of persons in one batch, so that each
    person's relation fields answer without awaiting (no task per person)."""
    rows = await info.context.loaders.relations_by_person_id.load_many([p.id for p in persons])
    for person, relation_rows in zip(persons, rows, strict=True):
        person.relation_rows = relation_rows


@strawberry.type(
    description="Skyddad person — the person is protected by Skatteverket "
    "(sekretessmarkering or skyddad folkbokföring); no data about them is released."
)
class ProtectedPerson:
    personnummer: str = strawberry.field(description="The number that was looked up.")
    notice: str = strawberry.field(description="What the official should know.")


@strawberry.type(description="Ingen träff — no person with this number was found.")
class PersonNotFound:
    personnummer: str = strawberry.field(description="The number that was looked up.")
    message: str = strawberry.field(description="Why nothing was found.")


PersonResult = Annotated[
    Person | ProtectedPerson | PersonNotFound,
    strawberry.union(
        "PersonResult",
        description="The answer to a lookup by number: the person, a notice that the "
        "person is protected, or that no such person was found.",
    ),
]
