"""Every GraphQL query and mutation in the docs runs against the demo register and finds
what it says.

The examples are read from README.md and docs/*.md (``api/examples.py``, which GraphiQL's
example tabs read too), so a new one is checked as soon as it is written. An HTML comment
just above an example (``<!-- example: {...} -->``; the convention is described in
docs/queries.md) says what it runs with and what it must find: the check lives beside the
text it checks. The register is the one ``vastfolket serve`` loads on first run (the
default size and seed, drawn as of today, imported from its Navet files), with the
Skatteverket simulator as its fallback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from api.auth import mint_dev_token
from api.examples import Example, doc_examples, filled
from api.settings import Settings
from resolvers.db import create_pool
from resolvers.dev import demo
from resolvers.dev.skatteverket.simulator import RunningSimulator
from resolvers.domain.access import Tier
from tests.conftest import Api, _fresh_database
from tests.test_skatteverket import serving

MISSING = object()
DATABASE = "vastfolket_docs"
# Queries and mutations (a subscription needs a WebSocket: tests/test_graphiql_offline.py
# runs the docs' one in the browser).
EXAMPLES = [example for example in doc_examples() if example.is_query or example.is_mutation]


def demo_filled(value: Any, numbers: dict[str, list[str]]) -> Any:
    """``value`` with each ``<kind>`` replaced by the first demo number of that kind."""
    return filled(value, lambda kind: numbers[kind][0])


def mismatches(expected: Any, actual: Any, path: str = "data") -> list[str]:
    """Where ``actual`` differs from ``expected``: objects by the keys expected, lists by
    their first items (``[]``: empty), anything else by value."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        return [
            problem
            for key, value in expected.items()
            for problem in mismatches(value, actual.get(key, MISSING), f"{path}.{key}")
        ]
    if isinstance(expected, list):
        short = not isinstance(actual, list) or len(actual) < len(expected)
        if short or (expected == [] and actual != []):
            return [f"{path}: expected {len(expected)} items or more ([] none), got {actual!r}"]
        return [
            problem
            for index, (item, got) in enumerate(zip(expected, actual, strict=False))
            for problem in mismatches(item, got, f"{path}[{index}]")
        ]
    return [] if expected == actual else [f"{path}: expected {expected!r}, got {actual!r}"]


def finds_nothing(data: Any, path: str = "data") -> list[str]:
    """Without an expectation, an example must find someone: no empty page, no miss."""
    if isinstance(data, list):
        parts = [(f"{path}[{index}]", item) for index, item in enumerate(data)]
    elif isinstance(data, dict):
        parts = [(f"{path}.{key}", item) for key, item in data.items()]
    else:
        return []
    problems = []
    if isinstance(data, dict) and data.get("__typename") == "PersonNotFound":
        problems.append(f"{path}: nobody found")
    if isinstance(data, dict) and data.get("edges") == []:
        problems.append(f"{path}.edges: empty")
    return problems + [problem for where, item in parts for problem in finds_nothing(item, where)]


@dataclass
class DemoApi:
    api: Api  # over the demo register
    numbers: dict[str, list[str]]

    async def ask(self, example: Example, query: str, variables: dict[str, Any]) -> dict:
        tier = Tier[example.marker.get("tier", "RELATIONS")]
        token = mint_dev_token(
            self.api.settings, subject="docs", tier=tier, roles=example.marker.get("roles"),
            organisation=example.marker.get("organisation"),
        )  # fmt: skip
        request = {"query": query, "variables": variables}
        response = await self.api.client.post(
            "/graphql",
            json=demo_filled(request, self.numbers),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, (example.where, response.text)
        body = dict(response.json())
        assert "errors" not in body, (example.where, variables, body)
        return body


@pytest.fixture(scope="module")
async def demo_register(
    server_uri: str, settings: Settings
) -> AsyncIterator[tuple[asyncpg.Pool, dict[str, list[str]]]]:
    """The demo register, loaded once for the module: its pool and example numbers."""
    url = await _fresh_database(server_uri, DATABASE)
    connection = await asyncpg.connect(url)
    try:
        size = Settings(data_dir=settings.data_dir).demo_register_size
        files = demo.files_directory(settings.data_dir / "docs-examples")
        await demo.fill(connection, demo.write_files(size, 1, dt.date.today(), files))
        numbers = await demo.examples(connection)
    finally:
        await connection.close()
    pool = await create_pool(url, min_size=1, max_size=4)
    try:
        yield pool, numbers
    finally:
        await pool.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute(f"DROP DATABASE {DATABASE} WITH (FORCE)")
        await admin.close()


@pytest.fixture(scope="module")
async def demo_api(
    demo_register: tuple[asyncpg.Pool, dict[str, list[str]]],
    settings: Settings,
    simulator: RunningSimulator,
    engine: str,
) -> AsyncIterator[DemoApi]:
    pool, numbers = demo_register
    served = Settings(data_dir=settings.data_dir, skatteverket_url=simulator.url, engine=engine)
    async for api in serving(served, pool):
        yield DemoApi(api, numbers)


def test_the_docs_hold_examples_with_markers() -> None:
    """The reader above sees the docs' examples (a moved fence would hide them all)."""
    assert len(EXAMPLES) >= 4
    assert sum(bool(example.marker) for example in EXAMPLES) >= 3


def test_the_checks_see_a_miss() -> None:
    """A missing key is not null, a list gives its first items, [] means empty."""
    assert mismatches({"a": None}, {}) == ["data.a: expected None, got " + repr(MISSING)]
    assert mismatches({"a": [{}, {}]}, {"a": [{}, {}, {}]}) == []
    assert mismatches({"a": [{}, {}]}, {"a": [{}]}) != []
    assert mismatches({"a": []}, {"a": [{}]}) != []
    assert finds_nothing({"p": {"__typename": "PersonNotFound"}, "q": {"edges": []}}) == [
        "data.p: nobody found",
        "data.q.edges: empty",
    ]


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.where for example in EXAMPLES])
async def test_doc_example_finds_what_the_text_says(demo_api: DemoApi, example: Example) -> None:
    for query in example.marker.get("given", []):
        await demo_api.ask(example, query, {})
    for run in example.runs:
        body = await demo_api.ask(example, example.query, run.get("variables", {}))
        if "expect" in run:
            problems = mismatches(demo_filled(run["expect"], demo_api.numbers), body["data"])
        else:
            problems = finds_nothing(body["data"])
        assert problems == [], (example.where, run.get("variables"), problems)
