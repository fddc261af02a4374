"""Read and write pools: lookups read from the replica's pool, the access log is written
(and searched) on the primary's. Both pools reach the test server, each with a query
logger of its own, so where each statement went is seen, not assumed."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.pools import open_database
from api.settings import Settings
from api.startup import StartupError, check_serve
from resolvers.audit import access_log
from resolvers.db import create_pool
from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api, StatementLog
from tests.running import free_port

LOOKUP = """
query ($p: String!) {
  person(personnummer: $p) {
    __typename
    ... on Person { lastName spouse { person { lastName } } children { person { lastName } } }
  }
}
"""
BASIC_LOOKUP = "query ($p: String!) { person(personnummer: $p) { __typename } }"
PAGE = """
{ personsInRange(from: "19000101-0000", to: "20991231-9999", first: 10) {
    edges { node { lastName spouse { person { lastName } } } } } }
"""
SEARCH = '{ searchPersons(lastName: "Ek") { edges { node { lastName } } } }'
AUDIT = "query ($p: String) { accessLog(personnummer: $p) { edges { node { kind } } } }"


def logging_to(log: StatementLog) -> Callable[[asyncpg.Connection], Awaitable[None]]:
    async def init(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(log)

    return init


@dataclass
class Pools:
    """A primary's pool and a replica's pool, both to the test database, logged apart."""

    primary: asyncpg.Pool
    replica: asyncpg.Pool
    written: StatementLog
    read: StatementLog

    def clear(self) -> None:
        self.written.clear()
        self.read.clear()


@pytest.fixture
async def pools(database_url: str) -> AsyncIterator[Pools]:
    written, read = StatementLog(), StatementLog()
    primary = await create_pool(database_url, min_size=1, max_size=2, init=logging_to(written))
    replica = await create_pool(
        database_url, min_size=1, max_size=2, init=logging_to(read), read_only=True
    )
    yield Pools(primary, replica, written, read)
    await replica.close()
    await primary.close()


@pytest.fixture
async def family(clean_db: asyncpg.Pool) -> dict[str, str]:
    mother = await factories.person(clean_db, last_name="Ek", civil_status="G")
    father = await factories.person(clean_db, male=True, last_name="Ek", civil_status="G")
    child = await factories.person(clean_db, born=dt.date(2016, 2, 2), last_name="Ek")
    hidden = await factories.person(clean_db, last_name="Dold", protection="SEKRETESSMARKERING")
    await factories.relate(clean_db, mother, "M", father)
    await factories.relate(clean_db, mother, "B", child)
    return {"mother": mother, "father": father, "child": child, "hidden": hidden}


async def serving(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def split(settings: Settings, pools: Pools) -> AsyncIterator[Api]:
    """The app on the two pools."""
    async for client in serving(create_app(settings, pool=pools.primary, read_pool=pools.replica)):
        yield Api(client, settings)


def writes(log: StatementLog) -> list[str]:
    return [sql for sql in log.statements if re.search(r"\b(INSERT|UPDATE|DELETE)\b", sql)]


async def test_lookups_read_the_replica_and_the_log_is_written_on_the_primary(
    split: Api, pools: Pools, family: dict[str, str]
) -> None:
    requests = [
        (LOOKUP, {"p": family["mother"]}, Tier.RELATIONS),  # the person and relations joined
        (BASIC_LOOKUP, {"p": family["child"]}, Tier.BASIC),  # through the DataLoader
        (BASIC_LOOKUP, {"p": family["hidden"]}, Tier.BASIC),  # the protection check
        (PAGE, None, Tier.RELATIONS),  # a page, its relations loaded ahead
        (SEARCH, None, Tier.BASIC),
    ]
    for query, variables, tier in requests:
        pools.clear()
        answer = await split.query(query, variables, tier=tier)
        assert "errors" not in answer, answer
        # What was shown was read on the replica, in as many statements as on one pool;
        # the primary wrote its log entry, in one statement, and did nothing else.
        assert pools.read.statements and writes(pools.read) == [], pools.read.statements
        assert pools.written.statements == [access_log.WRITE], pools.written.statements
        if query is LOOKUP:
            assert len(pools.read) == 1  # the statement budget of a lookup with relations
    assert answer["data"]["searchPersons"]["edges"]


async def test_the_access_log_is_searched_on_the_primary(
    settings: Settings, split: Api, pools: Pools, family: dict[str, str]
) -> None:
    """Auditors see what was just written: a replica may not have replayed it yet."""
    await split.query(BASIC_LOOKUP, {"p": family["father"]}, tier=Tier.BASIC)
    pools.clear()
    auditor = split.token(Tier.BASIC, roles=["audit"])
    response = await split.client.post(
        "/graphql",
        json={"query": AUDIT, "variables": {"p": family["father"]}},
        headers={"Authorization": f"Bearer {auditor}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["accessLog"]["edges"][0]["node"]["kind"] == "SEEN"
    assert pools.read.statements == []
    assert [sql for sql in pools.written.statements if "FROM access_log" in sql]
    assert pools.written.statements[-1] == access_log.WRITE  # the search, logged


async def test_readiness_checks_both_pools(split: Api) -> None:
    ready = await split.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "replica": "ok"}


@pytest.fixture
async def down(settings: Settings, pools: Pools) -> AsyncIterator[Api]:
    """The app with its replica down: nothing listens where its URL points."""
    gone = await create_pool(f"postgresql://127.0.0.1:{free_port()}/x", min_size=0, read_only=True)
    try:
        async for client in serving(create_app(settings, pool=pools.primary, read_pool=gone)):
            yield Api(client, settings)
    finally:
        await gone.close()


async def test_a_replica_that_is_down_is_an_outage_like_the_primary(
    down: Api, pools: Pools, family: dict[str, str]
) -> None:
    lookup = await down.post(BASIC_LOOKUP, {"p": family["mother"]}, tier=Tier.BASIC)
    assert lookup.status_code == 503 and lookup.headers["retry-after"]
    assert lookup.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    assert pools.written.statements == []  # nothing was shown, so nothing logged
    ready = await down.client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "ok", "replica": "unreachable"}
    # The log lives on the primary: auditors can still search it.
    auditor = down.token(Tier.BASIC, roles=["audit"])
    audit = await down.client.post(
        "/graphql", json={"query": AUDIT}, headers={"Authorization": f"Bearer {auditor}"}
    )
    assert audit.status_code == 200 and audit.json()["data"]["accessLog"]["edges"], audit.text


async def test_the_api_opens_a_read_only_replica_pool_only_when_one_is_named(
    settings: Settings, database_url: str
) -> None:
    alone = await open_database(settings.model_copy(update={"database_url": database_url}))
    try:
        assert alone.read is alone.write and alone.replica is None
    finally:
        await alone.close()
    named = settings.model_copy(
        update={"database_url": database_url, "database_replica_url": database_url}
    )
    both = await open_database(named)
    try:
        assert both.read is not both.write
        assert await both.write.fetchval("SHOW default_transaction_read_only") == "off"
        # A write sent to the read pool fails there, as on a hot standby, even though
        # this "replica" is the primary itself.
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await both.read.execute("CREATE TABLE never (id int)")
    finally:
        await both.close()


def test_a_replica_needs_its_primary(settings: Settings) -> None:
    lone = settings.model_copy(update={"database_replica_url": "postgresql://replica/db"})
    with pytest.raises(StartupError, match=r"VASTFOLKET_DATABASE_REPLICA_URL.*DATABASE_URL"):
        check_serve(lone, "127.0.0.1", free_port())
