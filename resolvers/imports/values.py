"""Navet's simple values, checked as its schema types them and turned into ours.

Each function takes an element's text (None for an empty or nil element) and returns
the value, or raises ``ValueError`` with the reason, which the caller places at the
element's path. A message never repeats a personnummer or a name: an import error is
read by operators, who need the place and the rule, not the person's data.

Digits are ASCII digits (``str.isdigit`` alone takes every script's digits). Strings are
stripped of surrounding white space; an empty one is absent. The functions run for
millions of values per file, so the usual case takes the shortest way: a C-level test
before any closer look, and a cache for the values that repeat (dates).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from resolvers.domain import codes
from resolvers.domain import personnummer as numbers
from resolvers.domain.text import unprintable

# The register's codes, as resolvers/domain/codes.py declares them.
CIVIL_STATUS = frozenset(codes.CIVIL_STATUS)
DEREGISTRATION = frozenset(codes.DEREGISTRATION)
RELATION = frozenset(codes.RELATION_KIND)
RELATION_STATUS = frozenset({"NY", "PB", "RD", "AS", "AV", "IV", "AN"})
REFERRAL_STATUS = frozenset({"NY", "AS"})
_TOTAL = {"J": True, "N": False, "true": True, "false": False}


def string(text: str | None, limit: int) -> str | None:
    """Clean text of at most ``limit`` characters (resolvers.domain.text's rule)."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    if not text.isprintable():  # isprintable is stricter than clean text: look closer
        problem = unprintable(text)
        if problem is not None:
            raise ValueError(f"holds {problem}")
    return text


def required(value: str | None) -> str:
    if value is None:
        raise ValueError("empty")
    return value


def code(text: str | None, allowed: frozenset[str]) -> str:
    """One of the schema's enumerated codes."""
    if text in allowed:  # as delivered, mostly
        return text
    value = required(text and text.strip())
    if value not in allowed:
        raise ValueError(f"{shown(value)} is not one of {' '.join(sorted(allowed))}")
    return value


def flag(text: str | None) -> bool:
    """J or N; an empty element takes the schema's default, N."""
    value = (text or "").strip()
    if value == "J":
        return True
    if value in ("N", ""):
        return False
    raise ValueError(f"{shown(value)} is neither J nor N")


def total(text: str | None) -> bool:
    """``totalpost``: J/N or true/false; absent is false."""
    if text is None:
        return False
    value = _TOTAL.get(text.strip())
    if value is None:
        raise ValueError(f"{shown(text)} is none of J N true false")
    return value


def digits(text: str | None, length: int) -> str | None:
    if text is None:
        return None
    if len(text) != length or not (text.isascii() and text.isdigit()):  # as delivered, mostly
        text = text.strip()
        if not text:
            return None
        if len(text) != length or not (text.isascii() and text.isdigit()):
            raise ValueError(f"not {length} digits")
    return text


def natural(text: str | None, low: int, high: int) -> int:
    """A whole number in [low, high], written in digits (leading zeros allowed: xs:int)."""
    value = required(text and text.strip()).lstrip("0") or "0"
    digits_only = len(value) <= len(str(high)) and value.isascii() and value.isdigit()
    if not digits_only or not low <= int(value) <= high:
        raise ValueError(f"not a whole number from {low} to {high}")
    return int(value)


def postal_code(text: str | None) -> str | None:
    """Five digits. The schema types PostNr as xs:int, so a leading zero may be
    missing: a shorter number is padded back to five digits."""
    value = text and text.strip()
    if not value:
        return None
    if len(value) > 5 or not (value.isascii() and value.isdigit()):
        raise ValueError("not a postal code of up to 5 digits")
    return value.zfill(5)


def date(text: str | None) -> dt.date | None:
    """``OfullstandigtDatumTYPE``: YYYYMMDD; an unknown month or day is 00 and reads as
    01; all zeros (or 0) is no date."""
    return None if text is None else _date(text)


@lru_cache(maxsize=1 << 16)  # a register's dates repeat: births, moves, marriages
def _date(text: str) -> dt.date | None:
    text = text.strip()
    if text in ("0", "00000000", ""):
        return None
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        raise ValueError("not a date of 8 digits (YYYYMMDD)")
    month, day = int(text[4:6]), int(text[6:8])
    if month == 0 and day != 0:
        raise ValueError("a day without a month")
    try:
        return dt.date(int(text[:4]), month or 1, day or 1)
    except ValueError:
        raise ValueError("not a date that exists") from None


def timestamp(text: str | None) -> dt.datetime | None:
    """``andringstidpunkt``: yyyyMMddHHmmss, Swedish local time as delivered (naive)."""
    if text is None:
        return None
    value = text.strip()
    if len(value) != 14 or not (value.isascii() and value.isdigit()):
        raise ValueError("not a time of 14 digits (yyyyMMddHHmmss)")
    try:  # the ISO basic format, which fromisoformat reads in C
        return dt.datetime.fromisoformat(f"{value[:8]}T{value[8:]}")
    except ValueError:
        raise ValueError("not a time that exists") from None


def personnummer(text: str | None) -> str:
    """A personnummer or samordningsnummer of 12 digits: its date and check digit hold."""
    if text is None or len(text) != 12 or not (text.isascii() and text.isdigit()):
        text = required(digits(text, 12))
    if not _is_birth_date(text[:8]):
        raise ValueError("not a personnummer: no such birth date")
    if numbers.luhn_check_digit(text[2:11]) != ord(text[11]) - 48:  # ASCII '0' is 48
        raise ValueError("not a personnummer: the check digit is wrong")
    return text


@lru_cache(maxsize=1 << 16)  # birth dates repeat: some 40 000 days for a whole register
def _is_birth_date(yyyymmdd: str) -> bool:
    try:
        numbers.birth_date(yyyymmdd + "0000")  # a samordningsnummer's day is the day + 60
    except ValueError:
        return False
    return True


def birth_time_number(text: str | None) -> str:
    """``FodelsetidNr``: a person who never had a number, by birth date (which may be
    incomplete) and four digits, kept as delivered."""
    value = required(digits(text, 12))
    if _date(value[:8]) is None:
        raise ValueError("not a birth date and number: no birth date")
    return value


def shown(value: str) -> str:
    """A delivered code as a message quotes it: escaped, and short."""
    return repr(value[:20] + ("…" if len(value) > 20 else ""))
