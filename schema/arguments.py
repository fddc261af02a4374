"""Checks of the arguments callers give: numbers, intervals, names and identifiers.

Each refusal is a ``BadUserInput`` naming the argument and what to change. The rules
themselves live in ``resolvers.domain.personnummer`` (what a number is) and
``resolvers.domain.text`` (what clean text is); these functions only say it in the
caller's terms.
"""

from __future__ import annotations

import datetime as dt
from typing import overload

from resolvers.domain.personnummer import Personnummer, PersonnummerError, parse
from resolvers.domain.text import blank, unprintable
from schema.errors import BadUserInput

WILDCARDS = frozenset("*%_?")
MAX_IDENTIFIER = 200  # as the token's identifiers may be (api.auth)


def number(text: str, argument: str, *, strict: bool = True) -> Personnummer:
    try:
        return parse(text, strict=strict)
    except PersonnummerError as error:
        message = f"`{argument}` is not a valid personnummer: {error}"
        raise BadUserInput(message, argument=argument) from None


def interval(low_text: str, high_text: str) -> tuple[Personnummer, Personnummer]:
    """The bounds of ``personsInRange``: real dates, no samordningsnummer, in order, and
    both in the century the caller meant."""
    low = number(low_text, "from", strict=False)
    high = number(high_text, "to", strict=False)
    for argument, bound in (("from", low), ("to", high)):
        if bound.is_coordination_number:
            raise BadUserInput(f"`{argument}` may not be a samordningsnummer", argument=argument)
    # A bound without its century is read in the latest century that does not put it in
    # the future: 991231 is 1999, 000101 is 2000. Two such readings in different
    # centuries are more likely a misreading than an interval across a century.
    inferred = low.inferred_century or high.inferred_century
    if inferred and low.digits[:2] != high.digits[:2]:
        raise BadUserInput(
            f"`from` was read as {low.birth_date.isoformat()} and `to` as "
            f"{high.birth_date.isoformat()}, in different centuries; write both with the "
            "century (YYYYMMDD-NNNN) to say which you mean",
            argument="from",
        )
    if low.digits > high.digits:
        raise BadUserInput(
            f"`from` ({low.birth_date.isoformat()}) is after `to` ({high.birth_date.isoformat()})",
            argument="from",
        )
    return low, high


def clean(value: str, argument: str) -> None:
    """Refuse text that is not clean (``resolvers.domain.text``), naming the character."""
    problem = unprintable(value)
    if problem is not None:
        raise BadUserInput(
            f"`{argument}` may only hold printable text: {problem}", argument=argument
        )


@overload
def name(value: str, argument: str, min_letters: int, max_length: int) -> str: ...
@overload
def name(value: None, argument: str, min_letters: int, max_length: int) -> None: ...


def name(value: str | None, argument: str, min_letters: int, max_length: int) -> str | None:
    """A name to search for: clean, without wildcards, long enough not to fish; as the
    register writes names (no spaces around, one between: ``words``)."""
    if value is None:
        return None
    clean(value, argument)
    value = words(value)
    if WILDCARDS & set(value):
        raise BadUserInput(
            f"`{argument}` may not contain wildcards; the search already tolerates "
            "misspellings and missing diacritics",
            argument=argument,
        )
    if sum(char.isalpha() for char in value) < min_letters or len(value) > max_length:
        raise BadUserInput(
            f"`{argument}` needs at least {min_letters} letters and at most {max_length} "
            "characters",
            argument=argument,
        )
    return value


def identifier(value: str | None, argument: str) -> None:
    """A caller's identifier to search the log for (a token's ``sub`` or ``org``)."""
    if value is None:
        return
    clean(value, argument)
    if blank(value) or len(value) > MAX_IDENTIFIER:
        raise BadUserInput(
            f"`{argument}` must be 1 to {MAX_IDENTIFIER} characters, not all blank",
            argument=argument,
        )


def birth_years(year_from: int | None, year_to: int | None) -> None:
    this_year = dt.date.today().year
    for argument, year in (("birthYearFrom", year_from), ("birthYearTo", year_to)):
        if year is not None and not 1850 <= year <= this_year:
            raise BadUserInput(
                f"`{argument}` must lie between 1850 and {this_year}", argument=argument
            )
    if year_from is not None and year_to is not None and year_from > year_to:
        raise BadUserInput("`birthYearFrom` is after `birthYearTo`", argument="birthYearFrom")


def words(text: str) -> str:
    """Names as the register writes them: no spaces around, one between."""
    return " ".join(text.split())
