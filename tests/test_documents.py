"""Trusted documents over HTTP, against real servers: one in trusted mode (production's),
one in any mode (development's), both with the manifest a client was built with.

A document runs by its id (the spec's `documentId`, or Apollo's persisted query
extension), by POST and GET; in trusted mode nothing else runs, and each refusal has its
code; in any mode ad-hoc text and GraphiQL keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from resolvers.domain.access import Tier
from tests import factories
from tests.documents import (
    AD_HOC,
    CANCEL,
    LOOKUP,
    TRUSTED,
    VIEWER,
    apollo,
    by_id,
    code_of,
    document_id,
    write_manifest,
)
from tests.subscribing import Served, serving

NOT_TRUSTED = ("DOCUMENT_NOT_TRUSTED", 403)
NOT_FOUND = ("PERSISTED_DOCUMENT_NOT_FOUND", 404)
UNKNOWN = "query Unknown { viewer { tier } }"


@pytest.fixture(scope="module")
def manifest_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_manifest(tmp_path_factory.mktemp("manifest") / "documents.json", *TRUSTED)


@pytest.fixture(scope="module")
def trusted(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory, manifest_path: Path
) -> Iterator[Served]:
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_documents_trusted",
                 VASTFOLKET_DOCUMENTS="trusted",
                 VASTFOLKET_DOCUMENT_MANIFEST=str(manifest_path)) as served:  # fmt: skip
        yield served


@pytest.fixture(scope="module")
def open_server(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory, manifest_path: Path
) -> Iterator[Served]:
    """The development default (the development key): any document."""
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_documents_any",
                 VASTFOLKET_DOCUMENT_MANIFEST=str(manifest_path)) as served:  # fmt: skip
        yield served


@pytest.fixture(params=["trusted", "open_server"])
def either(request: pytest.FixtureRequest, engine: str) -> Served:
    """Each server in turn (``engine`` named here so that both engines run it)."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def post(served: Served, body: dict[str, Any], *, tier: Tier = Tier.BASIC) -> httpx.Response:
    bearer = {"Authorization": f"Bearer {served.token('integrator', tier=tier)}"}
    return httpx.post(f"{served.server.base}/graphql", json=body, headers=bearer, timeout=15)


def get(served: Served, **params: Any) -> httpx.Response:
    bearer = {"Authorization": f"Bearer {served.token('integrator')}"}
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return httpx.get(f"{served.server.base}/graphql", params=encoded, headers=bearer, timeout=15)


def refused(response: httpx.Response) -> tuple[str, int]:
    assert "data" not in response.json(), response.text
    return code_of(response.json()), response.status_code


VIEWED = {"data": {"viewer": {"subject": "integrator", "tier": "BASIC"}}}


def test_a_document_runs_by_its_id_in_either_mode(either: Served) -> None:
    assert post(either, by_id(VIEWER)).json() == VIEWED
    assert post(either, apollo(VIEWER)).json() == VIEWED


def test_get_names_a_document_by_its_id_in_either_form(either: Served) -> None:
    assert get(either, documentId=document_id(VIEWER)).json() == VIEWED
    assert get(either, **apollo(VIEWER)).json() == VIEWED  # Apollo's useGETForHashedQueries


async def test_a_lookup_by_id_is_answered_and_logged_as_its_operation(trusted: Served) -> None:
    connection = await asyncpg.connect(trusted.owner_url)
    try:
        number = await factories.person(connection, last_name="Lundqvist")  # type: ignore[arg-type]
        response = post(trusted, by_id(LOOKUP, p=number))
        assert response.json() == {"data": {"person": {"lastName": "Lundqvist"}}}
        rows = await connection.fetch(
            "SELECT operation_name, root_fields, personnummer FROM access_log"
            " WHERE request_id = $1", response.headers["x-request-id"],
        )  # fmt: skip
    finally:
        await connection.close()
    assert [tuple(row) for row in rows] == [("Lookup", "person", number)]


def test_trusted_mode_refuses_text_not_in_the_manifest(trusted: Served) -> None:
    assert refused(post(trusted, {"query": AD_HOC})) == NOT_TRUSTED
    assert refused(get(trusted, query=AD_HOC)) == NOT_TRUSTED


def test_trusted_mode_runs_the_manifest_s_exact_text_only(trusted: Served) -> None:
    assert post(trusted, {"query": VIEWER}).json() == VIEWED
    assert refused(post(trusted, {"query": VIEWER + " "})) == NOT_TRUSTED


