"""What the selection tests over real processes share: `vastfolket worker` processes
and a `vastfolket serve` on the test database, both sharing the app's files and key;
waiting for an order; a file's rows; the export's log; and a crowd of persons, enough
for an export to take several chunks."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import httpx

from api.settings import Settings
from api.worker import STARTED
from resolvers.domain.personnummer import make
from tests import factories
from tests.running import Server, fresh_env
from tests.selections import Caller

HEARTBEAT = 2  # seconds: a killed worker's job is picked again this soon


def environment(database_url: str, settings: Settings, **more: str) -> dict[str, str]:
    """A process's environment on the test database, with the app's key and files."""
    given = {
        "DATABASE_URL": database_url,
        "VASTFOLKET_SELECTION_FILES_DIR": str(settings.selection_files),
        "VASTFOLKET_SELECTION_HEARTBEAT_SECONDS": str(HEARTBEAT),
        "VASTFOLKET_SHUTDOWN_DRAIN_SECONDS": "0",
    }
    return fresh_env(settings.data_dir, **{**given, **more})


@contextmanager
def workers(
    database_url: str, settings: Settings, count: int = 1, **more: str
) -> Iterator[list[Server]]:
    """``count`` worker processes on the test database, sharing the app's files."""
    env = environment(database_url, settings, **more)
    started = [Server([sys.executable, "-m", "api", "worker"], env, 0) for _ in range(count)]
    try:
        for worker in started:
            worker.read_until(STARTED, timeout=60)
        yield started
    finally:
        stuck = []
        for worker in started:
            try:
                worker.stop(signal.SIGTERM, timeout=60)
            except subprocess.TimeoutExpired:
                worker.stop(signal.SIGKILL)
                stuck.append(worker.output)
        assert not stuck, f"a worker did not stop on SIGTERM:\n{stuck[0]}"


@asynccontextmanager
async def served(
    database_url: str, settings: Settings, *, processes: int = 1
) -> AsyncIterator[httpx.AsyncClient]:
    """`vastfolket serve --workers processes` on the test database; a client of it."""
    env = environment(database_url, settings, VASTFOLKET_DEMO_PERSONS="0")
    server = await asyncio.to_thread(Server.serve, env, workers=processes)
    try:
        async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
            yield client
    finally:
        status = await asyncio.to_thread(server.stop)
    assert status == 0, server.output


async def finished(caller: Caller, order_id: str, timeout: float = 90) -> dict[str, Any]:
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


# Persons of a birth year no other test uses (the access log outlives each test), with
# long names and addresses: a few thousand fill a file of over a megabyte.
CROWD = """
WITH born AS (
    INSERT INTO person (personnummer, birth_date, first_names, last_name, key_code,
                        civil_status)
    SELECT number, to_date(left(number, 8), 'YYYYMMDD'),
           'Karl-Åke Sven-Erik Carl-Gustaf Per-Olof Lars-Göran',
           'Långström-Öhrvall-Ärlebäck-Sjöqvist-Kärrholm', '148011', 'OG'
    FROM unnest($1::text[]) AS number
    RETURNING id
)
INSERT INTO address (person_id, kind, care_of, line1, line2, postal_code, postal_town,
                     county_code, municipality_code)
SELECT id, 'F', 'c/o Förvaltningen för äldreomsorg', 'Lägenhet 1103, trappa 4',
       'Östra Hamngatan 24 B', '41263', 'GÖTEBORG', '14', '80'
FROM born
"""
CROWD_BORN = dt.date(1923, 3, 1)  # and the days after it, 500 a day
CROWD_ROW = 250  # bytes a person takes in a file of every field, about


async def crowd(pool: asyncpg.Pool, count: int) -> list[str]:
    """``count`` persons registered in Göteborg, born in 1923; their numbers."""
    numbers = [
        make(CROWD_BORN + dt.timedelta(days=index // 500), index % 500 * 2 + 1).digits
        for index in range(count)
    ]
    await pool.execute(CROWD, numbers)
    await factories.restate(pool)
    return sorted(numbers)
