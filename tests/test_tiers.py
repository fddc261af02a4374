"""The three authority tiers: who sees which fields, and that nothing more is read."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from resolvers.domain.access import Tier
from schema.register.relations_ahead import RELATION_FIELDS as LOADED_AHEAD
from tests import factories
from tests.conftest import Api, StatementLog

FULL = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    ... on Person {
      personnummer lastName status
      registeredAddress { postalTown }
      movedInDate keyCode
      civilStatus { code kind meaning since }
      deregistration { code meaning date }
      relations { kind code personnummer since person { firstNames } }
      spouse { personnummer }
      children { personnummer }
      guardians { personnummer }
      wards { personnummer }
    }
  }
}
"""

EXTENDED_FIELDS = {"movedInDate", "keyCode", "civilStatus", "deregistration"}
RELATION_FIELDS = {"relations", "spouse", "children", "guardians", "wards"}
FORBIDDEN_AT = {
    Tier.BASIC: EXTENDED_FIELDS | RELATION_FIELDS,
    Tier.EXTENDED: RELATION_FIELDS,
    Tier.RELATIONS: set(),
}


async def married_couple(pool: asyncpg.Pool) -> tuple[str, str]:
    wed = dt.date(2012, 6, 9)
    wife = await factories.person(pool, civil_status="G", civil_status_date=wed)
    husband = await factories.person(
        pool, male=True, first_names="Per", civil_status="G", civil_status_date=wed
    )
    await factories.relate(pool, wife, "M", husband, since=wed)
    return wife, husband


@pytest.mark.parametrize("tier", list(Tier))
async def test_fields_above_the_tier_are_null_with_forbidden_errors(
    api: Api, clean_db: asyncpg.Pool, tier: Tier
) -> None:
    wife, husband = await married_couple(clean_db)
    body = await api.query(FULL, {"pnr": wife}, tier=tier)
    person = body["data"]["person"]
    assert person["lastName"] == "Svensson"
    assert person["registeredAddress"] == {"postalTown": "GÖTEBORG"}
    forbidden = FORBIDDEN_AT[tier]
    errors = {tuple(error["path"]): error for error in body.get("errors", [])}
    assert set(errors) == {("person", field) for field in forbidden}
    for (_, field), error in errors.items():
        assert error["extensions"]["code"] == "FORBIDDEN"
        needed = "EXTENDED" if field in EXTENDED_FIELDS else "RELATIONS"
        assert f"requires tier {needed}" in error["message"]
    for field in forbidden:
        assert person[field] is None
    if "movedInDate" not in forbidden:
        assert person["movedInDate"] == "2015-03-01"
        assert person["keyCode"] == "148011"
        assert person["civilStatus"] == {
            "code": "G", "kind": "MARRIED", "meaning": "gift", "since": "2012-06-09",
        }  # fmt: skip
        assert person["deregistration"] is None
    if not forbidden:
        assert person["spouse"] == {"personnummer": husband}
        assert person["relations"][0]["kind"] == "SPOUSE"
        assert person["relations"][0]["person"] == {"firstNames": "Per"}


@pytest.mark.parametrize("tier", [Tier.BASIC, Tier.EXTENDED])
async def test_data_above_the_tier_is_never_read_from_the_database(
    api: Api, clean_db: asyncpg.Pool, statement_log: StatementLog, tier: Tier
) -> None:
    wife, _ = await married_couple(clean_db)
    statement_log.clear()
    await api.query(FULL, {"pnr": wife}, tier=tier)
    sql = "\n".join(statement_log.statements)
    assert "relation" not in sql
    if tier is Tier.BASIC:
        for column in ("moved_in_date", "key_code", "civil_status", "deregistration_code"):
            assert column not in sql


async def test_deregistration_details_need_extended_but_status_is_basic(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = await factories.person(clean_db, address={}, deregistration=("AV", dt.date(2024, 2, 1)))
    basic = await api.query(FULL, {"pnr": pnr}, tier=Tier.BASIC)
    assert basic["data"]["person"]["status"] == "DECEASED"
    assert basic["data"]["person"]["deregistration"] is None
    extended = await api.query(FULL, {"pnr": pnr}, tier=Tier.EXTENDED)
    assert extended["data"]["person"]["deregistration"] == {
        "code": "AV", "meaning": "avliden", "date": "2024-02-01",
    }  # fmt: skip


async def test_related_persons_are_gated_by_the_same_tier(api: Api, clean_db: asyncpg.Pool) -> None:
    wife, _ = await married_couple(clean_db)
    query = """query ($pnr: String!) { person(personnummer: $pnr) { ... on Person {
        spouse { person { lastName movedInDate spouse { personnummer } } } } } }"""
    body = await api.query(query, {"pnr": wife}, tier=Tier.RELATIONS)
    assert body["data"]["person"]["spouse"]["person"] == {
        "lastName": "Svensson", "movedInDate": "2015-03-01", "spouse": {"personnummer": wife},
    }  # fmt: skip


async def test_viewer_tells_the_caller_who_they_are(api: Api, clean_db: asyncpg.Pool) -> None:
    token = api.token(Tier.EXTENDED, organisation="1481", roles=["selection"])
    response = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { subject tier roles organisation } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["viewer"] == {
        "subject": "tester", "tier": "EXTENDED", "roles": ["selection"], "organisation": "1481",
    }  # fmt: skip


def test_the_relation_fields_loaded_ahead_are_those_of_the_relations_tier() -> None:
    """Read from the Person type: a relation field added there is loaded ahead too."""
    assert LOADED_AHEAD == RELATION_FIELDS


async def test_published_sdl_declares_the_tier_of_each_gated_field(app: object) -> None:
    from schema.build import sdl

    text = sdl()
    assert "directive @requiresTier(tier: Tier!) on FIELD_DEFINITION" in text
    for field in EXTENDED_FIELDS:
        assert "@requiresTier(tier: EXTENDED)" in next(
            line for line in text.splitlines() if line.strip().startswith(f"{field}:")
        )
    for field in RELATION_FIELDS:
        assert "@requiresTier(tier: RELATIONS)" in next(
            line for line in text.splitlines() if line.strip().startswith(f"{field}:")
        )


async def test_a_query_planned_for_a_higher_tier_still_forbids_a_lower_one(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    """The same query text, first at RELATIONS, then at BASIC: no plan leaks across."""
    wife, _ = await married_couple(clean_db)
    full = await api.query(FULL, {"pnr": wife}, tier=Tier.RELATIONS)
    assert full["data"]["person"]["movedInDate"] and "errors" not in full
    basic = await api.query(FULL, {"pnr": wife}, tier=Tier.BASIC)
    assert basic["data"]["person"]["movedInDate"] is None
    assert basic["data"]["person"]["relations"] is None
    assert {error["extensions"]["code"] for error in basic["errors"]} == {"FORBIDDEN"}
