"""Protected persons: a direct lookup says only that; nothing else ever shows them."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
import pytest

from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api

PROTECTIONS = ["SEKRETESSMARKERING", "SKYDDAD_FOLKBOKFORING"]

EVERYTHING = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    __typename
    ... on ProtectedPerson { personnummer notice }
    ... on Person {
      lastName
      relations { kind personnummer person { firstNames lastName } }
      spouse { personnummer person { lastName } }
      children { personnummer person { lastName } }
      guardians { personnummer person { lastName } }
      wards { personnummer person { lastName } }
    }
  }
}
"""


async def protected_family(pool: asyncpg.Pool, protection: str) -> dict[str, str]:
    """Parents (married) with a protected child; the father is the guardian of it."""
    wed = dt.date(2010, 5, 1)
    mother = await factories.person(pool, first_names="Lena", last_name="Hemlig", civil_status="G")
    father = await factories.person(
        pool, male=True, first_names="Olof", last_name="Hemlig", civil_status="G"
    )
    await factories.relate(pool, mother, "M", father, since=wed)
    child = await factories.person(
        pool,
        born=dt.date(2016, 4, 2),
        first_names="Saga",
        last_name="Hemlig",
        protection=protection,
    )
    for parent in (mother, father):
        await factories.relate(pool, parent, "B", child)
        await factories.relate(pool, parent, "VF", child)
    return {"mother": mother, "father": father, "child": child}


@pytest.mark.parametrize("protection", PROTECTIONS)
async def test_direct_lookup_says_only_that_the_person_is_protected(
    api: Api, clean_db: asyncpg.Pool, protection: str
) -> None:
    family = await protected_family(clean_db, protection)
    body = await api.query(EVERYTHING, {"pnr": family["child"]}, tier=Tier.RELATIONS)
    assert "errors" not in body
    answer = body["data"]["person"]
    assert answer["__typename"] == "ProtectedPerson"
    assert set(answer) == {"__typename", "personnummer", "notice"}
    assert answer["personnummer"] == family["child"]
    assert "Saga" not in json.dumps(body) and "2016" not in answer["notice"]


@pytest.mark.parametrize("protection", PROTECTIONS)
async def test_protected_child_is_absent_from_parents_relations(
    api: Api, clean_db: asyncpg.Pool, protection: str
) -> None:
    family = await protected_family(clean_db, protection)
    for parent in ("mother", "father"):
        body = await api.query(EVERYTHING, {"pnr": family[parent]}, tier=Tier.RELATIONS)
        person = body["data"]["person"]
        assert person["children"] == []
        assert person["wards"] == []
        assert [relation["kind"] for relation in person["relations"]] == ["SPOUSE"]
        assert family["child"] not in json.dumps(body)


async def test_protected_spouse_and_guardian_are_absent(api: Api, clean_db: asyncpg.Pool) -> None:
    guardian = await factories.person(clean_db, last_name="Dold", protection="SEKRETESSMARKERING")
    spouse = await factories.person(
        clean_db, male=True, last_name="Dold", protection="SEKRETESSMARKERING"
    )
    child = await factories.person(clean_db, born=dt.date(2015, 1, 1))
    await factories.relate(clean_db, child, "V", guardian)
    await factories.relate(clean_db, guardian, "M", spouse)
    adult = await factories.person(clean_db, civil_status="G")
    await factories.relate(clean_db, adult, "M", spouse, both_ways=False)
    for pnr in (child, adult):
        body = await api.query(EVERYTHING, {"pnr": pnr})
        text = json.dumps(body)
        assert guardian not in text and spouse not in text and "Dold" not in text
        person = body["data"]["person"]
        assert person["guardians"] == [] and person["spouse"] is None and person["relations"] == []


async def test_protected_persons_are_never_listed_by_interval(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    family = await protected_family(clean_db, "SKYDDAD_FOLKBOKFORING")
    query = """{ personsInRange(from: "190001010000", to: "202512310000", first: 500) {
        edges { node { personnummer } } } }"""
    body = await api.query(query)
    listed = [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]]
    assert sorted(listed) == sorted([family["mother"], family["father"]])


async def test_protected_persons_are_never_found_by_name(api: Api, clean_db: asyncpg.Pool) -> None:
    family = await protected_family(clean_db, "SEKRETESSMARKERING")
    body = await api.query(
        '{ searchPersons(lastName: "Hemlig") { edges { node { personnummer firstNames } } } }'
    )
    found = {edge["node"]["firstNames"] for edge in body["data"]["searchPersons"]["edges"]}
    assert found == {"Lena", "Olof"}
    assert family["child"] not in json.dumps(body)
    only_child = await api.query(
        '{ searchPersons(lastName: "Hemlig", firstName: "Saga") { edges { cursor } } }'
    )
    assert only_child["data"]["searchPersons"]["edges"] == []


async def test_protected_person_is_not_reachable_as_a_related_person(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    """Even a relation row pointing at a protected person yields nothing through `person`."""
    family = await protected_family(clean_db, "SEKRETESSMARKERING")
    query = """query ($pnr: String!) { person(personnummer: $pnr) { ... on Person {
        spouse { person { children { personnummer } wards { personnummer } } } } } }"""
    body = await api.query(query, {"pnr": family["mother"]})
    assert body["data"]["person"]["spouse"]["person"] == {"children": [], "wards": []}


@pytest.mark.parametrize("protection", PROTECTIONS)
async def test_relations_with_their_persons_hold_the_same_rule_as_the_two_views(
    clean_db: asyncpg.Pool, protection: str
) -> None:
    """visible_relation_person (one lookup of each relative) shows exactly what
    visible_relation joined to visible_person shows: no protected relative, no
    samordningsnummer, and relatives the register does not hold without a record."""
    family = await protected_family(clean_db, protection)
    outside = factories.number(dt.date(1950, 1, 1))  # a parent the register does not hold
    await factories.relate(clean_db, family["father"], "FA", outside)
    coordinated = await factories.person(clean_db, personnummer=factories.number(coordination=True))
    await factories.relate(clean_db, family["mother"], "P", coordinated)
    columns = "person_id, kind, related_personnummer, valid_from, valid_to"
    combined = await clean_db.fetch(
        f"SELECT r.{columns.replace(', ', ', r.')}, p.id, p.last_name, p.status "
        "FROM visible_relation AS r "
        "LEFT JOIN visible_person AS p ON p.personnummer = r.related_personnummer "
        "ORDER BY 1, 2, 3"
    )
    single = await clean_db.fetch(
        f"SELECT {columns}, id, last_name, status FROM visible_relation_person ORDER BY 1, 2, 3"
    )
    assert [tuple(row) for row in single] == [tuple(row) for row in combined]
    shown = {row["related_personnummer"] for row in single}
    assert family["child"] not in shown and coordinated not in shown
    assert outside in shown and family["father"] in shown
    assert [tuple(row)[5:] for row in single if row["related_personnummer"] == outside] == [
        (None, None, None)
    ]
