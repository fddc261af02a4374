"""Parsing, validating and formatting personnummer and samordningsnummer.

Accepted input: 10 digits (``YYMMDDNNNC``) or 12 digits (``YYYYMMDDNNNC``), optionally
with ``-``, ``+`` or a space before the last four digits. With 10 digits the century is
inferred: the latest century that does not put the birth date in the future; with
``+``, the latest century in which the person turns 100 this calendar year or earlier.
The check digit is the Luhn digit over ``YYMMDDNNN``.

Digits are ASCII digits only. Python's ``\\d``, ``str.isdigit`` and ``int()`` accept the
decimal digits of every script (fullwidth ``１``, Arabic-Indic ``١``, …); a number
written with them would be another text for the same person — past the protection
check, the cache and the log. Every number the API reads from a caller is read here.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass, field
from enum import Enum

from resolvers.domain.text import character

_PATTERN = re.compile(r"([0-9]{2})?([0-9]{6})([-+ ]?)([0-9]{4})")
# The canonical form, as stored: in a pydantic or SQL pattern too.
CANONICAL_PATTERN = r"^[0-9]{12}$"
_CANONICAL = re.compile(CANONICAL_PATTERN)
_NATURAL = re.compile(r"0|[1-9][0-9]*")
# What officials paste from word processors and web pages between date and digits:
# dashes and minus signs read as '-', no-break spaces as a space. '+' is not among
# them: it says the person is 100 or older.
_AS_HYPHEN = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2212")
_AS_SPACE = frozenset(" \u00a0\u202f")
_AROUND = " \t\r\n\u00a0\u202f"  # stripped from both ends, as pasted
COORDINATION_DAY_OFFSET = 60


class Gender(Enum):
    FEMALE = "F"
    MALE = "M"


class NumberError(ValueError):
    """The text is not a number of the kind asked for; the message says what is wrong."""


class PersonnummerError(NumberError):
    """The text is not a valid personnummer; the message says what is wrong."""


def is_canonical(digits: str) -> bool:
    """Twelve ASCII digits: the only form a number is stored, logged or sent upstream in."""
    return _CANONICAL.match(digits) is not None


def parse_natural(text: str, maximum: int) -> int:
    """A whole number from 0 to ``maximum``, written in ASCII digits as ``str(n)`` writes
    it (no sign, no spaces, no leading zeros, no ``_``: ``int()`` takes all of those).

    Raises:
        NumberError: saying what is wrong.
    """
    if len(text) > len(str(maximum)) or _NATURAL.fullmatch(text) is None:
        raise NumberError(f"not a whole number from 0 to {maximum} in the digits 0-9")
    number = int(text)
    if number > maximum:
        raise NumberError(f"{number} is above {maximum}")
    return number


def _digit_sums(weights: tuple[int, int, int]) -> dict[str, int]:
    """The weighted digit sum of every three-digit group, by its text."""
    sums = {}
    for group in range(1000):
        text = f"{group:03d}"
        products = [int(char) * weight for char, weight in zip(text, weights, strict=True)]
        sums[text] = sum(product // 10 + product % 10 for product in products)
    return sums


# An import checks millions of numbers: three look-ups instead of a loop over nine digits.
_SUMS_212, _SUMS_121 = _digit_sums((2, 1, 2)), _digit_sums((1, 2, 1))


def luhn_check_digit(nine_digits: str) -> int:
    """Return the check digit for ``YYMMDDNNN`` (nine ASCII digits; weights 2, 1, 2, 1, …)."""
    total = _SUMS_212[nine_digits[0:3]] + _SUMS_121[nine_digits[3:6]] + _SUMS_212[nine_digits[6:9]]
    return -total % 10


# What a canonical number says, read from its 12 digits: the one rule for a parsed number
# and for a row read from the register or from Skatteverket.
def is_coordination_number(digits: str) -> bool:
    """A samordningsnummer: day of month + 60."""
    return int(digits[6:8]) > COORDINATION_DAY_OFFSET


def birth_date(digits: str) -> dt.date:
    return dt.date(int(digits[0:4]), *_month_day(digits[4:8]))


def gender_code(digits: str) -> str:
    """``M`` for an odd second-last digit, else ``F``."""
    return "M" if int(digits[10]) % 2 else "F"


def separator(digits: str, today: dt.date | None = None) -> str:
    """``+`` from the calendar year the person turns 100, else ``-``."""
    year = today.year if today else time.localtime().tm_year
    return "+" if year - int(digits[0:4]) >= 100 else "-"


def short(digits: str, today: dt.date | None = None) -> str:
    """The 11-character form officials write: ``YYMMDD-NNNC`` (or ``+``)."""
    return f"{digits[2:8]}{separator(digits, today)}{digits[8:]}"


def ten(digits: str) -> str:
    """Ten digits without separator: ``YYMMDDNNNC``."""
    return digits[2:]


def long(digits: str) -> str:
    """The 13-character form: ``YYYYMMDD-NNNC``."""
    return f"{digits[:8]}-{digits[8:]}"


@dataclass(frozen=True, slots=True)
class Personnummer:
    """A validated identity number, held as its canonical 12 digits.

    ``inferred_century``: read from 10 digits, its century inferred (not compared).
    """

    digits: str
    inferred_century: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not is_canonical(self.digits):
            raise ValueError("a Personnummer holds 12 digits 0-9")

    @property
    def is_coordination_number(self) -> bool:
        return is_coordination_number(self.digits)

    @property
    def birth_date(self) -> dt.date:
        return birth_date(self.digits)

    @property
    def gender(self) -> Gender:
        return Gender(gender_code(self.digits))

    def separator(self, today: dt.date | None = None) -> str:
        return separator(self.digits, today)

    def short(self, today: dt.date | None = None) -> str:
        return short(self.digits, today)

    @property
    def ten(self) -> str:
        return ten(self.digits)

    @property
    def long(self) -> str:
        return long(self.digits)

    def __str__(self) -> str:
        return self.digits


def parse(text: str, *, today: dt.date | None = None, strict: bool = True) -> Personnummer:
    """Parse a personnummer or samordningsnummer in any accepted form.

    With ``strict=False`` (bounds of an interval) the check digit is not checked and
    the date may lie in the future; the date itself must still exist.

    Raises:
        PersonnummerError: naming what is wrong (form, date, check digit).
    """
    # As typed, the usual case; else as pasted, or refused naming what is in the way.
    match = _PATTERN.fullmatch(text) or _PATTERN.fullmatch(_normalized(text))
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
    return Personnummer(digits, inferred_century=century is None)


def _normalized(text: str) -> str:
    """The text with pasted dashes and spaces read as '-' and ' '; any character that
    has no place in a number is refused, by name and position (counted from 1)."""
    start = len(text) - len(text.lstrip(_AROUND))
    kept = []
    for index, char in enumerate(text.strip(_AROUND), start + 1):
        if "0" <= char <= "9" or char == "+":
            kept.append(char)
        elif char in _AS_HYPHEN:
            kept.append("-")
        elif char in _AS_SPACE:
            kept.append(" ")
        else:
            raise PersonnummerError(f"unexpected character {character(char)} at position {index}")
    return "".join(kept)


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
    """Month and day of birth; a samordningsnummer's day is the day of birth + 60."""
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
