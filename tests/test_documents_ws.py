"""Trusted documents over WebSocket: a `subscribe` message's payload names its document
as an HTTP request does (`documentId`, or Apollo's extension), and trusted mode refuses
what HTTP refuses, each as the operation's `error` message with the same code, the
connection staying open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.documents import (
    AD_HOC,
    CANCEL,
    HEAD,
    TRUSTED,
    apollo,
    by_id,
    code_of,
    document_id,
    write_manifest,
)
from tests.importing import apply, changes, record
from tests.subscribing import FOLLOW, Served, Subscriber, following, fresh_numbers, serving


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    path = write_manifest(tmp_path_factory.mktemp("manifest") / "documents.json", *TRUSTED)
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_documents_ws",
                 VASTFOLKET_DOCUMENTS="trusted",
                 VASTFOLKET_DOCUMENT_MANIFEST=str(path)) as running:  # fmt: skip
        yield running


async def send(subscriber: Subscriber, ident: str, payload: dict[str, Any]) -> None:
    await subscriber.send({"id": ident, "type": "subscribe", "payload": payload})


async def refusal(subscriber: Subscriber, ident: str, payload: dict[str, Any]) -> str:
    """The code the operation is refused with (its only message)."""
    await send(subscriber, ident, payload)
    message = await subscriber.receive()
    assert message["type"] == "error" and message["id"] == ident, message
    return code_of({"errors": message["payload"]})


async def test_a_subscription_runs_by_its_id(served: Served) -> None:
    a, b = fresh_numbers(2)
    async with following(served.server, served.token("by-id")) as subscriber:
        await send(subscriber, "head", by_id(HEAD))
        head = await subscriber.receive()
        assert head["type"] == "next", head
        assert await subscriber.receive() == {"id": "head", "type": "complete"}
        after = head["payload"]["data"]["changesHead"]
        await send(subscriber, "spec", by_id(FOLLOW, after=after))
        await send(subscriber, "apollo", apollo(FOLLOW, after=after))
        await apply(served.owner_url, changes(record(a, 1), record(b, 2)))
        received: dict[str, list[str]] = {"spec": [], "apollo": []}
        while sum(map(len, received.values())) < 4:
            message = await subscriber.receive()
            assert message["type"] == "next" and "errors" not in message["payload"], message
            received[message["id"]].append(message["payload"]["data"]["changes"]["personnummer"])
        assert received == {"spec": [a, b], "apollo": [a, b]}


async def test_the_manifest_s_text_runs_and_other_text_is_refused(served: Served) -> None:
    async with following(served.server, served.token("by-text")) as subscriber:
        assert await refusal(subscriber, "1", {"query": AD_HOC}) == "DOCUMENT_NOT_TRUSTED"
        ad_hoc_feed = FOLLOW.replace("lastName", "firstName")
        assert await refusal(subscriber, "2", {"query": ad_hoc_feed}) == "DOCUMENT_NOT_TRUSTED"
        await send(subscriber, "3", {"query": HEAD})  # the manifest's, as text
        answer = await subscriber.receive()
        assert answer["type"] == "next" and "changesHead" in answer["payload"]["data"], answer


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (by_id(AD_HOC), "PERSISTED_DOCUMENT_NOT_FOUND"),
        (apollo(AD_HOC), "PERSISTED_QUERY_NOT_FOUND"),
        ({"documentId": document_id(HEAD).upper()}, "BAD_DOCUMENT_ID"),
        ({"documentId": None, "extensions": {"persistedQuery": {}}}, "BAD_DOCUMENT_ID"),
        ({**by_id(HEAD), "query": AD_HOC}, "DOCUMENT_ID_MISMATCH"),
        ({"variables": {}}, "BAD_REQUEST"),
        (by_id(CANCEL, id="1"), "BAD_REQUEST"),  # a mutation: over HTTP only
    ],
)
async def test_a_refused_document_is_the_operation_s_error_and_the_connection_stays(
    served: Served, payload: dict[str, Any], code: str
) -> None:
    async with following(served.server, served.token("refused")) as subscriber:
        assert await refusal(subscriber, "1", payload) == code
        await send(subscriber, "2", by_id(HEAD))
        assert (await subscriber.receive())["type"] == "next"
