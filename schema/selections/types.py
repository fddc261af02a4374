"""The selection's GraphQL types: its criteria and order input, preview, order and file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from resolvers.domain import codes
from resolvers.selections import criteria as rules
from resolvers.selections.fields import FIELDS
from resolvers.selections.orders import OrderRow
from schema.errors import BadUserInput
from schema.register.codes import CivilStatusKind, Gender, Status
from schema.scalars import Long

_CIVIL_CODES = {kind: code for code, (kind, _meaning) in codes.CIVIL_STATUS.items()}
# An order's criteria as it keeps them, named back as SelectionCriteria names them.
_CRITERIA_NAMES = {
    "born_from": "birthDateFrom", "born_to": "birthDateTo", "gender": "gender",
    "municipalities": "municipalities", "postal_code_from": "postalCodeFrom",
    "postal_code_to": "postalCodeTo", "postal_town": "postalTown", "key_codes": "keyCodes",
    "civil_statuses": "civilStatus", "statuses": "status",
}  # fmt: skip
_GENDERS = {str(gender.value): gender.name for gender in Gender}


def criteria_record(kept: dict[str, Any]) -> dict[str, Any]:
    """The criteria an order kept (ages as the birth dates they came to), in the input's
    names and values."""
    shown = {_CRITERIA_NAMES[name]: value for name, value in kept.items()}
    if "gender" in shown:
        shown["gender"] = _GENDERS[shown["gender"]]
    if "civilStatus" in shown:
        shown["civilStatus"] = [codes.CIVIL_STATUS[code][0] for code in shown["civilStatus"]]
    return shown


# The file's columns, named as resolvers/selections/fields.py lists them.
_FIELD_NAMES = Enum(  # type: ignore[misc]
    "SelectionField",
    {
        name: strawberry.enum_value(
            name, description=f"The column `{field.name}` (tier {field.tier.name} or higher)."
        )
        for name, field in FIELDS.items()
    },
)
SelectionField = strawberry.enum(
    _FIELD_NAMES, description="A column of the file; those above the caller's tier are refused."
)


@strawberry.enum(description="Filformat — the file's format.")
class SelectionFormat(Enum):
    CSV = strawberry.enum_value(
        "CSV", description="UTF-8 with a byte order mark, `;` between fields, a header row."
    )
    NDJSON = strawberry.enum_value("NDJSON", description="One JSON object per person and line.")


@strawberry.enum(description="Where an order is.")
class SelectionOrderStatus(Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Waiting for a worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="Its file is being written.")
    DONE = strawberry.enum_value("DONE", description="Its file can be downloaded.")
    FAILED = strawberry.enum_value("FAILED", description="It could not be run; see `error`.")
    CANCELLED = strawberry.enum_value("CANCELLED", description="Cancelled before it was done.")
    EXPIRED = strawberry.enum_value("EXPIRED", description="Done, its file no longer kept.")


@strawberry.input(
    description="Urvalskriterier — whom a selection holds: persons registered (folkbokförda) "
    "in the register whose registered address and record match every criterion given. "
    "Never by name or street. Protected persons and samordningsnummer are never included."
)
class SelectionCriteria:
    birth_date_from: dt.date | None = strawberry.field(
        default=None, description="Born on or after this day."
    )
    birth_date_to: dt.date | None = strawberry.field(
        default=None, description="Born on or before this day."
    )
    age_from: int | None = strawberry.field(
        default=None, description="At least this old on `ageOn` (not with birth dates)."
    )
    age_to: int | None = strawberry.field(
        default=None, description="At most this old on `ageOn` (not with birth dates)."
    )
    age_on: dt.date | None = strawberry.field(
        default=None, description="The day ages are counted on; default: today."
    )
    gender: Gender | None = strawberry.field(default=None, description="Kön.")
    municipalities: list[str] | None = strawberry.field(
        default=None, description="Kommunkoder (4 digits, e.g. 1480), at most 100."
    )
    postal_code_from: str | None = strawberry.field(
        default=None, description="Lowest postnummer, inclusive (41263 or 412 63)."
    )
    postal_code_to: str | None = strawberry.field(
        default=None, description="Highest postnummer, inclusive."
    )
    postal_town: str | None = strawberry.field(
        default=None, description="Postort (case and diacritics ignored)."
    )
    key_codes: list[str] | None = strawberry.field(
        default=None, description="Nyckelkoder (1 to 6 digits), at most 100."
    )
    civil_status: list[CivilStatusKind] | None = strawberry.field(
        default=None, description="Civilstånd, any of these."
    )
    status: list[Status] | None = strawberry.field(
        default=None, description="Status, any of these; default: REGISTERED only."
    )

    def checked(self, today: dt.date) -> rules.Criteria:
        """As the resolvers take them; a ``BAD_USER_INPUT`` names what is wrong."""
        try:
            born_from, born_to = self.birth_date_from, self.birth_date_to
            if self.age_from is not None or self.age_to is not None:
                if born_from is not None or born_to is not None:
                    raise rules.CriteriaError("ageFrom", "give an age range or birth dates")
                born_from, born_to = rules.birth_dates_for_ages(
                    self.age_from, self.age_to, self.age_on or today
                )
            given = rules.Criteria(
                born_from, born_to, None if self.gender is None else str(self.gender.value),
                tuple(self.municipalities or ()), self.postal_code_from, self.postal_code_to,
                self.postal_town, tuple(self.key_codes or ()),
                tuple(_CIVIL_CODES[str(kind.value)] for kind in self.civil_status or ()),
                tuple(str(status.value) for status in self.status or [Status.REGISTERED]),
            )  # fmt: skip
            return rules.checked(given)
        except rules.CriteriaError as error:
            raise BadUserInput(str(error), argument=f"criteria.{error.field}") from None


@strawberry.type(description="Ett urvals pris — a price in kronor (SEK).")
class SelectionPrice:
    total: Decimal = strawberry.field(description="What the order costs, handling fee included.")
    handling_fee: Decimal = strawberry.field(description="The fee per order.")
    rows: int = strawberry.field(description="The rows it is priced for.")


@strawberry.type(description="Förhandsbesked — what an order of these criteria would hold.")
class SelectionPreview:
    count: int = strawberry.field(description="Persons the selection holds now.")
    price: SelectionPrice = strawberry.field(description="Its price by today's price list.")


@strawberry.type(description="Ett urvalsuppdrag — an order of a selection, and its file.")
class SelectionOrder:
    row: strawberry.Private[OrderRow]

    @strawberry.field(description="The order's id.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.row.id))

    @strawberry.field(description="Where the order is.")
    def status(self) -> SelectionOrderStatus:
        return SelectionOrderStatus(self.row.status)

    @strawberry.field(description="Share of the rows written, 0 to 1.")
    def progress(self) -> float:
        return self.row.progress

    @strawberry.field(description="When it was placed.")
    def ordered_at(self) -> dt.datetime:
        return self.row.ordered_at

    @strawberry.field(description="Who placed it (token subject).")
    def ordered_by(self) -> str:
        return self.row.subject

    @strawberry.field(description="The organisation it was placed for.")
    def organisation(self) -> str:
        return self.row.organisation

    @strawberry.field(description="The client system its token was issued to, if any.")
    def client_system(self) -> str | None:
        return self.row.client

    @strawberry.field(
        description="The request that placed it (X-Request-ID): its export's access log "
        "entries carry it too."
    )
    def request_id(self) -> str:
        return self.row.request_id

    @strawberry.field(
        description="What it selects, as SelectionCriteria names it (an age range as the "
        "birth dates it came to when placed)."
    )
    def criteria(self) -> JSON:
        return JSON(criteria_record(orjson.loads(self.row.criteria)))

    @strawberry.field(description="Why: the purpose given.")
    def purpose(self) -> str:
        return self.row.purpose

    @strawberry.field(description="Ärendereferens, if given.")
    def case_reference(self) -> str | None:
        return self.row.case_reference

    @strawberry.field(description="The file's format.")
    def format(self) -> SelectionFormat:
        return SelectionFormat(self.row.format)

    @strawberry.field(description="The file's columns, in order.")
    def fields(self) -> list[SelectionField]:  # type: ignore[valid-type]
        return [SelectionField[name] for name in self.row.fields]

    @strawberry.field(description="Persons the criteria held when it was placed.")
    def estimated_rows(self) -> int:
        return self.row.estimated_rows

    @strawberry.field(description="Persons in the file, once done.")
    def row_count(self) -> int | None:
        return self.row.row_count

    @strawberry.field(description="What it costs (SEK), by the price list it was placed under.")
    def price(self) -> Decimal | None:
        return self.row.price

    @strawberry.field(description="The file's size in bytes, once done.")
    def file_size(self) -> Long | None:
        return None if self.row.file_size is None else Long(self.row.file_size)

    @strawberry.field(description="SHA-256 of the file (hex), once done.")
    def checksum(self) -> str | None:
        return self.row.checksum

    @strawberry.field(description="Where to download the file (GET, with the same token).")
    def download_url(self) -> str | None:
        return f"/selections/{self.row.id}/file" if self.row.status == "DONE" else None

    @strawberry.field(description="When the file is no longer kept.")
    def expires_at(self) -> dt.datetime | None:
        return self.row.expires_at

    @strawberry.field(description="When it was done, failed or was cancelled.")
    def finished_at(self) -> dt.datetime | None:
        return self.row.finished_at

    @strawberry.field(description="Why it failed.")
    def error(self) -> str | None:
        return self.row.error
