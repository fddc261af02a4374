"""Parsing, validating and formatting personnummer and samordningsnummer.

Accepted input: 10 digits (``YYMMDDNNNC``) or 12 digits (``YYYYMMDDNNNC``), optionally
with ``-``, ``+`` or a space before the last four digits. With 10 digits the century is
inferred: the latest century that does not put the birth date in the future; with
``+``, the latest century in which the person turns 100 this calendar year or earlier.
The check digit is the Luhn digit over ``YYMMDDNNN``.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from enum import Enum

_PATTERN = re.compile(r"^(\d{2})?(\d{6})([-+ ]?)(\d{4})$")
COORDINATION_DAY_OFFSET = 60


class Gender(Enum):
    FEMALE = "F"
    MALE = "M"


class PersonnummerError(ValueError):
    """The text is not a valid personnummer; the message says what is wrong."""


def luhn_check_digit(nine_digits: str) -> int:
    """Return the check digit for ``YYMMDDNNN`` (weights 2, 1, 2, 1, …)."""
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


@dataclass(frozen=True, slots=True)
class Personnummer:
    """A validated identity number, held as its canonical 12 digits."""

    digits: str

    @property
    def is_coordination_number(self) -> bool:
        return int(self.digits[6:8]) > COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> dt.date:
        day = int(self.digits[6:8])
        if day > COORDINATION_DAY_OFFSET:
            day -= COORDINATION_DAY_OFFSET
        return dt.date(int(self.digits[0:4]), int(self.digits[4:6]), day)

    @property
    def gender(self) -> Gender:
        return Gender.MALE if int(self.digits[10]) % 2 else Gender.FEMALE

    def separator(self, today: dt.date | None = None) -> str:
        """``+`` from the calendar year the person turns 100, else ``-``."""
        year = today.year if today else time.localtime().tm_year
        return "+" if year - int(self.digits[0:4]) >= 100 else "-"

    def short(self, today: dt.date | None = None) -> str:
        """The 11-character form officials write: ``YYMMDD-NNNC`` (or ``+``)."""
        return f"{self.digits[2:8]}{self.separator(today)}{self.digits[8:]}"

    @property
    def ten(self) -> str:
        """Ten digits without separator: ``YYMMDDNNNC``."""
        return self.digits[2:]

    @property
    def long(self) -> str:
        """The 13-character form: ``YYYYMMDD-NNNC``."""
        return f"{self.digits[:8]}-{self.digits[8:]}"

    def __str__(self) -> str:
        return self.digits


def parse(text: str, *, today: dt.date | None = None, strict: bool = True) -> Personnummer:
    """Parse a personnummer or samordningsnummer in any accepted form.

    With ``strict=False`` (bounds of an interval) the check digit is not checked and
    the date may lie in the future; the date itself must still exist.

    Raises:
        PersonnummerError: naming what is wrong (form, date, check digit).
    """
    match = _PATTERN.match(text.strip())
    if match is None:
        raise PersonnummerError(
            "a personnummer has 10 or 12 digits, optionally with '-', '+' or a space "
            "before the last four (YYMMDD-NNNC or YYYYMMDDNNNC)"
        )
    century, yymmdd, sep, tail = match.groups()
    today = today or dt.date.today()
    if century is None:
        year = _infer_year(int(yymmdd[:2]), yymmdd[2:], sep == "+", today)
    else:
        year = int(century + yymmdd[:2])
        if sep == "+" and today.year - year < 100:
            raise PersonnummerError("'+' is only used for persons who are 100 years or older")
    digits = f"{year:04d}{yymmdd[2:]}{tail}"
    _check_date(digits, today if strict else None)
    if strict and luhn_check_digit(digits[2:11]) != int(digits[11]):
        expected = luhn_check_digit(digits[2:11])
        raise PersonnummerError(f"the check digit is wrong (expected {expected} for these digits)")
    return Personnummer(digits)


def _infer_year(yy: int, mmdd: str, plus: bool, today: dt.date) -> int:
    if plus:
        # '+': the person turns 100 this calendar year or turned it earlier.
        latest = today.year - 100
        return latest - (latest - yy) % 100
    year = today.year - (today.year - yy) % 100
    # A birth later this year, after today, lies in the future: go back a century.
    if year == today.year and _month_day(mmdd) > (today.month, today.day):
        year -= 100
    return year


def _month_day(mmdd: str) -> tuple[int, int]:
    day = int(mmdd[2:])
    if day > COORDINATION_DAY_OFFSET:
        day -= COORDINATION_DAY_OFFSET
    return int(mmdd[:2]), day


def _check_date(digits: str, today: dt.date | None) -> None:
    month, day = _month_day(digits[4:8])
    try:
        born = dt.date(int(digits[:4]), month, day)
    except ValueError:
        raise PersonnummerError(
            f"'{digits[:8]}' is not a valid birth date"
            + (" (samordningsnummer: day + 60)" if int(digits[6:8]) > 31 else "")
        ) from None
    if today is not None and born > today:
        raise PersonnummerError(f"the birth date {born.isoformat()} lies in the future")


def make(birth_date: dt.date, birth_number: int, *, coordination: bool = False) -> Personnummer:
    """Build a valid number from a birth date and a birth number (1–999)."""
    day = birth_date.day + (COORDINATION_DAY_OFFSET if coordination else 0)
    nine = f"{birth_date:%y%m}{day:02d}{birth_number:03d}"
    return Personnummer(f"{birth_date.year:04d}{nine[2:]}{luhn_check_digit(nine)}")
