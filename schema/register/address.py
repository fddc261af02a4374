"""Address types: folkbokföringsadress, särskild postadress, utlandsadress.

Fields are read from ``resolvers.register.rows.AddressRow``.
"""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Adresstyp — which of a person's addresses this is.")
class AddressKind(Enum):
    REGISTERED = strawberry.enum_value(
        "F", description="Folkbokföringsadress — where the person is registered."
    )
    SPECIAL_POSTAL = strawberry.enum_value(
        "S",
        description="Särskild postadress — where the person asked Skatteverket to have "
        "mail sent; letters should go here when it exists.",
    )
    FOREIGN = strawberry.enum_value("U", description="Utlandsadress — an address abroad.")


@strawberry.type(description="Adress — one postal address of a person.")
class Address:
    kind: AddressKind = strawberry.field(description="Adresstyp — which address this is.")
    care_of: str | None = strawberry.field(description="C/o-adress — care of (max 35).")
    line1: str | None = strawberry.field(
        description="Utdelningsadress 1 — first delivery line (max 35)."
    )
    line2: str | None = strawberry.field(
        description="Utdelningsadress 2 — second delivery line; a short street address "
        "usually sits here (max 35)."
    )
    line3: str | None = strawberry.field(
        description="Utdelningsadress 3 — third line, foreign addresses only (max 35)."
    )
    postal_code: str | None = strawberry.field(
        description="Postnummer — five digits without space, e.g. 41263."
    )
    postal_town: str | None = strawberry.field(description="Postort — postal town (max 27).")
    county_code: str | None = strawberry.field(
        description="Länskod — county code of a registered address (Västra Götaland: 14)."
    )
    municipality: str | None = strawberry.field(
        name="municipalityCode",
        description="Kommunkod — four-digit municipality code of a registered address "
        "(Göteborg: 1480, Mölndal: 1481).",
    )
    country: str | None = strawberry.field(description="Land — country of a foreign address.")

    postal_code_formatted: str | None = strawberry.field(
        description="Postnummer formatted as printed: '412 63'."
    )
    lines: list[str] = strawberry.field(
        description="Adressrader — the address as lines ready for an envelope, in order."
    )
