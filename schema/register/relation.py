"""Relations between persons, as Skatteverket records them."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from resolvers.audit.access_log import AccessRecord
from schema.engine.disclosure import discloses

if TYPE_CHECKING:
    from schema.register.person import Person

PersonType = Annotated["Person", strawberry.lazy("schema.register.person")]


@strawberry.enum(description="Relationstyp — what the related person is to this person.")
class RelationKind(Enum):
    CHILD = strawberry.enum_value("CHILD", description="B: barn — child.")
    MOTHER = strawberry.enum_value("MOTHER", description="MO: mor — mother.")
    FATHER = strawberry.enum_value("FATHER", description="FA: far — father.")
    PARENT = strawberry.enum_value("PARENT", description="F: förälder — parent.")
    GUARDIAN = strawberry.enum_value(
        "GUARDIAN", description="V: vårdnadshavare — has this person as guardian."
    )
    WARD = strawberry.enum_value(
        "WARD", description="VF: vårdnadshavare för — is guardian of this person."
    )
    SPOUSE = strawberry.enum_value("SPOUSE", description="M: make/maka — spouse.")
    REGISTERED_PARTNER = strawberry.enum_value(
        "REGISTERED_PARTNER", description="P: registrerad partner — registered partner."
    )


def _note_relative(record: AccessRecord, relation: Any) -> None:
    """A relation shows the relative's number (and what they are), person or not."""
    record.saw_number(relation.personnummer)


@discloses(_note_relative)
@strawberry.type(description="Relation — a current relation to another person.")
class Relation:
    """Read from ``resolvers.register.rows.RelationRow``."""

    kind: RelationKind = strawberry.field(description="What the related person is.")
    code: str = strawberry.field(
        description="Relationstyp as Skatteverket codes it: B, MO, FA, F, V, VF, M or P."
    )
    personnummer: str = strawberry.field(
        description="The related person's personnummer (12 digits); a person who never had "
        "one is written as the birth date followed by zeros."
    )
    since: dt.date | None = strawberry.field(description="From-date of the relation.")
    until: dt.date | None = strawberry.field(
        description="To-date, if an end is already recorded (always a later date: only "
        "current relations are listed)."
    )
    person: PersonType | None = strawberry.field(
        description="The related person, if they are in the register and may be shown."
    )
