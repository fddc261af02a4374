"""Fuzzing through the real ASGI app: schema-generated queries and hostile HTTP requests.

Queries come from ``hypothesis-graphql`` (valid against the published schema), with their
string arguments often swapped for numbers and names that matter — protected persons,
their relatives, ranges and names that would include them — and sent with tokens of each
tier. Whatever comes back: no 5xx, no error without a code, no internal error at all, no
exception text, and no protected person's data anywhere, except the bare notice a direct
lookup gives.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import asyncpg
import graphql
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import queries

from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from schema.build import build_schema
from tests import factories
from tests.conftest import Api

SCHEMA = build_schema()._schema
# A few milliseconds an example: about ten seconds in all.
FUZZ = settings(
    max_examples=800,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text that only a leaked Python exception would put in a message.
INTERNALS = ("Traceback", 'File "', "NoneType", "object has no attribute", "asyncpg", "Error(")
PROTECTED_NOTICE_KEYS = {"__typename", "personnummer", "notice"}


class Register:
    """Who is in the fuzzing register, and which of their data must never be shown."""

    def __init__(self) -> None:
        self.protected: list[str] = []
        self.visible: list[str] = []
        self.secrets: set[str] = set()


@pytest.fixture
async def register(clean_db: asyncpg.Pool) -> Register:
    """Families in which a child, and in one a parent, are protected; plus ordinary persons."""
    found = Register()
    secret_address = {"line2": "Dolda vägen 13", "postal_code": "41999", "postal_town": "DOLDBY"}
    for index, protection in enumerate(["SEKRETESSMARKERING", "SKYDDAD_FOLKBOKFORING"]):
        mother = await factories.person(clean_db, last_name="Lindqvist", civil_status="G")
        father = await factories.person(
            clean_db,
            male=True,
            first_names="Hemlige Torbjörn" if index else "Olof",
            last_name="Skyddadsson" if index else "Lindqvist",
            protection=protection if index else None,
            address=secret_address if index else None,
        )
        child = await factories.person(
            clean_db,
            born=dt.date(2016, 4, 2 + index),
            first_names="Sekretessa",
            last_name="Gömdsdotter",
            protection=protection,
            address=secret_address,
        )
        await factories.relate(clean_db, mother, "M", father)
        for parent in (mother, father):
            await factories.relate(clean_db, parent, "B", child)
            await factories.relate(clean_db, parent, "VF", child)
        found.visible.append(mother)
        if index:
            found.protected.append(father)
        else:
            found.visible.append(father)
        found.protected.append(child)
    for _ in range(4):
        found.visible.append(await factories.person(clean_db, last_name="Lindqvist"))
    for number in found.protected:
        formats = Personnummer(number)
        found.secrets |= {number, number[2:], formats.short(), f"{number[:8]}-{number[8:]}"}
    found.secrets |= {"Sekretessa", "Gömdsdotter", "Hemlige", "Skyddadsson", "Dolda", "DOLDBY"}
    found.secrets |= {"41999", "419 99"}
    return found


def interesting(register: Register) -> dict[str, list[str]]:
    numbers = register.protected + register.visible
    return {
        "personnummer": numbers + [number[2:] for number in numbers] + ["191212121212"],
        "from": ["19000101-0000", "20160101-0000", register.protected[0]],
        "to": ["20991231-9999", "20161231-9999", register.protected[-1]],
        "lastName": ["Gömdsdotter", "Gomdsdotter", "Skyddadsson", "Lindqvist", "Lindkvist"],
        "firstName": ["Sekretessa", "Hemlige", "Torbjörn"],
        "postalTown": ["DOLDBY", "Göteborg"],
    }


class Substitute(graphql.Visitor):
    """Swap string arguments for interesting values, as the drawn choices say."""

    def __init__(self, data: st.DataObject, values: dict[str, list[str]]) -> None:
        super().__init__()
        self.data = data
        self.values = values

    def enter_argument(self, node: graphql.ArgumentNode, *_: Any) -> Any:
        choices = self.values.get(node.name.value)
        if choices is None or not isinstance(node.value, graphql.StringValueNode):
            return None
        if not self.data.draw(st.booleans(), label="substitute"):
            return None
        value = self.data.draw(st.sampled_from(choices), label=node.name.value)
        return graphql.ArgumentNode(name=node.name, value=graphql.StringValueNode(value=value))


def without_protected_notices(data: Any) -> Any:
    """The answer minus direct lookups answered with the bare protection notice."""
    if not isinstance(data, dict):
        return data
    return {
        key: value
        for key, value in data.items()
        if not (isinstance(value, dict) and value and set(value) <= PROTECTED_NOTICE_KEYS)
    }


def assert_well_behaved(status: int, body: dict[str, Any], register: Register) -> None:
    assert status < 500, body
    for error in body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert code, error
        assert code != "INTERNAL_SERVER_ERROR", error
        assert not any(marker in error["message"] for marker in INTERNALS), error
    shown = json.dumps(
        {"data": without_protected_notices(body.get("data")), "errors": body.get("errors")},
        ensure_ascii=False,
    )
    leaked = sorted(secret for secret in register.secrets if secret in shown)
    assert not leaked, (leaked, body)


@FUZZ
@given(
    document=queries(SCHEMA, print_ast=lambda document: document),
    tier=st.sampled_from(Tier),
    data=st.data(),
)
async def test_generated_queries_never_crash_nor_leak(
    api: Api, register: Register, document: Any, tier: Tier, data: st.DataObject
) -> None:
    document = graphql.visit(document, Substitute(data, interesting(register)))
    response = await api.post(graphql.print_ast(document), tier=tier)
    assert_well_behaved(response.status_code, response.json(), register)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "query": st.one_of(JSON, st.text(), st.just("{ viewer { subject } }")),
            "variables": JSON,
            "operationName": JSON,
            "documentId": st.one_of(JSON, st.text().map("sha256:".__add__)),
            "extensions": st.one_of(JSON, st.fixed_dictionaries({"persistedQuery": JSON})),
        },
    ).map(lambda value: json.dumps(value).encode()),
)
CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain", "application/graphql", "multipart/form-data", ""]
)


@FUZZ
@given(
    method=st.sampled_from(["POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"]),
    body=BODIES,
    content_type=CONTENT_TYPES,
    params=st.dictionaries(
        st.sampled_from(["query", "variables", "operationName", "documentId", "extensions"]),
        st.text(),
    ),
    authorization=st.one_of(st.none(), st.just("valid"), st.text(max_size=40)),
)
async def test_hostile_http_requests_get_client_errors_with_codes(
    api: Api,
    method: str,
    body: bytes,
    content_type: str,
    params: dict[str, str],
    authorization: str | None,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if authorization == "valid":
        headers["Authorization"] = f"Bearer {api.token(Tier.BASIC)}"
    elif authorization is not None:
        headers["Authorization"] = authorization.encode("utf-8", "surrogatepass")  # type: ignore[assignment]
    response = await api.client.request(
        method, "/graphql", content=body, params=params, headers=headers
    )
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        errors = response.json()["errors"]
        assert all(error["extensions"]["code"] for error in errors)
    if "html" not in response.headers.get("content-type", ""):
        for error in response.json().get("errors", []):
            assert not any(marker in error["message"] for marker in INTERNALS), error
