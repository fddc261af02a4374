"""Samordningsnummer in the local register: never listed, found, answered or related.

The register may hold coordination-number holders as delivered; only a lookup at
Skatteverket shows one. The rule lives in the views (as protection does), so every query
that reads them holds it: these tests go through the API's lists, search, lookup and both
ways of reading relations.
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from tests import factories
from tests.conftest import Api

BORN = dt.date(1975, 4, 12)
NODE = "personnummer relations { personnummer person { personnummer } }"
RANGE = f"""query ($from: String!, $to: String!) {{
  personsInRange(from: $from, to: $to) {{ edges {{ node {{ {NODE} }} }} }} }}"""
SEARCH = f"""query ($last: String!) {{
  searchPersons(lastName: $last) {{ edges {{ node {{ {NODE} }} }} }} }}"""
LOOKUP = f"""query ($pnr: String!) {{ person(personnummer: $pnr) {{
  __typename ... on Person {{ {NODE} }} }} }}"""


async def register(pool: asyncpg.Pool) -> tuple[str, str, str]:
    """An ordinary person married to a samordningsnummer holder in the register, with a
    child whose samordningsnummer the register does not hold and a mother it does not
    hold (a relation that is shown); the register's two are both named Lindqvist.

    Returns the ordinary person's, the spouse's and the mother's numbers."""
    ordinary = await factories.person(pool, born=BORN, last_name="Lindqvist")
    spouse = factories.number(BORN, male=True, coordination=True)
    await factories.person(pool, personnummer=spouse, male=True, last_name="Lindqvist")
    mother = factories.number(dt.date(1950, 1, 1))
    await factories.relate(pool, ordinary, "M", spouse)
    await factories.relate(
        pool, ordinary, "B", factories.number(dt.date(2012, 6, 1), coordination=True)
    )
    await factories.relate(pool, ordinary, "MO", mother)
    return ordinary, spouse, mother


def shown(body: dict) -> list[str]:
    assert "errors" not in body, body
    root = next(iter(body["data"].values()))
    nodes = [edge["node"] for edge in root["edges"]] if "edges" in root else [root]
    return [node["personnummer"] for node in nodes] + [
        relation["personnummer"] for node in nodes for relation in node["relations"]
    ]


async def test_the_views_leave_samordningsnummer_out(clean_db: asyncpg.Pool) -> None:
    ordinary, _, mother = await register(clean_db)
    listed = await clean_db.fetch("SELECT personnummer FROM visible_person")
    assert [row["personnummer"] for row in listed] == [ordinary]
    for view in ("visible_relation", "visible_relation_person"):
        related = await clean_db.fetch(
            f"SELECT related_personnummer FROM {view} "
            "WHERE person_id = (SELECT id FROM person WHERE personnummer = $1)",
            ordinary,
        )
        assert [row["related_personnummer"] for row in related] == [mother], view


async def test_interval_search_and_relations_never_show_one(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    ordinary, _, mother = await register(clean_db)
    everyone = {"from": "19000101-0000", "to": "20991231-9999"}
    assert shown(await api.query(RANGE, everyone)) == [ordinary, mother]
    assert shown(await api.query(SEARCH, {"last": "Lindqvist"})) == [ordinary, mother]
    assert shown(await api.query(LOOKUP, {"pnr": ordinary})) == [ordinary, mother]


async def test_a_holder_in_the_register_is_never_answered_from_it(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    _, spouse, _ = await register(clean_db)
    found = (await api.query(LOOKUP, {"pnr": spouse}))["data"]["person"]
    assert found["__typename"] == "PersonNotFound"
