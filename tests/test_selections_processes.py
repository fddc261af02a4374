"""Selections over real processes: orders placed through several `vastfolket serve`
processes and run by several `vastfolket worker` processes, each once; the mutation
refused over GET and the expired file over the real server; an order cancelled while
queued that no worker runs; an export that fails, what the official sees, and the retry;
the official's whole path with curl, as docs/examples/selection.sh walks it."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
from pathlib import Path

import asyncpg
import pytest

from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.domain.access import Tier
from tests.running import run
from tests.selection_workers import file_rows, finished, logged, served, workers
from tests.selections import ORDER_STATUS, Caller, caller, register

__all__ = ["caller", "register"]  # fixtures

GÖTEBORG = {"municipalities": ["1480"]}
FIELDS = ["PERSONNUMMER", "LAST_NAME", "POSTAL_TOWN"]
CANCEL = "mutation C($id: ID!) { cancelSelectionOrder(id: $id) { status } }"
RETRY = "mutation R($id: ID!) { retrySelectionOrder(id: $id) { status error } }"


async def test_orders_through_several_api_processes_run_once_each_on_several_workers(
    register: dict[str, list[str]], clean_db: asyncpg.Pool, database_url: str,
    settings: Settings,
) -> None:  # fmt: skip
    async with served(database_url, settings, processes=2) as client:
        callers = [Caller(client, settings, organisation=org) for org in ("1480", "1490")]
        placed = await asyncio.gather(
            *(callers[index % 2].order(GÖTEBORG, FIELDS) for index in range(8))
        )
        with workers(database_url, settings, count=2):
            statuses = [
                await finished(callers[index % 2], order_id)
                for index, order_id in enumerate(placed)
            ]
        assert [status["status"] for status in statuses] == ["DONE"] * 8
        for index, order_id in enumerate(placed):
            rows = await file_rows(callers[index % 2], order_id)
            assert [row[0] for row in rows[1:]] == register["selected"]
    attempts = await clean_db.fetch("SELECT attempt FROM selection_order ORDER BY id")
    assert [row["attempt"] for row in attempts] == [1] * 8  # each taken up once
    assert [await logged(clean_db, order_id) for order_id in placed] == [1] * 8
    names = sorted(path.name for path in Path(settings.selection_files).iterdir())
    assert names == sorted(f"{order_id}-1.csv" for order_id in placed)


async def test_the_real_server_refuses_the_mutation_over_get_and_an_expired_file(
    register: dict[str, list[str]], clean_db: asyncpg.Pool, database_url: str,
    settings: Settings,
) -> None:  # fmt: skip
    async with served(database_url, settings) as client:
        caller = Caller(client, settings)
        order = (
            'mutation { orderSelection(criteria: {}, purpose: "x", fields: [PERSONNUMMER]) { id } }'
        )
        response = await client.get("/graphql", params={"query": order}, headers=caller.headers)
        assert response.status_code == 405
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
        assert await clean_db.fetchval("SELECT count(*) FROM selection_order") == 0
        order_id = await caller.order(GÖTEBORG, FIELDS)
        with workers(database_url, settings):
            assert (await finished(caller, order_id))["status"] == "DONE"
        assert (await caller.download(order_id)).status_code == 200
        await clean_db.execute("UPDATE selection_order SET expires_at = now() - interval '1 s'")
        gone = await caller.download(order_id)
        assert gone.status_code == 410
        assert gone.json()["errors"][0]["extensions"]["code"] == "SELECTION_EXPIRED"
        assert (await caller.status(order_id))["status"] == "EXPIRED"


# The worker runs no GraphQL: the engine changes nothing of it (one engine keeps it short).
@pytest.mark.engines("fast")
async def test_an_order_cancelled_while_queued_is_never_run_by_a_worker(
    register: dict[str, list[str]], clean_db: asyncpg.Pool, database_url: str,
    settings: Settings, caller: Caller,
) -> None:  # fmt: skip
    cancelled, kept = [await caller.order(GÖTEBORG, FIELDS) for _ in "ab"]
    answer = await caller.post(CANCEL, {"id": cancelled})
    assert answer["data"]["cancelSelectionOrder"] == {"status": "CANCELLED"}
    with workers(database_url, settings):
        assert (await finished(caller, kept))["status"] == "DONE"
    status = await caller.status(cancelled)
    assert (status["status"], status["downloadUrl"], status["rowCount"]) == (
        "CANCELLED",
        None,
        None,
    )
    assert list(settings.selection_files.glob(f"{cancelled}-*")) == []
    assert await logged(clean_db, cancelled) == 0
    assert (await caller.download(cancelled)).status_code == 409


@pytest.mark.engines("fast")
async def test_a_failed_export_says_why_leaves_nothing_and_the_official_retries_it(
    register: dict[str, list[str]], clean_db: asyncpg.Pool, database_url: str,
    settings: Settings, caller: Caller, tmp_path: Path,
) -> None:  # fmt: skip
    order_id = await caller.order(GÖTEBORG, FIELDS)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    with workers(database_url, settings, VASTFOLKET_SELECTION_FILES_DIR=str(blocked / "files")):
        status = await finished(caller, order_id)
    assert (status["status"], status["rowCount"], status["downloadUrl"]) == ("FAILED", None, None)
    assert status["error"] == (
        "The file could not be written on the server (Not a directory). "
        "retrySelectionOrder runs the order again."
    )
    refused = await caller.download(order_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["errors"][0]["extensions"]["code"] == "SELECTION_NOT_READY"
    assert await logged(clean_db, order_id) == 0
    assert not list(settings.selection_files.glob(f"{order_id}-*"))
    # Billing has nothing of it; the official runs it again, once the files are fixed.
    assert await clean_db.fetchval("SELECT price FROM selection_order") is None
    again = await caller.post(RETRY, {"id": order_id})
    assert again["data"]["retrySelectionOrder"] == {"status": "QUEUED", "error": None}
    with workers(database_url, settings):
        status = await finished(caller, order_id)
    assert (status["status"], status["rowCount"], status["price"]) == ("DONE", 2, "1074.20")
    rows = await file_rows(caller, order_id)
    assert [row[0] for row in rows[1:]] == register["selected"]
    assert await logged(clean_db, order_id) == 1
    done = await caller.post(RETRY, {"id": order_id})
    assert done["errors"][0]["extensions"]["reason"] == "NOT_RETRYABLE"
    assert (await caller.post(ORDER_STATUS, {"id": order_id}))["data"]["selectionOrder"][
        "error"
    ] is None


SCRIPT = Path(__file__).parents[1] / "docs" / "examples" / "selection.sh"


async def test_the_officials_path_with_curl_runs_as_the_docs_give_it(
    register: dict[str, list[str]], database_url: str, settings: Settings, tmp_path: Path
) -> None:
    token = mint_dev_token(
        settings, subject="handlaggare", tier=Tier.BASIC, organisation="1480", roles=["selection"]
    )
    async with served(database_url, settings) as client:
        env = {"PATH": os.environ["PATH"], "VASTFOLKET_URL": str(client.base_url),
               "VASTFOLKET_TOKEN": token, "CRITERIA": json.dumps(GÖTEBORG)}  # fmt: skip
        with workers(database_url, settings):
            done = await asyncio.to_thread(run, ["bash", str(SCRIPT)], env, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        printed = done.stdout.splitlines()
        assert json.loads(printed[0]) == {
            "selectionPreview": {"count": 2, "price": {"total": "1074.20"}}
        }
        order_id = printed[1].removeprefix("order ")
        followed = [json.loads(line) for line in printed[2:-1]]
        assert followed[-1]["status"] == "DONE" and followed[-1]["rowCount"] == 2
        assert printed[-1] == f"urval-{order_id}.csv: OK"
        path = tmp_path / f"urval-{order_id}.csv"
        whole = path.read_bytes()
        rows = list(csv.reader(io.StringIO(whole.decode("utf-8-sig")), delimiter=";"))
        assert rows[0][:3] == ["personnummer", "firstNames", "lastName"]
        assert [row[0] for row in rows[1:]] == register["selected"]
        # A broken download resumed as the script does it; a whole one has nothing left
        # to send (416: curl says so, the file is left as it is).
        resume = ["curl", "-sS", "--fail", "-C", "-", "-H", f"Authorization: Bearer {token}",
                  "-o", path.name, f"{client.base_url}/selections/{order_id}/file"]  # fmt: skip
        path.write_bytes(whole[:40])
        again = await asyncio.to_thread(run, resume, env, cwd=tmp_path)
        assert (again.returncode, path.read_bytes()) == (0, whole), again.stderr
        again = await asyncio.to_thread(run, resume, env, cwd=tmp_path)
        assert (again.returncode, path.read_bytes()) == (22, whole)  # curl's code for a 4xx
        assert "416" in again.stderr
