"""Personnummer parsing, validation and formatting."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.personnummer import Gender, PersonnummerError, luhn_check_digit, make, parse

TODAY = dt.date(2026, 11, 23)

birth_dates = st.dates(min_value=dt.date(1890, 1, 1), max_value=TODAY)
birth_numbers = st.integers(min_value=1, max_value=999)


def test_known_number_validates() -> None:
    """Skatteverket's test person Tolvan Tolvansson."""
    number = parse("19121212-1212", today=TODAY)
    assert number.digits == "191212121212"
    assert number.gender is Gender.MALE
    assert number.birth_date == dt.date(1912, 12, 12)
    assert number.short(TODAY) == "121212+1212"
    assert luhn_check_digit("811218987") == 6


@given(birth_dates, birth_numbers, st.booleans())
def test_every_form_round_trips(born: dt.date, birth_number: int, coordination: bool) -> None:
    number = make(born, birth_number, coordination=coordination)
    forms = [number.digits, number.long, number.short(TODAY), number.short(TODAY).replace("-", "")]
    if number.separator(TODAY) == "-":
        forms.append(number.ten)
    for form in forms:
        assert parse(form, today=TODAY) == number
    assert number.birth_date == born
    assert number.is_coordination_number is coordination
    assert number.gender is (Gender.MALE if birth_number % 2 else Gender.FEMALE)


@given(birth_dates, birth_numbers, st.integers(0, 11), st.integers(1, 9))
def test_every_single_digit_corruption_is_rejected(
    born: dt.date, birth_number: int, position: int, change: int
) -> None:
    digits = make(born, birth_number).digits
    corrupted = (
        digits[:position] + str((int(digits[position]) + change) % 10) + digits[position + 1 :]
    )
    if position < 2:
        # The century takes no part in the check digit: a changed century is another
        # date, valid or not, but never the same person.
        with contextlib.suppress(PersonnummerError):
            assert parse(corrupted, today=TODAY) != parse(digits, today=TODAY)
        return
    with pytest.raises(PersonnummerError):
        parse(corrupted, today=TODAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("121212-1212", "201212121212"),  # no '+': the latest century not in the future
        ("121212+1212", "191212121212"),  # '+': one century earlier
        ("1212121212", "201212121212"),
    ],
)
def test_century_is_inferred_from_the_separator(text: str, expected: str) -> None:
    assert parse(text, today=TODAY).digits == expected


def test_birth_later_this_year_belongs_to_the_previous_century() -> None:
    later = make(dt.date(1926, 12, 24), 123)
    assert parse(later.ten, today=TODAY).digits == later.digits
    earlier = make(dt.date(2026, 1, 2), 123)
    assert parse(earlier.ten, today=TODAY).digits == earlier.digits


def test_plus_holds_from_the_calendar_year_the_person_turns_100() -> None:
    turning_100 = make(dt.date(1926, 12, 1), 13)  # turns 100 next week, writes '+' already
    assert turning_100.short(TODAY) == "261201+0138"
    assert parse("261201+0138", today=TODAY) == turning_100


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "10 or 12 digits"),
        ("1234567890123", "10 or 12 digits"),
        ("19801301-1234", "not a valid birth date"),
        ("19800230-1234", "not a valid birth date"),
        ("19800192-1234", "samordningsnummer"),
        ("20301212-1212", "future"),
        ("19801212/1212", "10 or 12 digits"),
        ("19801212+1212", "100 years"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PersonnummerError, match=message):
        parse(text, today=TODAY)


def test_interval_bounds_skip_check_digit_and_future() -> None:
    assert parse("20991231-9999", today=TODAY, strict=False).digits == "209912319999"
    with pytest.raises(PersonnummerError):
        parse("20991232-9999", today=TODAY, strict=False)
