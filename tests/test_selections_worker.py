"""Orders run by real `vastfolket worker` processes: the file of an order placed through
the API; a worker killed (SIGKILL) in the middle of an order and another started, the
order done once with the right rows and a whole file; several workers, each order once;
a running order's progress; an order cancelled while it runs, its export stopped."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from pgqueuer import QueueManager
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries

from api.settings import Settings
from resolvers.selections.file import PROGRESS_SECONDS
from tests.selection_workers import crowd, file_rows, finished, logged, workers
from tests.selections import Caller, caller, register

__all__ = ["caller", "register"]  # fixtures

GÖTEBORG = {"municipalities": ["1480"]}
FIELDS = ["PERSONNUMMER", "FIRST_NAMES", "LAST_NAME", "POSTAL_TOWN"]


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


# A running export's progress is held in place for the test to read: its first report
# takes longer than the reports' interval (so the next comes at the next rows), and
# every later one waits for the test's advisory lock — the COPY waits with it.
HOLD_PROGRESS = f"""
CREATE FUNCTION hold_progress() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NOT EXISTS (
        SELECT 1 FROM selection_progress WHERE order_id = NEW.order_id
    ) THEN
        PERFORM pg_sleep({PROGRESS_SECONDS + 0.5});
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM pg_advisory_xact_lock_shared(4711);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER hold_progress BEFORE INSERT OR UPDATE ON selection_progress
FOR EACH ROW EXECUTE FUNCTION hold_progress();
"""
RELEASE_PROGRESS = "DROP TRIGGER hold_progress ON selection_progress; DROP FUNCTION hold_progress"
ALL_FIELDS = [*FIELDS[:3], "CARE_OF", "ADDRESS_LINE1", "ADDRESS_LINE2", "POSTAL_CODE", *FIELDS[3:]]
CROWD_SIZE = 5000  # over a megabyte: the COPY's rows come in many chunks


@asynccontextmanager
async def progress_held(pool: asyncpg.Pool, database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """The trigger, and the lock held on a connection of the test's own (yielded)."""
    holder = await asyncpg.connect(database_url)
    await holder.execute("SELECT pg_advisory_lock(4711)")
    await pool.execute(HOLD_PROGRESS)
    try:
        yield holder
    finally:
        await holder.close()  # the lock with it
        await pool.execute(RELEASE_PROGRESS)


@pytest.mark.engines("fast")
async def test_a_running_order_shows_its_progress(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool,
    database_url: str, settings: Settings,
) -> None:  # fmt: skip
    crowd_numbers = await crowd(clean_db, CROWD_SIZE)
    order_id = await caller.order(GÖTEBORG, ALL_FIELDS)
    async with progress_held(clean_db, database_url) as holder:
        with workers(database_url, settings):
            deadline = time.monotonic() + 60
            while not (status := await caller.status(order_id))["progress"]:
                assert time.monotonic() < deadline, status
                await asyncio.sleep(0.1)
            assert status["status"] == "RUNNING" and 0 < status["progress"] < 1, status
            assert (await caller.download(order_id)).status_code == 409
            await holder.execute("SELECT pg_advisory_unlock(4711)")
            status = await finished(caller, order_id)
    assert (status["status"], status["progress"]) == ("DONE", 1)
    assert status["rowCount"] == CROWD_SIZE + len(register["selected"])
    rows = await file_rows(caller, order_id)
    assert [row[0] for row in rows[1:]] == sorted([*crowd_numbers, *register["selected"]])


@pytest.mark.engines("fast")
async def test_an_order_cancelled_while_it_runs_stops_its_export_and_leaves_no_file(
    register: dict[str, list[str]], caller: Caller, clean_db: asyncpg.Pool,
    database_url: str, settings: Settings,
) -> None:  # fmt: skip
    await crowd(clean_db, CROWD_SIZE)
    order_id = await caller.order(GÖTEBORG, ALL_FIELDS)
    async with progress_held(clean_db, database_url):
        with workers(database_url, settings) as (worker,):
            deadline = time.monotonic() + 60
            while not await clean_db.fetchval(FIRST_REPORT_WAITING):  # rows are copied
                assert time.monotonic() < deadline, worker.output
                await asyncio.sleep(0.05)
            answer = await caller.post(CANCEL, {"id": order_id})
            assert answer["data"]["cancelSelectionOrder"] == {"status": "CANCELLED"}, answer
            worker.read_until("superseded or cancelled", timeout=60)
            # Stopped at its next report: far from the end of its rows.
            written = await clean_db.fetchval("SELECT rows_written FROM selection_progress")
            assert 0 < written < CROWD_SIZE
    assert (await caller.status(order_id))["status"] == "CANCELLED"
    assert list(settings.selection_files.glob(f"{order_id}-*")) == []
    assert await logged(clean_db, order_id) == 0
    assert (await caller.download(order_id)).status_code == 409


CANCEL = "mutation C($id: ID!) { cancelSelectionOrder(id: $id) { status } }"
FIRST_REPORT_WAITING = """
SELECT EXISTS (
    SELECT 1 FROM pg_stat_activity
    WHERE wait_event = 'PgSleep' AND query LIKE '%INSERT INTO selection_progress%'
)
"""
