"""One failing lookup does not null the others: the root lookups are nullable, so a
failure nulls its own field, with its error and code at its path, and the rest of the
answer stands (and is logged). An expected outcome — no such person — is data."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from resolvers.dev.skatteverket import sim_data
from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api
from tests.upstream import Upstream

MIXED = """
query Mixed($good: String!, $malformed: String!, $far: String!) {
  good: person(personnummer: $good) { __typename ... on Person { lastName } }
  malformed: person(personnummer: $malformed) { __typename }
  far: person(personnummer: $far) { __typename ... on Person { lastName } }
  inRange: personsInRange(from: "19991231-0000", to: "000101-9999") { edges { cursor } }
  viewer { subject }
}
"""
FOUND_AND_NOT = """
query ($good: String!, $unknown: String!) {
  good: person(personnummer: $good) { __typename }
  unknown: person(personnummer: $unknown) { __typename ... on PersonNotFound { personnummer } }
}
"""


@pytest.fixture
async def api(
    settings: Settings, engine: str, clean_db: asyncpg.Pool, upstream: Upstream
) -> AsyncIterator[Api]:
    """The app with the Skatteverket simulator as its fallback, started and called over ASGI."""
    with_fallback = settings.model_copy(
        update={"engine": engine, "skatteverket_url": upstream.url,
                "skatteverket_timeout_seconds": 0.5}
    )  # fmt: skip
    app = create_app(with_fallback, pool=clean_db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, with_fallback)


async def test_failing_lookups_null_only_their_own_fields(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    good = await factories.person(clean_db, last_name="Lokal")
    upstream.knobs(error_rate=1)  # Skatteverket answers every call with an error
    variables = {"good": good, "malformed": "19801332-0000",
                 "far": upstream.number(sim_data.OUTSIDE_REGION)}  # fmt: skip
    requests = []
    for accept in ("application/json", "application/graphql-response+json"):
        response = await api.client.post(
            "/graphql", json={"query": MIXED, "variables": variables},
            headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}", "Accept": accept},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        requests.append(response.headers["x-request-id"])
        body = response.json()
        assert body["data"] == {
            "good": {"__typename": "Person", "lastName": "Lokal"},
            "malformed": None,
            "far": None,
            "inRange": None,
            "viewer": {"subject": "tester"},
        }
        codes = {error["path"][0]: error["extensions"]["code"] for error in body["errors"]}
        assert codes == {
            "malformed": "BAD_USER_INPUT",
            "far": "UPSTREAM_UNAVAILABLE",
            "inRange": "BAD_USER_INPUT",  # bounds read in different centuries
        }
        assert all(len(error["path"]) == 1 for error in body["errors"])
    shown = await clean_db.fetch(
        "SELECT kind, personnummer FROM access_log WHERE request_id = ANY($1)", requests
    )
    assert [(row["kind"], row["personnummer"]) for row in shown] == [("SEEN", good)] * 2


async def test_no_such_person_is_data_beside_a_person_found(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    good = await factories.person(clean_db)
    unknown = factories.number()
    body = await api.query(FOUND_AND_NOT, {"good": good, "unknown": unknown}, tier=Tier.BASIC)
    assert body == {
        "data": {
            "good": {"__typename": "Person"},
            "unknown": {"__typename": "PersonNotFound", "personnummer": unknown},
        }
    }
