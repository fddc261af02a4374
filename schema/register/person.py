"""The person record and the three answers a lookup by number can give.

A ``Person`` is read straight from a ``resolvers.register.rows.PersonRow``: its fields are the
row's attributes and properties, so no copy is made per person.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from resolvers.audit.access_log import AccessRecord
from resolvers.domain.access import Tier
from resolvers.register.rows import PersonRow, RelationRow
from schema.directives import requires_tier
from schema.engine.disclosure import discloses, discloses_nothing
from schema.engine.plan import NOT_READY, READ_AHEAD
from schema.register.address import Address
from schema.register.codes import CivilStatus, Deregistration, Gender, Source, Status

if TYPE_CHECKING:
    from schema.register.relation import Relation

RelationType = Annotated["Relation", strawberry.lazy("schema.register.relation")]


class _Relations:
    """A relation field: the person's relations with some codes (all when None).

    Answers at once from relations loaded ahead for a page (``read_ahead``, which the
    execution context calls directly), else through the loader.
    """

    def __init__(self, codes_: tuple[str, ...] | None, *, first: bool = False) -> None:
        self.codes = codes_
        self.first = first

    def read_ahead(self, root: PersonRow, context: Any) -> Any:
        rows = context.relations_ahead.get(root.id)
        return NOT_READY if rows is None else self._pick(rows)

    def resolve(self, root: PersonRow, info: Info) -> Any:
        ready = self.read_ahead(root, info.context)
        if ready is not NOT_READY:
            return ready

        async def load() -> Any:
            return self._pick(await info.context.loaders.relations_by_person_id.load(root.id))

        return load()

    def _pick(self, rows: list[RelationRow]) -> Any:
        found = [row for row in rows if self.codes is None or row.code in self.codes]
        if self.first:
            return found[0] if found else None
        return found


_ALL, _SPOUSE = _Relations(None), _Relations(("M", "P"), first=True)
_CHILDREN, _GUARDIANS, _WARDS = _Relations(("B",)), _Relations(("V",)), _Relations(("VF",))


def _all_relations(root: strawberry.Parent[PersonRow], info: Info) -> list[RelationType] | None:
    return _ALL.resolve(root, info)


def _spouse(root: strawberry.Parent[PersonRow], info: Info) -> RelationType | None:
    return _SPOUSE.resolve(root, info)


def _children(root: strawberry.Parent[PersonRow], info: Info) -> list[RelationType] | None:
    return _CHILDREN.resolve(root, info)


def _guardians(root: strawberry.Parent[PersonRow], info: Info) -> list[RelationType] | None:
    return _GUARDIANS.resolve(root, info)


def _wards(root: strawberry.Parent[PersonRow], info: Info) -> list[RelationType] | None:
    return _WARDS.resolve(root, info)


@discloses(AccessRecord.saw)  # the record is in the answer
@strawberry.type(
    description="Person — a person in the population register (folkbokföringen), or one "
    "Skatteverket knows by a samordningsnummer (`source` says where the record was read)."
)
class Person:
    personnummer: str = strawberry.field(
        description="Personnummer (or samordningsnummer) — canonical 12 digits, YYYYMMDDNNNC."
    )
    former_personnummer: str | None = strawberry.field(
        description="Tidigare personnummer — the number this lookup asked for, when "
        "Skatteverket has replaced it (hänvisning) by the person's current `personnummer`: "
        "records kept under the old number belong to this person. Null when the lookup "
        "asked for the current number, and wherever persons are listed (intervals, name "
        "searches, relations), which show current numbers only."
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
    status: Status = strawberry.field(
        description="Status — registered, not registered (samordningsnummer), deceased, "
        "emigrated or otherwise deregistered."
    )
    source: Source = strawberry.field(description="Källa — where this record was read.")
    fetched_at: dt.datetime | None = strawberry.field(
        description="Hämtad — when Skatteverket answered (UTC) for a record looked up there "
        "(`source: SKATTEVERKET`; the answer may be reused for a few minutes); null for "
        "records from the local register."
    )
    personnummer10: str = strawberry.field(description="Personnummer as ten digits: YYMMDDNNNC.")
    personnummer11: str = strawberry.field(
        description="Personnummer as written: YYMMDD-NNNC ('+' from the calendar year the "
        "person turns 100)."
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
        "there is one, else the folkbokföringsadress, else the utlandsadress; null for a "
        "deceased person (their addresses stay shown), whatever the source."
    )
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
        description="Avregistrering — deregistration cause and date; null unless deregistered.",
        extensions=requires_tier(Tier.EXTENDED),
    )
    relations: list[RelationType] | None = strawberry.field(
        resolver=_all_relations,
        metadata={READ_AHEAD: _ALL.read_ahead},
        description="Relationer — all current relations: spouse, partner, children, "
        "parents, guardians and wards.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    spouse: RelationType | None = strawberry.field(
        resolver=_spouse,
        metadata={READ_AHEAD: _SPOUSE.read_ahead},
        description="Make/maka eller registrerad partner — current spouse or partner.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    children: list[RelationType] | None = strawberry.field(
        resolver=_children,
        metadata={READ_AHEAD: _CHILDREN.read_ahead},
        description="Barn — children.",
        extensions=requires_tier(Tier.RELATIONS),
    )
    guardians: list[RelationType] | None = strawberry.field(
        resolver=_guardians,
        metadata={READ_AHEAD: _GUARDIANS.read_ahead},
        description="Vårdnadshavare — the person's guardians (custody holders).",
        extensions=requires_tier(Tier.RELATIONS),
    )
    wards: list[RelationType] | None = strawberry.field(
        resolver=_wards,
        metadata={READ_AHEAD: _WARDS.read_ahead},
        description="Vårdnadshavare för — the persons this person is guardian of.",
        extensions=requires_tier(Tier.RELATIONS),
    )

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        return isinstance(obj, PersonRow)


def _note_protected(record: AccessRecord, answer: ProtectedPerson) -> None:
    record.protected(answer.personnummer, answer.source)


@discloses(_note_protected)  # an attempt: no data is released, but it was looked for
@strawberry.type(
    description="Skyddad person — the person is protected by Skatteverket "
    "(sekretessmarkering or skyddad folkbokföring); no data about them is released."
)
class ProtectedPerson:
    personnummer: str = strawberry.field(description="The number that was looked up.")
    notice: str = strawberry.field(description="What the official should know.")
    # Where the protection was found (LOCAL or SKATTEVERKET), for the access log.
    source: strawberry.Private[str]


@discloses_nothing("the number the caller sent; no one has it")
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
