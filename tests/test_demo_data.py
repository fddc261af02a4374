"""The demo register: deterministic, realistic and consistent (importing its Navet files
into PostgreSQL: tests/test_demo_import.py)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from faker.providers.person.sv_SE import Provider as SwedishNames

from resolvers.dev import demo
from resolvers.dev.demo import DemoRegister, generate
from resolvers.domain.personnummer import Gender, parse
from resolvers.register.rows import AddressRow

PERSONS = 2000
TODAY = dt.date(2025, 6, 1)
REVERSE_KINDS = {
    "B": {"MO", "FA", "F"},
    "MO": {"B"},
    "FA": {"B"},
    "F": {"B"},
    "V": {"VF"},
    "VF": {"V"},
    "M": {"M"},
    "P": {"P"},
}


@pytest.fixture(scope="module")
def register() -> DemoRegister:
    return generate(PERSONS, 7, TODAY)


def rows_as_dicts(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [dict(zip(columns, row, strict=True)) for row in rows]


def persons_by(register: DemoRegister, key: str) -> dict[Any, dict[str, Any]]:
    return {p[key]: p for p in rows_as_dicts(register.persons, demo.PERSON_COLUMNS)}


def test_same_seed_gives_the_same_register_and_another_seed_another(
    register: DemoRegister,
) -> None:
    assert generate(PERSONS, 7, TODAY) == register
    other = generate(PERSONS, 8, TODAY)
    assert other.persons != register.persons
    assert len(other.persons) == PERSONS


@pytest.mark.parametrize("count", [0, 1, 2, 5, 37])
def test_exactly_the_asked_number_of_persons(count: int) -> None:
    assert [row[0] for row in generate(count, 3, TODAY).persons] == list(range(1, count + 1))


def test_every_personnummer_is_valid_unique_and_matches_the_birth_date(
    register: DemoRegister,
) -> None:
    persons = rows_as_dicts(register.persons, demo.PERSON_COLUMNS)
    numbers = [p["personnummer"] for p in persons]
    assert len(set(numbers)) == len(numbers)
    for person in persons:
        parsed = parse(person["personnummer"], today=TODAY)
        assert not parsed.is_coordination_number
        assert parsed.birth_date == person["birth_date"]
    ages = [(TODAY - p["birth_date"]).days / 365.25 for p in persons]
    assert min(ages) < 1
    assert max(ages) > 95


def test_gender_digit_matches_the_first_names(register: DemoRegister) -> None:
    male, female = set(SwedishNames.first_names_male), set(SwedishNames.first_names_female)
    checked = 0
    for person in rows_as_dicts(register.persons, demo.PERSON_COLUMNS):
        first = person["first_names"].split()[0]
        if (first in male) == (first in female):  # both or neither: says nothing
            continue
        expected = Gender.MALE if first in male else Gender.FEMALE
        assert parse(person["personnummer"], today=TODAY).gender == expected, person
        checked += 1
    assert checked > PERSONS * 0.9


def test_names_and_addresses_respect_the_register_limits(register: DemoRegister) -> None:
    persons = rows_as_dicts(register.persons, demo.PERSON_COLUMNS)
    assert all(len(p["first_names"]) <= 80 and len(p["last_name"]) <= 60 for p in persons)
    assert all(len(p["middle_name"] or "") <= 40 for p in persons)
    codes = Counter(p["given_name_code"] for p in persons)
    assert codes["10"] > codes["20"] > 0 and codes["12"] > 0 and codes[None] > 0
    care_of = []
    for address in rows_as_dicts(register.addresses, demo.ADDRESS_COLUMNS):
        lines = [address[k] or "" for k in ("care_of", "line1", "line2", "line3")]
        if address["care_of"]:  # the name alone, as Navet's CareOf: the envelope adds "c/o"
            care_of.append(AddressRow(**{k: v for k, v in address.items() if k != "person_id"}))
        assert max(map(len, lines)) <= 35 and len(address["postal_town"] or "") <= 27
        if address["kind"] == "F":
            assert address["postal_code"].isdigit() and len(address["postal_code"]) == 5
            assert address["postal_town"] == address["postal_town"].upper()
            assert (address["county_code"], address["municipality_code"]) in {
                ("14", "80"),
                ("14", "81"),
            }
    assert care_of and all(
        [line for line in a.lines if "c/o" in line.lower()] == [f"c/o {a.care_of}"] for a in care_of
    )


def test_relations_are_stored_in_both_directions(register: DemoRegister) -> None:
    ids = {row[1]: row[0] for row in register.persons}
    numbers = {row[0]: row[1] for row in register.persons}
    rows = {(r[0], r[1], r[2]): r[3:] for r in register.relations}
    in_register = [r for r in register.relations if r[2] in ids]
    assert len(in_register) > PERSONS / 2
    for person_id, kind, other, *validity in in_register:
        reverse = [
            rows[(ids[other], back, numbers[person_id])]
            for back in REVERSE_KINDS[kind]
            if (ids[other], back, numbers[person_id]) in rows
        ]
        assert len(reverse) == 1, (person_id, kind, other)
        if kind in ("M", "P", "V", "VF"):
            assert list(reverse[0]) == validity
    assert len(rows) == len(register.relations)  # no duplicate keys


def test_households_deaths_and_emigrations_are_consistent(register: DemoRegister) -> None:
    persons = persons_by(register, "id")
    kinds: dict[int, set[str]] = {person_id: set() for person_id in persons}
    for address in register.addresses:
        kinds[address[0]].add(address[1])
    dereg = Counter(p["deregistration_code"] for p in persons.values())
    assert 0.005 < dereg["AV"] / PERSONS < 0.02 and 0.005 < dereg["UV"] / PERSONS < 0.02
    for person_id, person in persons.items():
        code = person["deregistration_code"]
        hidden = person["protection"] == "SKYDDAD_FOLKBOKFORING"
        expected_f = code is None and not hidden
        assert ("F" in kinds[person_id]) == expected_f, person
        assert (person["moved_in_date"] is not None) == expected_f
        assert person["moved_in_date"] is None or person["moved_in_date"] >= person["birth_date"]
        assert ("U" in kinds[person_id]) == (code == "UV")
        if code == "AV":
            assert not kinds[person_id]
    special = sum("S" in k for k in kinds.values())
    assert 0.01 < special / PERSONS < 0.05


def test_a_surviving_spouse_is_widowed_on_the_death_date(register: DemoRegister) -> None:
    persons = persons_by(register, "personnummer")
    by_id = {p["id"]: p for p in persons.values()}
    widowed = 0
    for person_id, kind, other, _, valid_to in register.relations:
        dead = by_id[person_id]
        if kind in ("M", "P") and dead["deregistration_code"] == "AV":
            assert valid_to == dead["deregistration_date"]
            assert persons[other]["civil_status"] in ("Ä", "EP")
            assert persons[other]["civil_status_date"] == dead["deregistration_date"]
            widowed += 1
    assert widowed > 0


def test_about_half_a_percent_are_protected_including_children_of_unprotected_parents(
    register: DemoRegister,
) -> None:
    persons = persons_by(register, "personnummer")
    protected = [p for p in persons.values() if p["protection"]]
    assert 0.003 <= len(protected) / PERSONS <= 0.01
    assert any((TODAY - p["birth_date"]).days > 18 * 366 for p in protected)
    protected_numbers = {p["personnummer"] for p in protected}
    by_id = {p["id"]: p for p in persons.values()}
    parents = [
        by_id[r[0]]
        for r in register.relations
        if r[1] in ("B", "VF") and r[2] in protected_numbers and not by_id[r[0]]["protection"]
    ]
    assert parents
