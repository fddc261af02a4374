"""What a selection selects: its criteria, checked, and the one statement that finds them.

The preview counts, and the export copies, the persons of ``SELECTED``: one FROM and
WHERE, whose ten parameters are ``Criteria.parameters()``, so the count a caller is
quoted and the rows the file holds are chosen by the same SQL. It reads
``visible_person`` alone (the protection and samordningsnummer rules live in that view):
the registered address's (folkbokföringsadress) criteria — whether there is one, its
municipality, postal code and folded postal town — are columns of the person's row,
kept with the address by the importer (``resolvers.imports.registered``), so a count is
one scan of one table. The file's rows need the address itself: ``SELECTED_WITH_ADDRESS``
is the same FROM and WHERE with the address joined beside each person, on its key (at
most one row a person, and no person without theirs left out), so it selects the same
persons. Names and streets are never criteria.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

from resolvers.domain import codes
from resolvers.domain.text import blank, unprintable

# Navet's gender rule, in SQL: an odd second-last digit is a man (as
# resolvers/domain/personnummer.py:gender_code reads it).
GENDER = "CASE WHEN substr(p.personnummer, 11, 1)::int % 2 = 1 THEN 'M' ELSE 'F' END"

# Which persons a selection holds; $1..$10 as ``Criteria.parameters`` orders them. Only
# persons with a registered address: the selections are for mailings.
_WHERE = f"""
WHERE p.has_registered_address
  AND ($1::date IS NULL OR p.birth_date >= $1::date)
  AND ($2::date IS NULL OR p.birth_date <= $2::date)
  AND ($3::text IS NULL OR {GENDER} = $3::text)
  AND ($4::text[] IS NULL OR p.registered_municipality = ANY($4::text[]))
  AND ($5::text IS NULL OR p.registered_postal_code >= $5::text)
  AND ($6::text IS NULL OR p.registered_postal_code <= $6::text)
  AND ($7::text IS NULL OR p.registered_town_folded = search_fold($7::text))
  AND ($8::text[] IS NULL OR p.key_code = ANY($8::text[]))
  AND ($9::text[] IS NULL OR p.civil_status = ANY($9::text[]))
  AND p.status = ANY($10::text[])
"""
# The persons a selection holds (p), counted, and logged by the export.
SELECTED = f"FROM visible_person AS p{_WHERE}"
# The same persons with their registered address (a) beside them, for the file's rows.
SELECTED_WITH_ADDRESS = f"""
FROM visible_person AS p
LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'{_WHERE}"""
PARAMETERS = 10

COUNT_SELECTED = f"SELECT count(*) {SELECTED}"
# Run in the transaction of every statement over SELECTED: planned for its own values
# each time. A prepared statement's generic plan, made for any criteria (most of them
# NULL), guesses a few rows and probes an index once a person: seconds at 2 000 000.
PLANNED_FOR_ITS_CRITERIA = "SET LOCAL plan_cache_mode = force_custom_plan"

STATUSES = ("REGISTERED", "DECEASED", "EMIGRATED", "DEREGISTERED")
FIRST_AGE_ON_YEAR = 1800
MAX_LIST = 100  # codes per list, as SPAR takes at most 100 combinations
_MUNICIPALITY = re.compile(r"[0-9]{4}")
_POSTAL_CODE = re.compile(r"[0-9]{3} ?[0-9]{2}")
_KEY_CODE = re.compile(r"[0-9]{1,6}")


class CriteriaError(ValueError):
    """Criteria that cannot be used; ``field`` names the one at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Criteria(NamedTuple):
    """Checked criteria; None (or an empty list) selects on nothing. Birth dates are
    inclusive; an age range is turned into birth dates by ``birth_dates_for_ages``."""

    born_from: dt.date | None = None
    born_to: dt.date | None = None
    gender: str | None = None  # M or F
    municipalities: tuple[str, ...] = ()  # four-digit kommunkoder
    postal_code_from: str | None = None
    postal_code_to: str | None = None
    postal_town: str | None = None
    key_codes: tuple[str, ...] = ()  # nyckelkoder
    civil_statuses: tuple[str, ...] = ()  # Navet's codes: OG, G, Ä, ...
    statuses: tuple[str, ...] = ("REGISTERED",)

    def parameters(self) -> list[Any]:
        """``SELECTED``'s parameters, $1 to $10."""
        return [
            self.born_from, self.born_to, self.gender, list(self.municipalities) or None,
            self.postal_code_from, self.postal_code_to, self.postal_town,
            list(self.key_codes) or None, list(self.civil_statuses) or None, list(self.statuses),
        ]  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        """As the order keeps them (what it selected, for the record)."""
        return {
            name: value.isoformat() if isinstance(value, dt.date) else value
            for name, value in self._asdict().items()
            if value not in (None, ())
        }

    @classmethod
    def from_json(cls, kept: dict[str, Any]) -> Criteria:
        values = dict(kept)
        for name in ("born_from", "born_to"):
            if name in values:
                values[name] = dt.date.fromisoformat(values[name])
        for name in ("municipalities", "key_codes", "civil_statuses", "statuses"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)


