"""Operators' metrics of imports, read from the ledger at each scrape of the API."""

from __future__ import annotations

import time

import asyncpg
import httpx
import pytest

from resolvers.imports.source import ImportRefused
from tests.conftest import counted
from tests.factories import number
from tests.importing import apply, changes, full_extract, record


async def test_the_api_shows_imports_whichever_process_made_them(
    register: asyncpg.Pool, database_url: str, client: httpx.AsyncClient
) -> None:
    before = (await client.get("/metrics")).text
    assert counted(before, "vastfolket_import_ledger_up") == 1
    assert counted(before, 'vastfolket_import_files_total{status="applied"}') == 0
    await apply(database_url, full_extract(record(number(), 1), record(number(), 2)))
    await apply(database_url, changes(record(number(), 3)))
    broken = changes(record(number(), 4), record(number(), 5))
    broken.fail_at_end = True
    with pytest.raises(ImportRefused):
        await apply(database_url, broken)

    text = (await client.get("/metrics")).text
    assert counted(text, 'vastfolket_import_files_total{status="applied"}') == 2
    assert counted(text, 'vastfolket_import_files_total{status="failed"}') == 1
    assert counted(text, "vastfolket_import_records_total") == 3
    finished = counted(text, "vastfolket_import_last_success_timestamp_seconds")
    assert time.time() - 60 < finished <= time.time()


async def test_a_scrape_answers_when_the_ledger_cannot_be_read(
    settings: object, database_url: str
) -> None:
    from api.app import create_app
    from resolvers.db import create_pool

    closed = await create_pool(database_url, min_size=1, max_size=1)
    await closed.close()
    app = create_app(settings, pool=closed)  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert counted(response.text, "vastfolket_import_ledger_up") == 0
    assert "vastfolket_import_files_total" not in response.text
