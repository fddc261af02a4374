"""Selections through the app: criteria checked, the preview's count and price, orders
placed (with their queue job) and read, the roles, the cap, cancelling, billing; the
export run as a worker runs it, and its file downloaded (docs/selections.md)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from decimal import Decimal

import asyncpg
import httpx
import pytest

from api.audit import written
from api.settings import Settings
from resolvers.domain.access import Tier
from resolvers.selections import export
from resolvers.selections.price import Band, PriceList
from tests.selections import Caller, caller, register

__all__ = ["caller", "register"]  # fixtures

PREVIEW = """
query Preview($criteria: SelectionCriteria!) {
  selectionPreview(criteria: $criteria) { count price { total handlingFee rows } }
}
"""
GÖTEBORG = {"municipalities": ["1480"]}


async def run_worker(pool: asyncpg.Pool, settings: Settings, order_id: str) -> None:
    """The export as the worker's job runs it (tests/test_selections_worker.py: the process)."""
    await export.run(
        pool, settings.selection_files, int(order_id), settings.selection_file_days, written
    )


async def test_the_preview_counts_only_visible_registered_persons_with_the_price(
    register: dict[str, list[str]], caller: Caller
) -> None:
    answer = await caller.post(PREVIEW, {"criteria": GÖTEBORG})
    # Protected persons, samordningsnummer, the deceased and Borås are not counted.
    assert answer["data"]["selectionPreview"] == {
        "count": 2,
        "price": {"total": "1074.20", "handlingFee": "1071.00", "rows": 2},
    }
    wider = {"municipalities": ["1480", "1490"], "status": ["REGISTERED", "DECEASED"]}
    assert (await caller.post(PREVIEW, {"criteria": wider}))["data"]["selectionPreview"][
        "count"
    ] == 4


@pytest.mark.parametrize(
    ("criteria", "count"),
    [
        ({"gender": "MALE"}, 1),
        ({"birthDateFrom": "1985-01-01"}, 1),  # born 1952 and 1991
        ({"ageFrom": 30, "ageTo": 40, "ageOn": "2026-01-01"}, 1),  # born 1991-02-01: 34
        ({"postalCodeFrom": "412 00", "postalCodeTo": "41299"}, 2),
        ({"postalTown": "göteborg"}, 2),
        ({"keyCodes": ["148011"], "civilStatus": ["UNMARRIED"]}, 3),  # Borås too
        ({"civilStatus": ["MARRIED"]}, 0),
    ],
)
async def test_each_criterion_narrows_the_count(
    register: dict[str, list[str]], caller: Caller, criteria: dict, count: int
) -> None:
    answer = await caller.post(PREVIEW, {"criteria": criteria})
    assert answer["data"]["selectionPreview"]["count"] == count, answer


@pytest.mark.parametrize(
    ("criteria", "argument"),
    [
        ({"municipalities": ["148"]}, "criteria.municipalities"),
        ({"postalCodeFrom": "5000"}, "criteria.postalCodeFrom"),
        ({"postalCodeFrom": "50000", "postalCodeTo": "40000"}, "criteria.postalCodeFrom"),
        ({"ageFrom": 40, "ageTo": 30}, "criteria.ageFrom"),
        ({"ageFrom": 20, "birthDateTo": "2000-01-01"}, "criteria.ageFrom"),
        ({"status": ["COORDINATION_NUMBER"]}, "criteria.status"),
        ({"postalTown": "\u202eGÖTEBORG"}, "criteria.postalTown"),
    ],
)
async def test_bad_criteria_are_refused_naming_the_criterion(
    register: dict[str, list[str]], caller: Caller, criteria: dict, argument: str
) -> None:
    (error,) = (await caller.post(PREVIEW, {"criteria": criteria}))["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument


async def test_names_and_streets_are_no_criteria(caller: Caller) -> None:
    answer = await caller.post(PREVIEW, {"criteria": {"lastName": "Öberg"}})
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "lastName" in answer["errors"][0]["message"]


def test_the_price_falls_by_volume_above_a_band() -> None:
    prices = PriceList(Decimal("1071"), Decimal("1.60"), (Band(1_500_000, Decimal("0.24")),))
    assert prices.price(0) == Decimal("1071.00")
    assert prices.price(1_500_000) == Decimal("2401071.00")
    assert prices.price(1_500_010) == Decimal("2401073.40")


async def test_without_the_role_nothing_is_previewed_nor_without_an_organisation_ordered(
    register: dict[str, list[str]], client: httpx.AsyncClient, settings: Settings
) -> None:
    plain = Caller(client, settings, roles=())
    answer = await plain.post(PREVIEW, {"criteria": GÖTEBORG})
    assert answer["data"] == {"selectionPreview": None}
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await plain.post(ORDER_ONE))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # An order belongs to an organisation: a token without one places none.
    stateless = Caller(client, settings, organisation=None)
    answer = await stateless.post(ORDER_ONE)
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "organisation" in answer["errors"][0]["message"]


