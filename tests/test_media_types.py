"""GraphQL over HTTP's media types (api/media.py): what the Accept header chooses, what
each type answers with, and the body a POST must declare."""

from __future__ import annotations

import httpx
import orjson
import pytest

from resolvers.domain.access import Tier
from tests.conftest import Api

NEW = "application/graphql-response+json"
LEGACY = "application/json"
VIEWER = "{ viewer { subject } }"
# More aliases than the limit (50): refused before validation, nothing runs.
TOO_MANY_ALIASES = "{ " + " ".join(f"a{i}: viewer {{ subject }}" for i in range(51)) + " }"


async def post(
    api: Api, body: dict, accept: str | None = None, content_type: str | None = LEGACY
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api.token(Tier.RELATIONS)}"}
    if accept is not None:
        headers["Accept"] = accept
    if content_type is not None:
        headers["Content-Type"] = content_type
    return await api.client.post("/graphql", content=orjson.dumps(body), headers=headers)


# What never runs: each is a GraphQL request error, with its code.
NOT_RUN: dict[str, tuple[dict, str]] = {
    "parse": ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
    "validation": ({"query": "{ noSuchField }"}, "GRAPHQL_VALIDATION_FAILED"),
    "limit": ({"query": TOO_MANY_ALIASES}, "QUERY_TOO_COMPLEX"),
    "variables": (
        {"query": "query ($p: String!) { person(personnummer: $p) { __typename } }",
         "variables": {"p": None}},
        "BAD_USER_INPUT",
    ),
    "operation": (
        {"query": "query A { viewer { subject } }", "operationName": "B"}, "BAD_USER_INPUT"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(NOT_RUN))
async def test_what_never_ran_is_a_400_without_data_in_the_new_media_type(
    api: Api, case: str
) -> None:
    body, code = NOT_RUN[case]
    response = await post(api, body, accept=NEW)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
    answer = response.json()
    assert "data" not in answer
    assert [error["extensions"]["code"] for error in answer["errors"]] == [code]


@pytest.mark.parametrize("case", list(NOT_RUN))
async def test_what_never_ran_stays_a_200_with_null_data_in_json(api: Api, case: str) -> None:
    body, code = NOT_RUN[case]
    for accept in (None, LEGACY, "*/*"):
        response = await post(api, body, accept=accept)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == LEGACY
        answer = response.json()
        assert answer["data"] is None
        assert [error["extensions"]["code"] for error in answer["errors"]] == [code]


async def test_an_operation_that_ran_is_a_200_with_its_data_in_either_type(api: Api) -> None:
    """A field's error (a malformed number) nulls that field only; it is no request error."""
    query = '{ person(personnummer: "12") { __typename } viewer { subject } }'
    for accept in (NEW, LEGACY):
        response = await post(api, {"query": query}, accept=accept)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["data"] == {"person": None, "viewer": {"subject": "tester"}}
        [error] = answer["errors"]
        assert error["path"] == ["person"]
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (NEW, NEW),
        (f"{NEW}; charset=utf-8, {LEGACY}; charset=utf-8", NEW),  # what the spec recommends
        (f"{NEW}, {LEGACY};q=0.9", NEW),
        (f"{LEGACY};q=0.9, {NEW}", NEW),  # the higher q, wherever listed
        (f"*/*, {NEW}", NEW),  # named beats a wildcard
        ("APPLICATION/GRAPHQL-RESPONSE+JSON", NEW),
        (f"{LEGACY}, {NEW}", LEGACY),  # equal q: the first listed
        (f"{NEW};q=0.5, */*", LEGACY),
        (f"{NEW};q=0", LEGACY),  # not acceptable
        (LEGACY, LEGACY),
        ("*/*", LEGACY),
        ("application/*", LEGACY),
        ("text/html", LEGACY),  # nothing served asked for: the default
        (f"{LEGACY}, multipart/mixed", LEGACY),  # GraphiQL's
    ],
)
async def test_the_accept_header_chooses_the_media_type(api: Api, accept: str, chosen: str) -> None:
    response = await post(api, {"query": VIEWER}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == chosen
    assert response.json() == {"data": {"viewer": {"subject": "tester"}}}


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "application/json; charset=latin-1", "application/graphql", "multipart/form-data"],
)  # fmt: skip
async def test_a_post_body_not_declared_json_is_refused(api: Api, content_type: str | None) -> None:
    for accept in (None, NEW):
        response = await post(api, {"query": VIEWER}, accept=accept, content_type=content_type)
        assert response.status_code == 415, response.text
        [error] = response.json()["errors"]
        assert error["extensions"] == {"code": "BAD_REQUEST"}
        assert "application/json" in error["message"]


@pytest.mark.parametrize(
    "content_type",
    ["application/json; charset=utf-8", "Application/JSON", 'application/json;charset="UTF-8"'],
)
async def test_json_is_accepted_however_it_is_written(api: Api, content_type: str) -> None:
    response = await post(api, {"query": VIEWER}, content_type=content_type)
    assert response.json() == {"data": {"viewer": {"subject": "tester"}}}


async def test_an_empty_operation_name_over_get_names_none(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": "{ viewer { subject } }", "operationName": ""},
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}", "Accept": NEW},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"viewer": {"subject": "tester"}}}


async def test_a_mutation_over_get_is_a_405_in_the_new_type(api: Api) -> None:
    response = await api.client.get(
        "/graphql",
        params={"query": 'mutation { cancelSelectionOrder(id: "1") { id } }'},
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}", "Accept": NEW},
    )
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(NEW)
    assert "data" not in response.json()
