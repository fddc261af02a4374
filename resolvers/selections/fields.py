"""The fields a selection's file may hold: their names, SQL and the tier that reads them.

A field read straight from a person's column takes its tier from the column's
declaration (``resolvers.register.rows.PersonRow``), so a file never holds more than
the orderer may read in a lookup; the address fields, from the registered address,
are basic.
"""

from __future__ import annotations

from typing import NamedTuple

from resolvers.domain.access import Tier
from resolvers.register.columns import declared
from resolvers.register.rows import PersonRow
from resolvers.selections.criteria import GENDER

_PERSON_TIERS = {column.field: column.tier for column in declared(PersonRow)}


class Field(NamedTuple):
    name: str  # the file's column (CSV header, NDJSON key)
    expression: str  # over visible_person p and the registered address a
    tier: Tier


def _person(name: str, row_field: str, column: str | None = None) -> Field:
    return Field(name, f"p.{column or row_field}", _PERSON_TIERS[row_field])


# By the name the API takes (the GraphQL enum's values), in the order files list them.
FIELDS: dict[str, Field] = {
    "PERSONNUMMER": _person("personnummer", "personnummer"),
    "BIRTH_DATE": _person("birthDate", "birth_date"),
    "GENDER": Field("gender", GENDER, Tier.BASIC),
    "FIRST_NAMES": _person("firstNames", "first_names"),
    "MIDDLE_NAME": _person("middleName", "middle_name"),
    "LAST_NAME": _person("lastName", "last_name"),
    "STATUS": _person("status", "status"),
    "CARE_OF": Field("careOf", "a.care_of", Tier.BASIC),
    "ADDRESS_LINE1": Field("addressLine1", "a.line1", Tier.BASIC),
    "ADDRESS_LINE2": Field("addressLine2", "a.line2", Tier.BASIC),
    "ADDRESS_LINE3": Field("addressLine3", "a.line3", Tier.BASIC),
    "POSTAL_CODE": Field("postalCode", "a.postal_code", Tier.BASIC),
    "POSTAL_TOWN": Field("postalTown", "a.postal_town", Tier.BASIC),
    "MUNICIPALITY": Field("municipality", "a.county_code || a.municipality_code", Tier.BASIC),
    "MOVED_IN_DATE": _person("movedInDate", "moved_in_date"),
    "KEY_CODE": _person("keyCode", "key_code"),
    "CIVIL_STATUS": _person("civilStatus", "civil_status_code", "civil_status"),
}


class FieldError(ValueError):
    pass


def chosen(names: list[str], tier: Tier) -> tuple[str, ...]:
    """The fields asked for, each once, in the files' order; ``FieldError`` for an
    unknown one or one above the caller's tier."""
    if not names:
        raise FieldError("`fields` lists at least one field")
    unknown = sorted(set(names) - set(FIELDS))
    if unknown:
        raise FieldError(f"`fields`: unknown {', '.join(unknown)}")
    above = beyond(tuple(names), tier)
    if above:
        raise FieldError(
            f"`fields`: {', '.join(above)} need tier {FIELDS[above[0]].tier.name} or higher"
        )
    return tuple(name for name in FIELDS if name in names)


# Free text from the register (names, addresses): a spreadsheet takes a cell beginning
# with one of these for a formula (CSV injection), quoted or not, so such a value is
# written after an apostrophe, which makes the cell text (OWASP's advice).
FREE_TEXT = frozenset(
    ("FIRST_NAMES", "MIDDLE_NAME", "LAST_NAME", "CARE_OF", "ADDRESS_LINE1", "ADDRESS_LINE2",
     "ADDRESS_LINE3", "POSTAL_TOWN")
)  # fmt: skip
FORMULA = "E'^[-=+@\\t\\r]'"  # a regular expression, as SQL


def _cell(name: str) -> str:
    expression = FIELDS[name].expression
    if name not in FREE_TEXT:
        return expression
    return f"CASE WHEN {expression} ~ {FORMULA} THEN '''' || {expression} ELSE {expression} END"


def beyond(names: tuple[str, ...], tier: Tier) -> list[str]:
    """The fields of these a caller of ``tier`` may not read: refused in an order, and
    a file holding one is not served to a token whose tier has dropped since."""
    return [name for name in names if FIELDS[name].tier > tier]


def csv_select(names: tuple[str, ...]) -> str:
    """The select list of a CSV file: one column per field, under its name."""
    return ", ".join(f'{_cell(name)} AS "{FIELDS[name].name}"' for name in names)


def json_select(names: tuple[str, ...]) -> str:
    """One JSON object per person, its keys the fields' names (NDJSON: one per line)."""
    pairs = ", ".join(f"'{FIELDS[name].name}', {FIELDS[name].expression}" for name in names)
    return f"json_build_object({pairs})::text"
