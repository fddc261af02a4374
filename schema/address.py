"""Address types: folkbokföringsadress, särskild postadress, utlandsadress."""

from __future__ import annotations

from enum import Enum

import strawberry

from resolvers.rows import AddressRow


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
    municipality_code: str | None = strawberry.field(
        description="Kommunkod — four-digit municipality code of a registered address "
        "(Göteborg: 1480, Mölndal: 1481)."
    )
    country: str | None = strawberry.field(description="Land — country of a foreign address.")

    @strawberry.field(description="Postnummer formatted as printed: '412 63'.")
    def postal_code_formatted(self) -> str | None:
        code = self.postal_code
        return f"{code[:3]} {code[3:]}" if code else None

    @strawberry.field(
        description="Adressrader — the address as lines ready for an envelope, in order."
    )
    def lines(self) -> list[str]:
        lines = [f"c/o {self.care_of}"] if self.care_of else []
        lines += [line for line in (self.line1, self.line2, self.line3) if line]
        town = " ".join(part for part in (self.postal_code_formatted(), self.postal_town) if part)
        if town:
            lines.append(town)
        if self.country:
            lines.append(self.country)
        return lines

    @classmethod
    def from_row(cls, row: AddressRow | None) -> Address | None:
        if row is None:
            return None
        municipality = (
            row.county_code + row.municipality_code
            if row.county_code and row.municipality_code
            else None
        )
        return cls(
            kind=AddressKind(row.kind),
            care_of=row.care_of,
            line1=row.line1,
            line2=row.line2,
            line3=row.line3,
            postal_code=row.postal_code,
            postal_town=row.postal_town,
            county_code=row.county_code,
            municipality_code=municipality,
            country=row.country,
        )
