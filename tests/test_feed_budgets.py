"""Guards for the feed's speed: the statements a page sends, whatever it holds."""

from __future__ import annotations

import asyncpg

from resolvers.domain.access import Tier
from tests.conftest import Api, StatementLog
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, record

NUMBERS = "{ changes(first: 1000) { edges { node { personnummer kind } } } }"
PERSONS = """
{ changes(first: 1000) { edges { node { personnummer kind
    person { firstNames lastName registeredAddress { line2 postalCode postalTown } } } } } }
"""


async def _statements(api: Api, log: StatementLog, query: str) -> tuple[int, dict]:
    token = api.token(Tier.BASIC, roles=["feed"])
    log.clear()
    response = await api.client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    body = response.json()
    assert "errors" not in body, body
    return len(log), body["data"]["changes"]


async def test_a_page_reads_its_persons_in_one_statement_and_none_unasked(
    register: asyncpg.Pool, database_url: str, api: Api, statement_log: StatementLog
) -> None:
    few = [number() for _ in range(2)]
    await apply(database_url, full_extract(*(record(n, i) for i, n in enumerate(few, 1))))
    numbers_only, _ = await _statements(api, statement_log, NUMBERS)
    with_persons, page = await _statements(api, statement_log, PERSONS)
    assert with_persons == numbers_only + 1
    assert [edge["node"]["person"]["lastName"] for edge in page["edges"]] == ["Svensson"] * 2

    # Many more events, and a person in several of them: the same statements.
    many = [number() for _ in range(30)]
    await apply(database_url, changes(*(record(n, i) for i, n in enumerate(many, 10))))
    again = changes(*(record(n, 100 + i, names=names(last="Ek")) for i, n in enumerate(few)))
    await apply(database_url, again)
    assert (await _statements(api, statement_log, NUMBERS))[0] == numbers_only
    count, page = await _statements(api, statement_log, PERSONS)
    assert count == with_persons
    nodes = [edge["node"] for edge in page["edges"]]
    assert len(nodes) == 2 + 30 + 2
    # Each event shows the person as they are now: the first two persons' names changed.
    assert [n["person"]["lastName"] for n in nodes if n["personnummer"] in few] == ["Ek"] * 4
