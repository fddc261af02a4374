"""Selections' finer rules: a download's ranges (resumed with If-Range, a bad one refused
with a code), a file's size past 32 bits, several root fields in one mutation, retrying
within the cap, the price list an order keeps, the sweep of unfinished runs' files, and
the auditors' side — which orders included a person, and every organisation's orders
(docs/selections.md)."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from resolvers.selections import sweep
from tests.selections import ORDER_STATUS, Caller, caller, register
from tests.test_selections import GÖTEBORG, run_worker

__all__ = ["caller", "register"]  # fixtures

FIELDS = ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME", "POSTAL_TOWN"]
DOWNLOADS_LOGGED = "SELECT count(*) FROM access_request WHERE root_fields = 'selectionFile'"


async def done_order(caller: Caller, pool: asyncpg.Pool, settings: Settings) -> str:
    order_id = await caller.order(GÖTEBORG, FIELDS)
    await run_worker(pool, settings, order_id)
    return order_id


@pytest.mark.parametrize("asked", ["bytes=abc", "bytes=5-2", "bytes=999999-", "bytes=-"])
async def test_a_range_the_file_cannot_answer_is_refused_with_a_code_before_it_is_logged(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings,
    asked: str,
) -> None:  # fmt: skip
    order_id = await done_order(caller, clean_db, settings)
    size = (await caller.status(order_id))["fileSize"]
    before = await clean_db.fetchval(DOWNLOADS_LOGGED)
    refused = await caller.download(order_id, Range=asked)
    assert refused.status_code == 416, refused.text
    assert refused.headers["content-range"] == f"bytes */{size}"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RANGE_NOT_SATISFIABLE"
    assert await clean_db.fetchval(DOWNLOADS_LOGGED) == before  # nothing was sent


async def test_a_download_resumes_on_its_etag_and_starts_over_when_the_file_is_another(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await done_order(caller, clean_db, settings)
    status = await caller.status(order_id)
    first = await caller.download(order_id, Range="bytes=0-99")
    etag = first.headers["etag"]
    assert (first.status_code, etag) == (206, f'"{status["checksum"]}"')
    rest = await caller.download(order_id, Range="bytes=100-", **{"If-Range": etag})
    assert rest.status_code == 206
    size = status["fileSize"]
    assert rest.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert hashlib.sha256(first.content + rest.content).hexdigest() == status["checksum"]
    # A part of another file (another ETag) is not resumed: the whole file comes.
    other = await caller.download(order_id, Range="bytes=100-", **{"If-Range": '"another"'})
    assert (other.status_code, len(other.content)) == (200, status["fileSize"])
    # A unit other than bytes is ignored (RFC 9110): the whole file.
    lines = await caller.download(order_id, Range="lines=1-2")
    assert (lines.status_code, len(lines.content)) == (200, status["fileSize"])


async def test_a_file_of_more_than_two_gigabytes_has_its_size_told_exactly(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await done_order(caller, clean_db, settings)
    # What the order of a 3 GB file records (writing one would take the machine's disk).
    await clean_db.execute("UPDATE selection_order SET file_size = 3000000000")
    assert (await caller.status(order_id))["fileSize"] == 3_000_000_000


def order_field(alias: str) -> str:
    return f'{alias}: orderSelection(criteria: {{}}, purpose: "x", fields: [PERSONNUMMER]) {{ id }}'


def cancel_field(alias: str, order_id: str) -> str:
    return f'{alias}: cancelSelectionOrder(id: "{order_id}") {{ status }}'


async def test_root_fields_of_one_mutation_run_in_order_each_change_its_own(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    cap = settings.selection_max_active_orders
    first, second = [await caller.order(GÖTEBORG, FIELDS) for _ in "ab"]
    for _ in range(cap - 3):
        await caller.order(GÖTEBORG, FIELDS)
    # One slot left: the first order takes it, the second is refused; the first stands.
    answer = await caller.post(f"mutation {{ {order_field('a')} {order_field('b')} }}")
    assert answer["data"]["a"]["id"] and answer["data"]["b"] is None
    (error,) = answer["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["b"], "TOO_MANY_ORDERS")
    assert await clean_db.fetchval("SELECT count(*) FROM selection_order") == cap
    assert await clean_db.fetchval("SELECT count(*) FROM pgqueuer") == cap
    # At the cap: a cancel written first frees the slot the order after it takes.
    freed = await caller.post(f"mutation {{ {cancel_field('c', first)} {order_field('o')} }}")
    assert "errors" not in freed, freed
    assert freed["data"]["c"] == {"status": "CANCELLED"} and freed["data"]["o"]["id"]
    # Written the other way round, the order is refused and the cancel still stands.
    late = await caller.post(f"mutation {{ {order_field('o')} {cancel_field('c', second)} }}")
    assert late["data"]["o"] is None and late["data"]["c"] == {"status": "CANCELLED"}
    assert [error["extensions"]["code"] for error in late["errors"]] == ["TOO_MANY_ORDERS"]
    assert (await caller.status(second))["status"] == "CANCELLED"
    # A field refused for its input (no such order) undoes nothing of the one before it.
    mixed = await caller.post(f"mutation {{ {order_field('o')} {cancel_field('c', '999999')} }}")
    (error,) = mixed["errors"]
    assert (error["path"], error["extensions"]["code"]) == (["c"], "BAD_USER_INPUT")
    assert (await caller.status(mixed["data"]["o"]["id"]))["status"] == "QUEUED"


async def test_a_failed_order_is_retried_within_the_cap_and_only_by_its_organisation(
    register: dict[str, list[str]], caller: Caller, client: httpx.AsyncClient,
    clean_db: asyncpg.Pool, settings: Settings,
) -> None:  # fmt: skip
    order_id = await caller.order(GÖTEBORG, FIELDS)
    await clean_db.execute("UPDATE selection_order SET status = 'FAILED', error = 'x'")
    retry = "mutation R($id: ID!) { retrySelectionOrder(id: $id) { status } }"
    other = await Caller(client, settings, organisation="1490").post(retry, {"id": order_id})
    assert other["errors"][0]["extensions"]["argument"] == "id"
    for _ in range(settings.selection_max_active_orders):
        await caller.order(GÖTEBORG, FIELDS)
    full = await caller.post(retry, {"id": order_id})
    assert full["errors"][0]["extensions"]["code"] == "TOO_MANY_ORDERS"
    assert (await caller.status(order_id))["status"] == "FAILED"


AUDIT_SEARCH = """
query Who($number: String!) {
  accessLog(personnummer: $number, first: 20) {
    edges { node { kind subject organisation rootFields requestId caseReference selectionOrder } }
  }
}
"""
AUDIT_ORDERS = """
query Orders($ids: [ID!]) {
  selectionAudit(ids: $ids) {
    id orderedBy organisation clientSystem purpose caseReference criteria rowCount price
    requestId status
  }
}
"""


async def test_an_auditor_finds_which_orders_included_a_person_and_reads_every_order(
    register: dict[str, list[str]], caller: Caller, client: httpx.AsyncClient,
    clean_db: asyncpg.Pool, settings: Settings,
) -> None:  # fmt: skip
    person, other_person = register["selected"]
    order_id = await caller.order({**GÖTEBORG, "ageFrom": 20}, FIELDS)
    await run_worker(clean_db, settings, order_id)
    assert (await caller.download(order_id)).status_code == 200
    elsewhere = await Caller(client, settings, organisation="1490").order(GÖTEBORG, FIELDS)
    auditor = Caller(client, settings, roles=("audit",), organisation="Revisionen")
    entries = [
        edge["node"]
        for edge in (await auditor.post(AUDIT_SEARCH, {"number": person}))["data"]["accessLog"][
            "edges"
        ]
        if edge["node"]["selectionOrder"] is not None
    ]
    assert [(entry["rootFields"], entry["selectionOrder"]) for entry in entries] == [
        (["selectionFile"], order_id),
        (["selectionExport"], order_id),
    ]
    (order,) = (await auditor.post(AUDIT_ORDERS, {"ids": [entries[0]["selectionOrder"]]}))["data"][
        "selectionAudit"
    ]
    assert order == {
        "id": order_id, "orderedBy": "handlaggare", "organisation": "1480",
        "clientSystem": None, "purpose": "Utskick om vaccination",
        "caseReference": "ÄR-2026/11", "rowCount": 2, "price": "1074.20",
        "requestId": entries[1]["requestId"], "status": "DONE",
        "criteria": {"municipalities": ["1480"], "birthDateTo": order["criteria"]["birthDateTo"],
                     "status": ["REGISTERED"]},
    }  # fmt: skip
    # Every organisation's orders, newest first.
    listed = (await auditor.post(AUDIT_ORDERS))["data"]["selectionAudit"]
    assert [(row["id"], row["organisation"]) for row in listed] == [
        (elsewhere, "1490"),
        (order_id, "1480"),
    ]
    # One log row for the export and one for the download, each holding both persons
    # (the log outlives each test, whose order ids start again: this test's rows).
    rows = await clean_db.fetch(
        "SELECT root_fields, seen FROM access_request WHERE selection_order = $1 AND "
        "logged_at >= (SELECT ordered_at FROM selection_order WHERE id = $1) ORDER BY id",
        int(order_id),
    )
    assert [(row["root_fields"], len(row["seen"])) for row in rows] == [
        ("selectionExport", 2),
        ("selectionFile", 2),
    ]
    assert other_person
    refused = await caller.post(AUDIT_ORDERS)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_sweep_deletes_what_unfinished_runs_left_and_keeps_what_is_running(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    done = await done_order(caller, clean_db, settings)
    cancelled, failed, running = [await caller.order(GÖTEBORG, FIELDS) for _ in "abc"]
    await clean_db.execute(
        "UPDATE selection_order SET status = CASE id WHEN $1 THEN 'CANCELLED' WHEN $2 THEN "
        "'FAILED' ELSE 'RUNNING' END, attempt = 2 WHERE id = ANY($3::bigint[])",
        int(cancelled), int(failed), [int(cancelled), int(failed), int(running)],
    )  # fmt: skip
    files = settings.selection_files
    # What workers killed mid-export left: parts of the attempts they ran.
    left = [f"{cancelled}-2.part", f"{failed}-2.csv", f"{running}-1.part", f"{running}-2.part"]
    for name in [*left, "README.txt"]:
        (files / name).write_bytes(b"personnummer\n")
    gone = await sweep.sweep(clean_db, files)
    assert gone == sorted([int(cancelled), int(failed), int(running)])
    assert sorted(path.name for path in files.iterdir()) == sorted(
        [f"{done}-1.csv", f"{running}-2.part", "README.txt"]
    )
    assert (await caller.download(done)).status_code == 200
    assert (await caller.post(ORDER_STATUS, {"id": running}))["data"]["selectionOrder"][
        "status"
    ] == "RUNNING"


async def test_an_order_keeps_the_price_list_it_was_placed_under_and_is_listed(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings,
    engine: str,
) -> None:  # fmt: skip
    cheaper = settings.model_copy(
        update={"engine": engine, "selection_handling_fee": Decimal("500"),
                "selection_price_per_row": Decimal("2.00"), "selection_price_bands": []}
    )  # fmt: skip
    transport = httpx.ASGITransport(app=create_app(cheaper, pool=clean_db))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        before = await Caller(client, cheaper).order(GÖTEBORG, FIELDS)  # the list then
    after = await caller.order(GÖTEBORG, FIELDS)  # the list in force now
    for order_id in (before, after):  # run after the change of list, by today's worker
        await run_worker(clean_db, settings, order_id)
    assert (await caller.status(before))["price"] == "504.00"  # 500 + 2 rows at 2.00
    assert (await caller.status(after))["price"] == "1074.20"
    listed = await caller.post("{ selectionOrders(first: 5) { id status price } }")
    assert listed["data"]["selectionOrders"] == [
        {"id": after, "status": "DONE", "price": "1074.20"},
        {"id": before, "status": "DONE", "price": "504.00"},
    ]


async def test_two_runs_racing_for_one_order_complete_it_once_with_one_file(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    """As two workers run one job when its heartbeat went stale under a live worker."""
    order_id = await caller.order(GÖTEBORG, FIELDS)
    await asyncio.gather(*(run_worker(clean_db, settings, order_id) for _ in "ab"))
    status = await caller.status(order_id)
    assert (status["status"], status["rowCount"]) == ("DONE", 2)
    attempt = await clean_db.fetchval("SELECT attempt FROM selection_order")
    assert attempt == 2  # both took it up; only the later one could mark it done
    names = [path.name for path in settings.selection_files.iterdir()]
    assert names == [f"{order_id}-2.csv"]
    logged = await clean_db.fetchval(
        "SELECT count(*) FROM access_request WHERE root_fields = 'selectionExport' AND "
        "request_id = (SELECT request_id FROM selection_order WHERE id = $1)",
        int(order_id),
    )
    assert logged == 1
    body = (await caller.download(order_id)).content
    assert hashlib.sha256(body).hexdigest() == status["checksum"]
