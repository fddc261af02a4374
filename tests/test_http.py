"""The HTTP surface: tokens, health, GraphiQL and errors that never leak internals."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import quote

import asyncpg
import httpx
import jwt
import pytest

from api.app import create_app
from api.settings import Settings
from resolvers.db import create_pool
from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api

VIEWER = {"query": "{ viewer { subject } }"}


def assert_unauthenticated(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_missing_token_is_refused(client: httpx.AsyncClient) -> None:
    assert_unauthenticated(await client.post("/graphql", json=VIEWER))
    assert_unauthenticated(await client.get("/graphql", params=VIEWER))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer not.a.token", "x"])
async def test_malformed_authorization_is_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.post("/graphql", json=VIEWER, headers={"Authorization": header})
    assert_unauthenticated(response)


async def test_expired_and_foreign_tokens_are_refused(api: Api) -> None:
    expired = api.token(Tier.BASIC, ttl_seconds=-120)
    stranger = jwt.encode(
        {"sub": "x", "tier": "BASIC", "iss": "vastfolket-dev", "aud": "vastfolket-api",
         "exp": int(time.time()) + 60},
        "a shared secret that must never be accepted",
        algorithm="HS256",
    )  # fmt: skip
    for token in (expired, stranger):
        response = await api.client.post(
            "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {token}"}
        )
        assert_unauthenticated(response)


async def test_token_without_known_tier_is_refused(api: Api, settings: Settings) -> None:
    from api.auth import mint_dev_token

    token = mint_dev_token(settings, subject="x", tier=Tier.BASIC)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["tier"] == "BASIC"
    tampered = token.split(".")
    tampered[1] = jwt.utils.base64url_encode(
        jwt.utils.force_bytes('{"sub":"x","tier":"GOD"}')
    ).decode()
    response = await api.client.post(
        "/graphql", json=VIEWER, headers={"Authorization": f"Bearer {'.'.join(tampered)}"}
    )
    assert_unauthenticated(response)


async def test_health_and_readiness(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_graphiql_page_opens_without_token_and_explains_the_header(
    client: httpx.AsyncClient, clean_db: asyncpg.Pool
) -> None:
    await factories.person(clean_db)
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()
    assert '{"Authorization": "Bearer &lt;token&gt;"}' in response.text or (
        '{"Authorization": "Bearer <token>"}' in response.text
    )
    assert "vastfolket token --tier RELATIONS" in response.text


async def test_syntax_and_validation_errors_have_codes(api: Api) -> None:
    broken = await api.query("{ person(personnummer: ")
    assert broken["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    unknown = await api.query("{ nosuchfield }")
    assert unknown["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    wrong_variable = await api.query(
        "query ($p: String!) { person(personnummer: $p) { __typename } }", {"p": 42}
    )
    assert wrong_variable["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # What a phase found decides the code, not how graphql-core words its message.
    unused = await api.query("query ($p: String) { viewer { subject } }")
    assert unused["errors"][0]["message"].startswith("Variable ")
    assert unused["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    paged = "query ($n: Int = 5) { personsInRange(from: $f, to: $t, first: $n) { __typename } }"
    paged = paged.replace("query ($n", "query ($f: String!, $t: String!, $n")
    explicit_null = await api.query(paged, {"f": "19000101-0000", "t": "19000101-0000", "n": None})
    assert explicit_null["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for operation in ("Other", None):
        request = await api.client.post(
            "/graphql",
            json={"query": "query A { viewer { subject } } query B { viewer { tier } }",
                  "operationName": operation},
            headers={"Authorization": f"Bearer {api.token()}"},
        )  # fmt: skip
        assert request.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_database_failure_is_masked_with_a_request_id(
    settings: Settings, database_url: str, engine: str
) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    await pool.close()
    app = create_app(settings.model_copy(update={"engine": engine}), pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        api = Api(client, settings)
        response = await api.post('{ person(personnummer: "191212121212") { __typename } }')
        assert response.status_code == 200
        [error] = response.json()["errors"]
        request_id = response.headers["x-request-id"]
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
        assert "pool" not in error["message"].lower()
        assert (await client.get("/readyz")).status_code == 503


async def test_a_remembered_token_is_refused_once_it_expires(
    settings: Settings, pool: asyncpg.Pool
) -> None:
    strict = settings.model_copy(update={"jwt_leeway_seconds": 0})
    app = create_app(strict, pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        token = Api(client, strict).token(Tier.BASIC, ttl_seconds=2)
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.post("/graphql", json=VIEWER, headers=headers)).status_code == 200
        await asyncio.sleep(2.1)
        assert_unauthenticated(await client.post("/graphql", json=VIEWER, headers=headers))


@pytest.mark.parametrize(
    "body",
    [b'{"query": "{ viewer { subject } }"', b"[]", b'{"variables": {}}', b'{"query": ""}',
     b'{"query": "{ viewer { subject } }", "variables": [1]}'],
)  # fmt: skip
async def test_a_malformed_request_is_a_client_error_with_a_code(api: Api, body: bytes) -> None:
    response = await api.client.post(
        "/graphql",
        content=body,
        headers={
            "Authorization": f"Bearer {api.token(Tier.BASIC)}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}


async def test_queries_may_be_sent_with_get(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "query ($x: Boolean!) { viewer { subject @include(if: $x) } }",
                "variables": '{"x": true}'},
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"},
    )  # fmt: skip
    assert response.json() == {"data": {"viewer": {"subject": "tester"}}}


async def test_head_runs_no_lookup_and_logs_nothing(api: Api, clean_db: asyncpg.Pool) -> None:
    """A HEAD answer has no body: running the lookup would log a person as shown."""
    number = await factories.person(clean_db, last_name="Ek")
    query = f'{{ person(personnummer: "{number}") {{ ... on Person {{ lastName }} }} }}'
    headers = {"Authorization": f"Bearer {api.token()}", "X-Request-ID": "head-lookup"}
    for response in (
        await api.client.request("HEAD", "/graphql", params={"query": query}, headers=headers),
        await api.client.request("HEAD", "/graphql", json={"query": query}, headers=headers),
        await api.client.request("HEAD", "/graphql"),
    ):
        assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
    logged = await clean_db.fetchval(
        "SELECT count(*) FROM access_log WHERE request_id = 'head-lookup'"
    )
    assert logged == 0


async def test_get_parameters_are_read_as_utf8(api: Api, clean_db: asyncpg.Pool) -> None:
    await factories.person(clean_db, last_name="Öberg")
    query = '{ searchPersons(lastName: "Öberg") { edges { node { lastName } } } }'
    response = await api.client.get(
        "/graphql?query=" + quote(query, safe=""),  # Ö as %C3%96
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"},
    )
    assert response.json() == {
        "data": {"searchPersons": {"edges": [{"node": {"lastName": "Öberg"}}]}}
    }


@pytest.mark.parametrize("escaped", ["%D6berg", "%C3berg", "%ED%A0%80berg"])
async def test_get_parameters_that_are_not_utf8_are_refused(api: Api, escaped: str) -> None:
    query = (
        quote('{ searchPersons(lastName: "', safe="")
        + escaped
        + quote('") { edges { cursor } } }', safe="")
    )
    response = await api.client.get(
        f"/graphql?query={query}", headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert "UTF-8" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("given", ["ê1", "٣٣", "abc\u200bdef", "a b"])
async def test_a_request_id_that_is_not_plain_ascii_is_replaced(api: Api, given: str) -> None:
    response = await api.client.post(
        "/graphql",
        json={"query": "{ viewer { subject } }"},
        headers={
            "Authorization": f"Bearer {api.token(Tier.BASIC)}",
            "X-Request-ID": given.encode(),
        },
    )
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), response.headers
