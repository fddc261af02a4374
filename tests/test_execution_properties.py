"""The fast engine, its plans shared between requests, answers and logs as the stock one.

Queries come from ``hypothesis-graphql`` (valid against the published schema) and are
given variables and directives: ``@include``/``@skip`` on some selections (written the
ways GraphQL allows: ``@include``, ``@ include``, ``@#…\\ninclude``), page sizes and
personnummer from variables. Each text is sent several times through the HTTP app, with
other variables and tiers each time, so that later requests run on plans made for earlier
ones; each answer, and what it wrote to the access log, must equal what the same app on
graphql-core's stock execution (``VASTFOLKET_ENGINE=stock``) gives and writes for the same
caller on the same register.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import graphql
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from api.app import create_app
from api.settings import Settings
from resolvers.domain.access import Tier
from schema.build import build_schema
from tests import factories
from tests.conftest import Api

SCHEMA = build_schema()._schema
PROPERTIES = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WRITINGS = {"include": ["@include(", "@ include(", "@#c\ninclude("], "skip": ["@skip("]}
WRITINGS["skip"] += ["@ skip(", "@#c\nskip("]
PAGE_SIZES = [1, 2, 3, 50]


@pytest.fixture
async def register(clean_db: asyncpg.Pool) -> dict[str, list[str]]:
    """A family with a protected child, a deregistered person, one abroad, two former
    numbers: argument values."""
    mother = await factories.person(clean_db, last_name="Ek", civil_status="G")
    father = await factories.person(clean_db, male=True, last_name="Ek", civil_status="G")
    child = await factories.person(clean_db, born=dt.date(2016, 2, 2), last_name="Ek")
    hidden = await factories.person(
        clean_db, born=dt.date(2018, 3, 3), last_name="Ek", protection="SEKRETESSMARKERING"
    )
    gone = await factories.person(
        clean_db, last_name="Berg", deregistration=("AV", dt.date(2020, 1, 1)), address={}
    )
    abroad = await factories.person(clean_db, last_name="Lund", middle_name="Eriksdotter")
    await factories.add_address(clean_db, abroad, "U", line1="Rue 1", country="FRANKRIKE")
    await factories.add_address(clean_db, mother, "S", line2="Box 12", postal_code="41101")
    await factories.relate(clean_db, mother, "M", father)
    for parent in (mother, father):
        for kid in (child, hidden):
            await factories.relate(clean_db, parent, "B", kid)
            await factories.relate(clean_db, parent, "VF", kid)
    # Numbers Skatteverket replaced: by the mother's, and by the protected child's.
    former = [factories.number(dt.date(1979, 1, 1)), factories.number(dt.date(2018, 3, 4))]
    for old, current in zip(former, (mother, hidden), strict=True):
        await factories.replaced(clean_db, old, current)
    numbers = [mother, father, child, hidden, gone, abroad, *former]
    return {
        "personnummer": [*numbers, mother[2:], "191212121212"],
        "from": ["19000101-0000", "19800101-0000"],
        "to": ["20991231-9999", "20161231-9999"],
        "lastName": ["Ek", "Berg", "Lund"],
    }


def _with(node: graphql.Node, **changes: Any) -> Any:
    fields = {key: getattr(node, key) for key in node.keys if key != "loc"}
    return type(node)(**{**fields, **changes})


class Variables(graphql.Visitor):
    """Conditions on some selections, page sizes and numbers from variables."""

    def __init__(self, data: st.DataObject, values: dict[str, list[str]]) -> None:
        super().__init__()
        self.data, self.values = data, values
        self.declared: dict[str, str] = {}  # variable -> its type

    def variable(self, kind: str, type_name: str) -> graphql.VariableNode:
        name = f"{kind}{len(self.declared)}"
        self.declared[name] = type_name
        return graphql.VariableNode(name=graphql.NameNode(value=name))

    def conditioned(self, node: Any) -> Any:
        if self.data.draw(st.integers(0, 3), label="condition") != 0:
            return None
        directive = self.data.draw(st.sampled_from(["include", "skip"]), label="directive")
        argument = graphql.ArgumentNode(
            name=graphql.NameNode(value="if"), value=self.variable("c", "Boolean!")
        )
        condition = graphql.DirectiveNode(
            name=graphql.NameNode(value=directive), arguments=(argument,)
        )
        return _with(node, directives=(*(node.directives or ()), condition))

    def enter_field(self, node: graphql.FieldNode, *_: Any) -> Any:
        return self.conditioned(node)

    def enter_inline_fragment(self, node: graphql.InlineFragmentNode, *_: Any) -> Any:
        return self.conditioned(node)

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        name = node.name.value
        if name == "first" and isinstance(node.value, graphql.IntValueNode):
            return _with(node, value=self.variable("first", "Int!"))
        if name == "personnummer" and isinstance(node.value, graphql.StringValueNode):
            return _with(node, value=self.variable("number", "String!"))
        if name in self.values and isinstance(node.value, graphql.StringValueNode):
            value = self.data.draw(st.sampled_from(self.values[name]), label=name)
            return _with(node, value=graphql.StringValueNode(value=value))
        return None

    def values_for_a_request(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name in self.declared:
            if name.startswith("c"):
                values[name] = self.data.draw(st.booleans(), label=name)
            elif name.startswith("first"):
                values[name] = self.data.draw(st.sampled_from(PAGE_SIZES), label=name)
            else:
                numbers = self.values["personnummer"]
                values[name] = self.data.draw(st.sampled_from(numbers), label=name)
        return values


def declared(document: graphql.DocumentNode, variables: dict[str, str]) -> str:
    definitions = tuple(
        graphql.VariableDefinitionNode(
            variable=graphql.VariableNode(name=graphql.NameNode(value=name)),
            type=graphql.parse_type(type_name),
        )
        for name, type_name in variables.items()
    )
    [operation] = document.definitions
    return graphql.print_ast(
        _with(document, definitions=(_with(operation, variable_definitions=definitions),))
    )


@pytest.fixture(scope="module")
async def stock_api(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Api]:
    """The same app on the stock engine: the reference."""
    app = create_app(settings.model_copy(update={"engine": "stock"}), pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, settings)


async def answer(api: Api, pool: asyncpg.Pool, text: str, variables: dict, tier: Tier) -> Any:
    """The answer as a caller reads it (errors in a stable order), and what it logged."""
    request_id = uuid.uuid4().hex
    if tier not in api.tokens:
        api.tokens[tier] = api.token(tier)
    headers = {"Authorization": f"Bearer {api.tokens[tier]}", "X-Request-ID": request_id}
    response = await api.client.post(
        "/graphql", json={"query": text, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    errors = body.pop("errors", [])
    codes = [error["extensions"]["code"] for error in errors]
    body["errors"] = sorted((str(e.get("path")), e["message"]) for e in errors)
    seen = await pool.fetchval(
        "SELECT array(SELECT unnest(seen) ORDER BY 1) FROM access_request WHERE request_id = $1",
        request_id,
    )
    others = await pool.fetch(
        "SELECT kind, personnummer, source, asked_personnummer FROM access_person AS p"
        " JOIN access_request AS r ON r.id = p.request WHERE r.request_id = $1"
        " ORDER BY personnummer, kind",
        request_id,
    )
    return body, codes, (seen, [tuple(row) for row in others])


@PROPERTIES
@given(document=queries(SCHEMA, print_ast=lambda document: document), data=st.data())
async def test_shared_plans_answer_and_log_as_the_stock_engine_does(
    api: Api,
    stock_api: Api,
    clean_db: asyncpg.Pool,
    register: dict[str, list[str]],
    document: Any,
    data: Any,
) -> None:
    variables = Variables(data, register)
    text = declared(graphql.visit(document, variables), variables.declared)
    for directive, writings in WRITINGS.items():
        text = text.replace(f"@{directive}(", data.draw(st.sampled_from(writings)))
    for _ in range(data.draw(st.integers(2, 5), label="requests")):
        values = variables.values_for_a_request()
        tier = data.draw(st.sampled_from(Tier), label="tier")
        ours, codes, our_log = await answer(api, clean_db, text, values, tier)
        if "QUERY_TOO_COMPLEX" in codes:
            continue  # refused before it ran: nothing to compare
        stock, _, stock_log = await answer(stock_api, clean_db, text, values, tier)
        assert ours == stock, (text, values, tier)
        assert our_log == stock_log, (text, values, tier)
