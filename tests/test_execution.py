"""The fast engine answers, and notes for the access log, exactly as the stock one does."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest
from graphql import ExecutionResult

from resolvers.audit.access_log import AccessRecord
from resolvers.db import Database
from resolvers.domain.access import Tier, Viewer
from schema.build import build_schema
from schema.context import Limits, build_context
from schema.engine import Engine
from tests import factories
from tests.conftest import Api

# The switch VASTFOLKET_ENGINE sets: stock is graphql-core's own execution.
ENGINES = {stock: Engine(build_schema(), Limits(), stock=stock) for stock in (False, True)}

QUERIES = {
    "lookup with aliases and fragments": """
        query ($p: String!) { person(personnummer: $p) {
          ... on Person { ...names nr: personnummer personnummer10 gender birthDate status
            alias: lastName mailingAddress { line2 postalCode postalTown country }
            registeredAddress { careOf line1 line2 municipalityCode countyCode }
            specialPostalAddress { line1 } foreignAddress { line1 country }
            relations { kind code personnummer since
              person { ...names registeredAddress { postalTown } } }
            spouse { person { lastName } } children { personnummer } } } }
        fragment names on Person { firstNames givenName middleName lastName }""",
    "page": """
        query { personsInRange(from: "19000101-0000", to: "20991231-9999", first: 5) {
          edges { cursor node { personnummer givenName lastName foreignAddress { line1 }
            relations { kind personnummer person { firstNames lastName } } } }
          pageInfo { hasNextPage endCursor } } }""",
    # __typename is not a plain field: its selection takes graphql-core's path.
    "page with type names": """
        query { personsInRange(from: "19000101-0000", to: "20991231-9999", first: 5) {
          edges { node { __typename personnummer relations { __typename kind } } } } }""",
    "extended fields above the tier": """
        query ($p: String!) { person(personnummer: $p) { ... on Person {
          lastName movedInDate keyCode civilStatus { code meaning since } } } }""",
}


@pytest.fixture
async def register(clean_db: asyncpg.Pool) -> str:
    mother = await factories.person(
        clean_db, first_names="Anna-Karin Maria", last_name="Ek", civil_status="G"
    )
    father = await factories.person(clean_db, male=True, last_name="Ek", civil_status="G")
    child = await factories.person(clean_db, born=dt.date(2016, 2, 2), last_name="Ek")
    await factories.relate(clean_db, mother, "M", father)
    await factories.relate(clean_db, mother, "B", child)
    await factories.relate(clean_db, mother, "FA", factories.number(dt.date(1940, 1, 1)))
    return mother


async def run(
    pool: asyncpg.Pool, stock: bool, query: str, tier: Tier, variables: dict[str, Any]
) -> tuple[ExecutionResult, AccessRecord]:
    engine = ENGINES[stock]
    context = build_context(Database(pool), Viewer("tester", tier))
    result = await engine.execute(engine.prepare(query), context, variables)
    return result, context.access


@pytest.mark.parametrize("name", QUERIES)
@pytest.mark.parametrize("tier", [Tier.BASIC, Tier.RELATIONS])
async def test_the_fast_engine_answers_and_notes_as_the_stock_one_does(
    clean_db: asyncpg.Pool, register: str, name: str, tier: Tier
) -> None:
    query, variables = QUERIES[name], {"p": register}
    ours, our_record = await run(clean_db, False, query, tier, variables)
    stock, stock_record = await run(clean_db, True, query, tier, variables)
    assert ours.data == stock.data
    assert ours.data is not None
    assert [(e.message, e.path) for e in ours.errors or []] == [
        (e.message, e.path) for e in stock.errors or []
    ]
    assert our_record == stock_record
    assert our_record.seen_locally


# A space or a comment may follow "@": the same directive to GraphQL.
CONDITIONAL = """query ($shown: Boolean!) {
  personsInRange(from: "19000101-0000", to: "20991231-9999", first: 5) {
    edges { node { lastName firstNames @%sinclude(if: $shown) } } } }"""


@pytest.mark.parametrize("spacing", ["", " ", "#comment\n"])
async def test_a_conditional_field_follows_each_request_s_variables(
    api: Api, register: str, spacing: str
) -> None:
    query = CONDITIONAL % spacing
    for shown in (True, False, True):
        body = await api.query(query, {"shown": shown})
        nodes = [edge["node"] for edge in body["data"]["personsInRange"]["edges"]]
        assert nodes and all(("firstNames" in node) is shown for node in nodes), (shown, body)
