"""Orders run by real `vastfolket worker` processes: the file of an order placed through
the API; a worker killed (SIGKILL) in the middle of an order and another started, the
order done once with the right rows and a whole file; several workers, each order once."""

from __future__ import annotations

import asyncio
import csv
import io
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
from pgqueuer import QueueManager
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from api.settings import Settings
from api.worker import STARTED
from tests.running import Server, fresh_env
from tests.selections import Caller, caller, register

__all__ = ["caller", "register"]  # fixtures

GÖTEBORG = {"municipalities": ["1480"]}
FIELDS = ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME", "POSTAL_TOWN"]
HEARTBEAT = 2  # seconds: a killed worker's job is picked again this soon


@contextmanager
def workers(database_url: str, settings: Settings, count: int = 1) -> Iterator[list[Server]]:
    """``count`` worker processes on the test database, sharing the app's files."""
    env = fresh_env(
        settings.data_dir,
        DATABASE_URL=database_url,
        VASTFOLKET_SELECTION_FILES_DIR=str(settings.selection_files),
        VASTFOLKET_SELECTION_HEARTBEAT_SECONDS=str(HEARTBEAT),
    )
    started = [Server([sys.executable, "-m", "api", "worker"], env, 0) for _ in range(count)]
    try:
        for worker in started:
            worker.read_until(STARTED, timeout=60)
        yield started
    finally:
        for worker in started:
            worker.stop(signal.SIGTERM, timeout=30)


async def finished(caller: Caller, order_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        status = await caller.status(order_id)
        if status["status"] not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            return status
        await asyncio.sleep(0.2)


async def file_rows(caller: Caller, order_id: str) -> list[list[str]]:
    response = await caller.download(order_id)
    assert response.status_code == 200, response.text
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


async def logged(pool: asyncpg.Pool, order_id: str) -> int:
    """Request rows the order's export wrote to the access log."""
    return int(
        await pool.fetchval(
            "SELECT count(*) FROM access_request WHERE root_fields = 'selectionExport' "
            "AND request_id = (SELECT request_id FROM selection_order WHERE id = $1)",
            int(order_id),
        )
    )


async def test_the_queue_s_tables_are_as_pgqueuer_wants_them(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await QueueManager(Queries(AsyncpgDriver(connection))).verify_structure()
    finally:
        await connection.close()


async def test_a_worker_runs_an_order_placed_through_the_api(
    register: dict[str, list[str]],
    caller: Caller,
    clean_db: asyncpg.Pool,
    database_url: str,
    settings: Settings,
) -> None:
    order_id = await caller.order(GÖTEBORG, FIELDS)
    with workers(database_url, settings):
        status = await finished(caller, order_id)
    assert (status["status"], status["rowCount"], status["price"]) == ("DONE", 2, "1074.20")
    rows = await file_rows(caller, order_id)
    assert [row[0] for row in rows[1:]] == register["selected"]
    assert await logged(clean_db, order_id) == 1


# The export runs no GraphQL: the engine changes nothing of it (one engine keeps it short).
@pytest.mark.engines("fast")
async def test_a_worker_killed_mid_order_leaves_it_to_the_next_which_completes_it_once(
    register: dict[str, list[str]],
    caller: Caller,
    clean_db: asyncpg.Pool,
    database_url: str,
    settings: Settings,
) -> None:
    order_id = await caller.order(GÖTEBORG, FIELDS)
    blocker = await asyncpg.connect(database_url)
    holding = blocker.transaction()
    await holding.start()
    await blocker.execute("LOCK TABLE address IN ACCESS EXCLUSIVE MODE")  # its COPY waits
    try:
        with workers(database_url, settings) as (worker,):
            deadline = time.monotonic() + 30
            while not list(settings.selection_files.glob(f"{order_id}-1.part")):
                assert time.monotonic() < deadline, worker.output
                await asyncio.sleep(0.1)
            assert (await caller.status(order_id))["status"] == "RUNNING"
            worker.stop(signal.SIGKILL)
    finally:
        await holding.rollback()
        await blocker.close()
    assert (await caller.status(order_id))["status"] == "RUNNING"  # nothing was marked done
    with workers(database_url, settings):
        status = await finished(caller, order_id)
    assert (status["status"], status["rowCount"]) == ("DONE", 2)
    rows = await file_rows(caller, order_id)
    assert [row[0] for row in rows[1:]] == register["selected"]
    files = sorted(path.name for path in Path(settings.selection_files).glob(f"{order_id}-*"))
    assert files == [f"{order_id}-2.csv"]  # the killed attempt's part is gone
    assert await logged(clean_db, order_id) == 1


@pytest.mark.engines("fast")
async def test_several_workers_run_each_order_once(
    register: dict[str, list[str]],
    caller: Caller,
    clean_db: asyncpg.Pool,
    database_url: str,
    settings: Settings,
) -> None:
    orders = [await caller.order(GÖTEBORG, FIELDS) for _ in range(4)]
    with workers(database_url, settings, count=2):
        statuses = [await finished(caller, order_id) for order_id in orders]
    assert [status["status"] for status in statuses] == ["DONE"] * 4
    attempts = await clean_db.fetch("SELECT attempt FROM selection_order ORDER BY id")
    assert [row["attempt"] for row in attempts] == [1] * 4
    assert [await logged(clean_db, order_id) for order_id in orders] == [1] * 4


async def test_a_worker_deletes_the_files_that_may_no_longer_be_kept(
    register: dict[str, list[str]], caller: Caller, database_url: str, settings: Settings,
    clean_db: asyncpg.Pool,
) -> None:  # fmt: skip
    with workers(database_url, settings):
        order_id = await caller.order(GÖTEBORG, FIELDS)
        assert (await finished(caller, order_id))["status"] == "DONE"
    await clean_db.execute("UPDATE selection_order SET expires_at = now() WHERE id = $1",
                           int(order_id))  # fmt: skip
    assert list(settings.selection_files.iterdir())  # the file is there, past its expiry
    with workers(database_url, settings):  # a worker sweeps when it starts
        deadline = time.monotonic() + 30
        while list(settings.selection_files.iterdir()) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
    assert list(settings.selection_files.iterdir()) == []
