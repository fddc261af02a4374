"""PostgreSQL stopped under load, through the real server: an outage is a 503 with a code
and Retry-After, a few log lines, and over as soon as the database is back."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.auth import mint_dev_token
from api.database import ensure_database
from api.settings import Settings
from resolvers.domain.access import Tier
from tests.conftest import counted
from tests.load import Answer, Load
from tests.running import Cluster, Server, fresh_env
from tests.subscribing import connected

PAGE = '{ personsInRange(from: "190001010000", to: "209912310000", first: 5) { edges { node {'
PAGE += " personnummer lastName } } } }"
LOOKUP = "query ($p: String!) { person(personnummer: $p) { ... on Person { lastName } } }"
# A lookup beside a field that needs no database: refused whole all the same, never a
# null beside the viewer (that would read as no such person).
MIXED = "query ($p: String!) { viewer { subject } a: person(personnummer: $p) { __typename } }"
SEARCH = "query ($n: String!) { searchPersons(lastName: $n) { edges { node { lastName } } } }"
LOG = "query ($p: String) { accessLog(personnummer: $p, first: 3) { edges { node { kind } } } }"


@dataclass
class Outage:
    answers: list[Answer]
    down: float  # PostgreSQL stopped (pg_ctl returned)
    starting: float  # asked to start again
    up: float  # started
    recovered: float  # every kind of request answered in full again
    graphiql: httpx.Response  # its first page, asked for during the outage
    subscribed: dict[str, Any]  # the answer to a subscription begun during it
    metrics: str  # after it
    log: str


def _requests(base: str, data_dir: Path) -> dict:
    settings = Settings(data_dir=data_dir)
    official = {"Authorization": "Bearer " + mint_dev_token(settings, subject="o", tier=Tier.BASIC)}
    auditor = mint_dev_token(settings, subject="a", tier=Tier.BASIC, roles=["audit"])
    page = httpx.post(f"{base}/graphql", json={"query": PAGE}, headers=official).json()
    person = page["data"]["personsInRange"]["edges"][0]["node"]

    def graphql(query: str, variables: dict, headers: dict) -> object:
        body = {"query": query, "variables": variables}
        return lambda client: client.post("/graphql", json=body, headers=headers)

    number = {"p": person["personnummer"]}
    return {
        "page": graphql(PAGE, {}, official),
        "lookup": graphql(LOOKUP, number, official),
        "mixed": graphql(MIXED, number, official),
        "search": graphql(SEARCH, {"n": person["lastName"]}, official),
        "access log": graphql(LOG, number, {"Authorization": f"Bearer {auditor}"}),
        "readyz": lambda client: client.get("/readyz"),
    }


async def _subscribed(server: Server, data_dir: Path) -> dict[str, Any]:
    """A follower's first message to ``subscription { changes }``."""
    settings = Settings(data_dir=data_dir)
    token = mint_dev_token(settings, subject="f", tier=Tier.BASIC, roles=["feed"])
    async with connected(server) as follower:
        assert await follower.init({"token": token}) == {"type": "connection_ack"}
        await follower.subscribe("1", "subscription { changes { personnummer } }")
        return await follower.receive(timeout=20)


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Outage:
    """Load on a real server; its PostgreSQL stopped for 1.5 s and started again."""
    root = tmp_path_factory.mktemp("outage")
    cluster = Cluster(root / "pg")
    try:
        url = asyncio.run(ensure_database(cluster.uri, "vastfolket"))
        env = fresh_env(root / "data", DATABASE_URL=url, VASTFOLKET_DEMO_PERSONS="200")
        served = Server.serve(env)
    except BaseException:
        cluster.close()
        raise
    try:
        with Load(served.base, _requests(served.base, root / "data")) as load:
            load.wait_until_all_ok(since=0)
            cluster.stop()
            down = time.monotonic()
            # The page reads its example number from the register once, the first time.
            graphiql = httpx.get(f"{served.base}/graphql", headers={"Accept": "text/html"})
            subscribed = asyncio.run(_subscribed(served, root / "data"))
            time.sleep(1.5)
            starting = time.monotonic()
            cluster.start()
            up = time.monotonic()
            recovered = load.wait_until_all_ok(since=up)
            time.sleep(0.5)  # and it stays so
        metrics = httpx.get(f"{served.base}/metrics").text
    finally:
        assert served.stop() == 0, served.output
        cluster.close()
    return Outage(
        load.answers, down, starting, up, recovered, graphiql, subscribed, metrics, served.output
    )


def test_a_database_outage_is_a_503_with_its_own_code_and_retry_after(outage: Outage) -> None:
    during = [a for a in outage.answers if outage.down <= a.sent and a.done <= outage.starting]
    kinds = {a.kind for a in during}
    assert kinds == {"page", "lookup", "mixed", "search", "access log", "readyz"}, kinds
    for answer in during:
        assert answer.status == 503, answer
        assert answer.headers["retry-after"].isdigit(), answer
        if answer.kind != "readyz":
            assert answer.code == "DATABASE_UNAVAILABLE", answer
    assert outage.graphiql.status_code == 503 and outage.graphiql.headers["retry-after"]
    assert outage.graphiql.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
    # Never an answer that hides the outage (200 with an error) or calls it a bug (500).
    for answer in outage.answers:
        assert answer.code != "INTERNAL_SERVER_ERROR" and answer.status != 500, answer
        assert answer.ok or answer.status == 503, answer


def test_a_subscription_begun_during_an_outage_is_refused_with_its_code(
    outage: Outage,
) -> None:
    assert outage.subscribed["type"] == "error", outage.subscribed
    (error,) = outage.subscribed["payload"]
    assert error["extensions"]["code"] == "DATABASE_UNAVAILABLE"


def test_the_api_recovers_as_soon_as_the_database_is_back(outage: Outage) -> None:
    assert outage.recovered - outage.up < 10
    after = [a for a in outage.answers if a.sent >= outage.recovered]
    assert after and all(a.ok for a in after), [a for a in after if not a.ok][:3]


def test_an_outage_is_logged_in_a_few_lines_without_tracebacks(outage: Outage) -> None:
    failed = [a for a in outage.answers if not a.ok and a.kind != "readyz"]
    assert len(failed) > 50  # enough for a flood, had each been logged
    assert "Traceback" not in outage.log
    # and GraphiQL's page and the subscription, refused during it
    refused = sum(a.code == "DATABASE_UNAVAILABLE" for a in outage.answers) + 2
    firsts = re.findall(r"database unavailable \(request \w+\): \w+", outage.log)
    sums = [int(n) for n in re.findall(r"(\d+) requests failed: database unavailable", outage.log)]
    # Each window of 10 s: its first failure in a line; a sum if more followed.
    assert 1 <= len(firsts) <= 3 and len(sums) <= len(firsts)
    assert sum(sums) + len(firsts) - len(sums) == refused
    assert len(outage.log.splitlines()) < 60
    assert counted(outage.metrics, "vastfolket_database_unavailable_total") == refused
