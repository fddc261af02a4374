"""The register's coded values as the schema shows them: gender, status, source, civil
status and deregistration. The codes and their meanings are resolvers/domain/codes.py's."""

from __future__ import annotations

import datetime as dt
from enum import Enum

import strawberry

from resolvers.domain import codes


@strawberry.enum(description="Kön — gender, from the second-last digit of the number.")
class Gender(Enum):
    FEMALE = strawberry.enum_value("F", description="Kvinna (even digit).")
    MALE = strawberry.enum_value("M", description="Man (odd digit).")


@strawberry.enum(
    description="Status — whether the person is registered (folkbokförd). A deregistration "
    "(deceased, emigrated, otherwise) is told whatever the kind of number; a samordningsnummer "
    "holder who is not deregistered is COORDINATION_NUMBER, never REGISTERED."
)
class Status(Enum):
    REGISTERED = strawberry.enum_value(
        "REGISTERED", description="Folkbokförd — registered as a resident, with a personnummer."
    )
    COORDINATION_NUMBER = strawberry.enum_value(
        "COORDINATION_NUMBER",
        description="Inte folkbokförd: har samordningsnummer — not registered as a resident "
        "(and never was); identified by a samordningsnummer (coordination number), which "
        "is looked up at Skatteverket only.",
    )
    DECEASED = strawberry.enum_value("DECEASED", description="Avliden — deceased.")
    EMIGRATED = strawberry.enum_value("EMIGRATED", description="Utvandrad — emigrated.")
    DEREGISTERED = strawberry.enum_value(
        "DEREGISTERED",
        description="Avregistrerad av annan orsak — deregistered otherwise (e.g. an old or "
        "annulled number; the reason is in `deregistration`).",
    )


@strawberry.enum(description="Källa — where the record was read.")
class Source(Enum):
    LOCAL = strawberry.enum_value("LOCAL", description="Västfolket's own register.")
    SKATTEVERKET = strawberry.enum_value(
        "SKATTEVERKET",
        description="Looked up at Skatteverket: a samordningsnummer (always), or a "
        "personnummer not in the local register.",
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


# The codes as resolvers/domain/codes.py declares them.
*_civil_codes, _last_civil_code = codes.CIVIL_STATUS
_CIVIL_STATUS_CODES = f"{', '.join(_civil_codes)} or {_last_civil_code}"
_DEREGISTRATION_CODES = ", ".join(
    f"{code} {meaning.english}" for code, meaning in codes.DEREGISTRATION.items()
)


@strawberry.type(description="Civilstånd — civil status with the date it last changed.")
class CivilStatus:
    code: str = strawberry.field(description=f"Skatteverket's code: {_CIVIL_STATUS_CODES}.")
    kind: CivilStatusKind = strawberry.field(description="The code as an enum value.")
    meaning: str = strawberry.field(description="Betydelse — the code in words (Swedish).")
    since: dt.date | None = strawberry.field(description="Civilståndsdatum — date of change.")


@strawberry.type(description="Avregistrering — why and when a person left the register.")
class Deregistration:
    code: str = strawberry.field(description=f"Avregistreringsorsak: {_DEREGISTRATION_CODES}.")
    meaning: str = strawberry.field(description="Betydelse — the code in words (Swedish).")
    date: dt.date | None = strawberry.field(description="Avregistreringsdatum — the date.")