def test_an_unknown_id_is_not_found_in_either_mode(either: Served) -> None:
    assert refused(post(either, by_id(UNKNOWN))) == NOT_FOUND
    assert refused(get(either, documentId=document_id(UNKNOWN))) == NOT_FOUND


def test_apollo_s_unknown_hash_is_answered_as_apollo_s_clients_expect(trusted: Served) -> None:
    """200 and `PersistedQueryNotFound`: the client sends the text with the hash, which
    trusted mode refuses in turn."""
    response = post(trusted, apollo(UNKNOWN))
    assert response.status_code == 200
    assert response.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert refused(response) == ("PERSISTED_QUERY_NOT_FOUND", 200)
    assert "no-cache" in response.headers["cache-control"]
    assert refused(post(trusted, {**apollo(UNKNOWN), "query": UNKNOWN})) == NOT_TRUSTED
    assert code_of(post(trusted, apollo(UNKNOWN)).json()) == "PERSISTED_QUERY_NOT_FOUND"


def test_any_mode_runs_ad_hoc_text_and_keeps_what_apollo_clients_send(
    open_server: Served,
) -> None:
    assert post(open_server, {"query": AD_HOC}).json() == {
        "data": {"viewer": {"subject": "integrator"}}
    }
    assert code_of(post(open_server, apollo(UNKNOWN)).json()) == "PERSISTED_QUERY_NOT_FOUND"
    first = post(open_server, {**apollo(UNKNOWN), "query": UNKNOWN})
    assert first.json() == {"data": {"viewer": {"tier": "BASIC"}}}
    assert post(open_server, apollo(UNKNOWN)).json() == first.json()  # the hash alone now
    assert refused(post(open_server, by_id(AD_HOC))) == NOT_FOUND  # text sent bare is not kept


def test_any_mode_keeps_only_the_apollo_documents_that_validate(open_server: Served) -> None:
    """As Apollo Server does: a text that fails is answered with its errors, and its hash
    alone stays unknown; the worker's places are for documents that run."""
    broken = "query Broken { viewer { nickname } }"
    sent = post(open_server, {**apollo(broken), "query": broken})
    assert code_of(sent.json()) == "GRAPHQL_VALIDATION_FAILED"
    assert code_of(post(open_server, apollo(broken)).json()) == "PERSISTED_QUERY_NOT_FOUND"


def test_graphiql_s_page_still_answers_in_any_mode(open_server: Served) -> None:
    page = httpx.get(f"{open_server.server.base}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


BAD_IDS = [
    {"documentId": document_id(VIEWER).upper()},
    {"documentId": document_id(VIEWER)[:-1]},
    {"documentId": document_id(VIEWER) + "0"},
    {"documentId": "sha256: " + document_id(VIEWER)[7:]},
    {"documentId": "md5:" + "0" * 32},
    {"documentId": "Viewer"},  # a custom id: not served here
    {"documentId": 12},
    {"documentId": ["sha256:" + "0" * 64]},
    {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": True, "sha256Hash": "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "sha256:" + "0" * 64}}},
    {"extensions": {"persistedQuery": {"version": 1}}},
    {"extensions": {"persistedQuery": "0" * 64}},
]


@pytest.mark.parametrize("body", BAD_IDS)
def test_a_malformed_id_is_refused_with_its_code(trusted: Served, body: dict[str, Any]) -> None:
    assert refused(post(trusted, body)) == ("BAD_DOCUMENT_ID", 400)


def test_text_beside_an_id_must_be_the_text_it_names(either: Served) -> None:
    assert refused(post(either, {**by_id(VIEWER), "query": AD_HOC})) == (
        "DOCUMENT_ID_MISMATCH",
        400,
    )
    both = {**by_id(VIEWER), **apollo(LOOKUP)}
    assert refused(post(either, both)) == ("DOCUMENT_ID_MISMATCH", 400)
    assert refused(post(either, {"extensions": "persisted"})) == ("BAD_REQUEST", 400)


def test_a_mutation_by_id_over_get_is_405(trusted: Served) -> None:
    response = get(trusted, documentId=document_id(CANCEL), variables={"id": "1"})
    assert response.status_code == 405, response.text
    assert "POST" in response.json()["errors"][0]["message"]