async def test_an_order_is_answered_at_once_queued_with_its_job(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"])
    status = await caller.status(order_id)
    assert status["status"] == "QUEUED" and status["progress"] == 0 and status["rowCount"] is None
    assert status["downloadUrl"] is None
    jobs = await clean_db.fetch("SELECT entrypoint, payload FROM pgqueuer")
    assert [(job["entrypoint"], job["payload"]) for job in jobs] == [
        ("selection_export", order_id.encode())
    ]
    kept = await clean_db.fetchrow("SELECT * FROM selection_order WHERE id = $1", int(order_id))
    assert kept["purpose"] == "Utskick om vaccination" and kept["case_reference"] == "ÄR-2026/11"
    assert json.loads(kept["price_list"])["handlingFee"] == "1071.00"


async def test_an_order_over_get_is_refused(caller: Caller) -> None:
    query = 'mutation { cancelSelectionOrder(id: "1") { id } }'
    response = await caller.client.get("/graphql", params={"query": query}, headers=caller.headers)
    assert response.status_code == 405


async def test_fields_above_the_callers_tier_are_refused(
    register: dict[str, list[str]], client: httpx.AsyncClient, settings: Settings
) -> None:
    basic = Caller(client, settings, tier=Tier.BASIC)
    answer = await basic.post(
        """mutation { orderSelection(criteria: {}, purpose: "x", fields: [KEY_CODE]) { id } }"""
    )
    assert answer["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "fields"}
    assert "KEY_CODE" in answer["errors"][0]["message"]


async def test_the_csv_opens_in_a_spreadsheet_and_every_person_in_it_is_logged(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(
        GÖTEBORG, ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME", "KEY_CODE"]
    )
    await run_worker(clean_db, settings, order_id)
    status = await caller.status(order_id)
    assert (status["status"], status["rowCount"], status["price"]) == ("DONE", 2, "1074.20")
    assert status["progress"] == 1 and status["downloadUrl"] == f"/selections/{order_id}/file"
    response = await caller.download(order_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="urval-{order_id}.csv"'
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: a spreadsheet reads UTF-8
    assert hashlib.sha256(body).hexdigest() == status["checksum"]
    assert len(body) == status["fileSize"]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["personnummer", "firstNames", "lastName", "keyCode"]
    assert [row[0] for row in rows[1:]] == register["selected"]
    assert ["Åsa", "Öberg"] in [row[1:3] for row in rows]
    logged = await clean_db.fetch(
        "SELECT personnummer, root_fields, case_reference, organisation FROM access_log "
        "WHERE request_id = (SELECT request_id FROM selection_order WHERE id = $1) "
        "ORDER BY personnummer",
        int(order_id),
    )
    assert [row["personnummer"] for row in logged] == register["selected"]
    assert {(row["root_fields"], row["case_reference"], row["organisation"]) for row in logged} == {
        ("selectionExport", "ÄR-2026/11", "1480")
    }


async def test_ndjson_holds_one_person_a_line_and_ranges_resume_a_download(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(
        GÖTEBORG, ["PERSONNUMMER", "LAST_NAME", "POSTAL_TOWN"], format="NDJSON"
    )
    await run_worker(clean_db, settings, order_id)
    whole = (await caller.download(order_id)).content
    lines = [json.loads(line) for line in whole.decode().splitlines()]
    assert [line["personnummer"] for line in lines] == register["selected"]
    assert {line["postalTown"] for line in lines} == {"GÖTEBORG"}
    first = await caller.download(order_id, Range="bytes=0-9")
    rest = await caller.download(order_id, Range="bytes=10-")
    assert (first.status_code, rest.status_code) == (206, 206)
    assert first.content + rest.content == whole


async def test_a_file_is_only_for_its_organisation_when_ready_and_until_it_expires(
    register: dict[str, list[str]],
    caller: Caller,
    client: httpx.AsyncClient,
    clean_db: asyncpg.Pool,
    settings: Settings,
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    assert (await caller.download(order_id)).status_code == 409
    await run_worker(clean_db, settings, order_id)
    other = Caller(client, settings, organisation="1490")
    assert (await other.download(order_id)).status_code == 404
    assert (await Caller(client, settings, roles=()).download(order_id)).status_code == 403
    assert (await client.get(f"/selections/{order_id}/file")).status_code == 401
    await clean_db.execute("UPDATE selection_order SET expires_at = now() - interval '1 second'")
    gone = await caller.download(order_id)
    assert gone.status_code == 410 and gone.json()["errors"][0]["extensions"]["code"] == (
        "SELECTION_EXPIRED"
    )
    assert (await caller.status(order_id))["status"] == "EXPIRED"


async def test_a_cancelled_order_is_never_run_and_cannot_be_cancelled_again(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    cancel = "mutation C($id: ID!) { cancelSelectionOrder(id: $id) { status } }"
    answer = await caller.post(cancel, {"id": order_id})
    assert answer["data"]["cancelSelectionOrder"] == {"status": "CANCELLED"}
    await run_worker(clean_db, settings, order_id)
    assert (await caller.status(order_id))["status"] == "CANCELLED"
    assert list(settings.selection_files.glob(f"{order_id}-*")) == []
    again = await caller.post(cancel, {"id": order_id})
    assert again["errors"][0]["extensions"]["reason"] == "NOT_CANCELLABLE"


async def test_an_organisation_at_its_cap_is_refused_one_more_order(
    register: dict[str, list[str]], caller: Caller, client: httpx.AsyncClient, settings: Settings
) -> None:
    for _ in range(settings.selection_max_active_orders):
        await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    answer = await caller.post(ORDER_ONE, {})
    assert answer["errors"][0]["extensions"] == {"code": "TOO_MANY_ORDERS", "limit": 10}
    assert answer["data"] == {"orderSelection": None}
    # Another organisation's orders are its own.
    assert "errors" not in await Caller(client, settings, organisation="1490").post(ORDER_ONE, {})


ORDER_ONE = 'mutation { orderSelection(criteria: {}, purpose: "x", fields: [PERSONNUMMER]) { id } }'


async def test_finance_lists_every_delivered_order_with_its_price(
    register: dict[str, list[str]],
    caller: Caller,
    client: httpx.AsyncClient,
    clean_db: asyncpg.Pool,
    settings: Settings,
) -> None:
    delivered = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    await caller.order(GÖTEBORG, ["PERSONNUMMER"])  # still queued: not billed
    await run_worker(clean_db, settings, delivered)
    billing = """query B($from: DateTime!, $to: DateTime!) {
      selectionBilling(from: $from, to: $to) { id organisation orderedBy rowCount price } }"""
    now = dt.datetime.now(dt.UTC)
    period = {
        "from": (now - dt.timedelta(hours=1)).isoformat(),
        "to": (now + dt.timedelta(hours=1)).isoformat(),
    }
    finance = Caller(client, settings, roles=("finance",), organisation="Västfolket")
    answer = await finance.post(billing, period)
    assert answer["data"]["selectionBilling"] == [
        {"id": delivered, "organisation": "1480", "orderedBy": "handlaggare", "rowCount": 2,
         "price": "1074.20"}
    ]  # fmt: skip
    assert (await caller.post(billing, period))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
