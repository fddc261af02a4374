"""Failures outside the resolvers: JSON errors with codes, details only in the (JSON) log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import create_app
from api.settings import Settings
from tests import factories
from tests.conftest import Api

SECRET_DETAIL = "connection to 10.0.0.7:5432 refused for user vastfolket_rw"


async def failing(request: Request) -> Response:
    raise RuntimeError(SECRET_DETAIL)


@pytest.fixture
async def json_logged_app(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Starlette]:
    """The real app, logging JSON lines, with one extra route that fails."""
    app = create_app(settings.model_copy(update={"log_format": "json"}), pool=pool)
    app.router.routes.append(Route("/failing", failing))
    yield app
    create_app(settings, pool=pool)  # back to the default log format for later tests


async def test_an_unexpected_exception_becomes_a_json_error_with_the_request_id(
    json_logged_app: Starlette, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.ASGITransport(app=json_logged_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/failing", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-42"
    assert response.json() == {
        "errors": [
            {
                "message": "Internal server error (request id req-42).",
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-42"},
            }
        ]
    }
    assert SECRET_DETAIL not in response.text and "Traceback" not in response.text
    [line] = [line for line in capsys.readouterr().err.splitlines() if "req-42" in line]
    record = json.loads(line)
    assert record["level"] == "ERROR"
    assert record["logger"] == "vastfolket.errors"
    assert record["request_id"] == "req-42"
    assert record["message"] == "unexpected error serving GET /failing"
    assert SECRET_DETAIL in record["exc_info"] and "Traceback" in record["exc_info"]
    assert record["time"]


async def test_resolver_errors_are_logged_as_json_with_the_request_id(
    settings: Settings, database_url: str, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    from resolvers.db import create_pool

    closed = await create_pool(database_url, min_size=1, max_size=1)
    await closed.close()
    changes = {"log_format": "json", "engine": engine}
    app = create_app(settings.model_copy(update=changes), pool=closed)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await Api(client, settings).post(
                '{ person(personnummer: "191212121212") { __typename } }'
            )
    finally:
        create_app(settings, pool=closed)
    request_id = response.headers["x-request-id"]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if "{" in line]
    [record] = [record for record in lines if record.get("request_id") == request_id]
    assert record["level"] == "ERROR" and "pool is closed" in record["exc_info"].lower()


async def test_unknown_paths_and_methods_answer_json_with_a_code(
    client: httpx.AsyncClient,
) -> None:
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["extensions"] == {"code": "NOT_FOUND"}
    put = await client.put("/graphql", json={"query": "{ viewer { subject } }"})
    assert put.status_code == 405
    assert put.json()["errors"][0]["extensions"] == {"code": "METHOD_NOT_ALLOWED"}
    assert set(put.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}


async def test_graphiql_shows_no_number_from_a_production_register(
    settings: Settings, clean_db: asyncpg.Pool
) -> None:
    """The page needs no token: a server with real keys shows Skatteverket's test number."""
    adult = await factories.person(clean_db, born=dt.date(1975, 3, 3))
    # Real keys, and any document (GraphiQL's own), as a production-like trial server has.
    keys = {"jwt_public_keys": settings.public_keys_path, "documents": "any"}
    production = settings.model_copy(update=keys)
    app = create_app(production, pool=clean_db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/graphql")
    assert page.status_code == 200
    assert '"121212+1212"' in page.text
    assert adult[2:8] not in page.text
