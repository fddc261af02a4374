"""Personnummer parsing, validation and formatting."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from resolvers.domain.personnummer import (
    Gender,
    NumberError,
    Personnummer,
    PersonnummerError,
    is_canonical,
    luhn_check_digit,
    make,
    parse,
    parse_natural,
)
from resolvers.register.rows import PersonRow

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


@given(birth_dates, birth_numbers, st.booleans())
def test_a_row_tells_what_its_number_tells(
    born: dt.date, birth_number: int, coordination: bool
) -> None:
    """A person read from the register or from Skatteverket shows its number as a parsed
    number does: one rule, not a copy of it in the row."""
    number = make(born, birth_number, coordination=coordination)
    row = PersonRow(1, number.digits, born, "Anna", None, None, "Berg", "REGISTERED")
    assert (row.is_coordination_number, row.gender) == (coordination, number.gender.value)
    assert (row.personnummer10, row.personnummer11, row.personnummer13) == (
        number.ten, number.short(), number.long,
    )  # fmt: skip


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
        ("19801212/1212", "unexpected character U+002F SOLIDUS at position 9"),
        ("19801212+1212", "100 years"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(PersonnummerError, match=re.escape(message)):
        parse(text, today=TODAY)


def test_interval_bounds_skip_check_digit_and_future() -> None:
    assert parse("20991231-9999", today=TODAY, strict=False).digits == "209912319999"
    with pytest.raises(PersonnummerError):
        parse("20991232-9999", today=TODAY, strict=False)


# Every decimal digit of every script but ASCII's: Python's \d, str.isdigit and int()
# accept them all.
UNICODE_DIGITS = [
    char
    for char in map(chr, range(sys.maxunicode + 1))
    if unicodedata.decimal(char, None) is not None and not "0" <= char <= "9"
]


def in_script(text: str, digit: str) -> str:
    """The text with its ASCII digits written in the script of ``digit``."""
    zero = ord(digit) - unicodedata.decimal(digit)  # each script's digits run 0-9
    return "".join(chr(zero + int(c)) if "0" <= c <= "9" else c for c in text)


def test_every_script_has_its_digits_in_a_run_of_ten() -> None:
    assert len(UNICODE_DIGITS) > 600
    for digit in UNICODE_DIGITS:
        assert unicodedata.decimal(in_script("7", digit)) == 7


@given(birth_dates, birth_numbers, st.data())
def test_digits_of_other_scripts_are_refused_by_name(
    born: dt.date, birth_number: int, data: st.DataObject
) -> None:
    number = make(born, birth_number)
    form = data.draw(st.sampled_from([number.digits, number.long, number.short(TODAY)]))
    position = data.draw(st.integers(0, len(form) - 1).filter(lambda i: form[i].isdigit()))
    for digit in UNICODE_DIGITS:  # every one, at a drawn place, and all digits in its script
        one = form[:position] + in_script(form[position], digit) + form[position + 1 :]
        for text, first in ((one, position), (in_script(form, digit), 0)):
            for strict in (True, False):
                with pytest.raises(PersonnummerError) as refused:
                    parse(text, today=TODAY, strict=strict)
                assert str(refused.value) == (
                    f"unexpected character U+{ord(text[first]):04X} "
                    f"{unicodedata.name(text[first])} at position {first + 1}"
                )


@pytest.mark.parametrize("dash", ["\u2013", "\u2014", "\u2212", "\u2011", "\u2010", "\u2012"])
def test_pasted_dashes_read_as_hyphens(dash: str) -> None:
    assert parse(f"19121212{dash}1212", today=TODAY).digits == "191212121212"
    assert parse(f"121212{dash}1212", today=TODAY).digits == "201212121212"


@pytest.mark.parametrize("space", ["\u00a0", "\u202f"])
def test_pasted_no_break_spaces_read_as_spaces(space: str) -> None:
    assert parse(f"19121212{space}1212", today=TODAY).digits == "191212121212"
    assert parse(f"{space}121212{space}1212{space}\n", today=TODAY).digits == "201212121212"


def test_plus_keeps_its_meaning_and_its_lookalikes_are_refused() -> None:
    assert parse("121212+1212", today=TODAY).digits == "191212121212"
    for lookalike, name in [("\uff0b", "FULLWIDTH PLUS SIGN"), ("\u2795", "HEAVY PLUS SIGN")]:
        with pytest.raises(PersonnummerError, match=f"{name} at position 7"):
            parse(f"121212{lookalike}1212", today=TODAY)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("１9121212-1212", "U+FF11 FULLWIDTH DIGIT ONE at position 1"),
        ("19121212-121٢", "U+0662 ARABIC-INDIC DIGIT TWO at position 13"),
        ("19121212\u30fc1212", "U+30FC KATAKANA-HIRAGANA PROLONGED SOUND MARK at position 9"),
        ("19121212\t1212", "U+0009 at position 9"),
        ("  19121212-1212\u200b", "U+200B ZERO WIDTH SPACE at position 16"),
        ("19121212_1212", "U+005F LOW LINE at position 9"),
    ],
)
def test_unexpected_characters_are_named_with_their_position(text: str, named: str) -> None:
    with pytest.raises(PersonnummerError) as refused:
        parse(text, today=TODAY)
    assert str(refused.value) == f"unexpected character {named}"


def test_a_bound_read_without_its_century_says_so() -> None:
    assert parse("991231-0000", today=TODAY, strict=False).inferred_century
    assert not parse("19991231-0000", today=TODAY, strict=False).inferred_century


@pytest.mark.parametrize("text", ["0", "7", "200", "9223372036854775806"])
def test_whole_numbers_in_ascii_digits_are_read(text: str) -> None:
    assert parse_natural(text, 2**63 - 2) == int(text)


@pytest.mark.parametrize(
    "text", ["", "-1", "+1", " 1", "1 ", "1_0", "01", "１", "٣", "²", "1.0", "201", "9" * 5000]
)
def test_anything_else_is_not_a_whole_number(text: str) -> None:
    with pytest.raises(NumberError):
        parse_natural(text, 200)


def test_a_personnummer_holds_twelve_ascii_digits_only() -> None:
    assert is_canonical("191212121212")
    for text in ["１９１２１２１２１２１２", "19121212121", "1912121212120", "19121212121\n"]:
        assert not is_canonical(text)
        with pytest.raises(ValueError):
            Personnummer(text)