def birth_dates_for_ages(
    age_from: int | None, age_to: int | None, on: dt.date
) -> tuple[dt.date | None, dt.date | None]:
    """The birth dates of persons aged ``age_from`` to ``age_to`` (inclusive) on ``on``."""
    if on.year < FIRST_AGE_ON_YEAR:  # 130 years back must still be a date
        raise CriteriaError("ageOn", f"`ageOn` lies in the years {FIRST_AGE_ON_YEAR} to 9999")
    for field, age in (("ageFrom", age_from), ("ageTo", age_to)):
        if age is not None and not 0 <= age <= 130:
            raise CriteriaError(field, f"`{field}` must lie between 0 and 130")
    if age_from is not None and age_to is not None and age_from > age_to:
        raise CriteriaError("ageFrom", "`ageFrom` is above `ageTo`")
    latest = None if age_from is None else _years_before(on, age_from)
    earliest = None if age_to is None else _years_before(on, age_to + 1) + dt.timedelta(days=1)
    return earliest, latest


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one: the 28th
        return day.replace(year=day.year - years, day=28)


def checked(criteria: Criteria) -> Criteria:
    """The criteria with codes normalised; ``CriteriaError`` names what is wrong."""
    low, high = criteria.born_from, criteria.born_to
    if low is not None and high is not None and low > high:
        raise CriteriaError("birthDateFrom", "`birthDateFrom` is after `birthDateTo`")
    if criteria.gender not in (None, "M", "F"):
        raise CriteriaError("gender", "`gender` is M or F")
    municipalities = _codes(criteria.municipalities, "municipalities", _MUNICIPALITY, "4 digits")
    key_codes = _codes(criteria.key_codes, "keyCodes", _KEY_CODE, "1 to 6 digits")
    postal_from = _postal_code(criteria.postal_code_from, "postalCodeFrom")
    postal_to = _postal_code(criteria.postal_code_to, "postalCodeTo")
    if postal_from and postal_to and postal_from > postal_to:
        raise CriteriaError("postalCodeFrom", "`postalCodeFrom` is above `postalCodeTo`")
    for code in criteria.civil_statuses:
        if code not in codes.CIVIL_STATUS:
            raise CriteriaError("civilStatus", f"`civilStatus` has an unknown code {code!r}")
    if not criteria.statuses or set(criteria.statuses) - set(STATUSES):
        raise CriteriaError("status", f"`status` lists one or more of {', '.join(STATUSES)}")
    return criteria._replace(
        municipalities=municipalities, key_codes=key_codes, postal_code_from=postal_from,
        postal_code_to=postal_to, postal_town=_town(criteria.postal_town),
        civil_statuses=tuple(dict.fromkeys(criteria.civil_statuses)),
        statuses=tuple(dict.fromkeys(criteria.statuses)),
    )  # fmt: skip


def _codes(
    given: tuple[str, ...], field: str, shape: re.Pattern[str], says: str
) -> tuple[str, ...]:
    if len(given) > MAX_LIST:
        raise CriteriaError(field, f"`{field}` lists at most {MAX_LIST} codes")
    for code in given:
        if not shape.fullmatch(code):
            raise CriteriaError(field, f"`{field}`: {code[:20]!r} is not {says}")
    return tuple(dict.fromkeys(given))


def _postal_code(code: str | None, field: str) -> str | None:
    if code is None:
        return None
    if not _POSTAL_CODE.fullmatch(code):
        raise CriteriaError(field, f"`{field}` is 5 digits, as 41263 or 412 63")
    return code.replace(" ", "")


def _town(town: str | None) -> str | None:
    if town is None:
        return None
    town = town.strip()
    if unprintable(town) is not None or blank(town) or not 2 <= len(town) <= 27:
        raise CriteriaError("postalTown", "`postalTown` is 2 to 27 printable characters")
    return town
