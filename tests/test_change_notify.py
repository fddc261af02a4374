"""An import file that wrote change events wakes the feed's listeners as it commits; one
that rolled back (refused, a dry run, applied before) or wrote none does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from resolvers.changes.notify import CHANNEL
from tests import navet_files as nf
from tests.factories import number
from tests.importing import apply_navet

PERSON = number()


class Listener:
    """A connection of its own LISTENing on the feed's channel, counting what it hears."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection, self.heard = connection, asyncio.Queue[str]()

    def __call__(self, _connection: object, _pid: int, channel: str, payload: str) -> None:
        self.heard.put_nowait(channel)

    async def woken(self) -> bool:
        """Was it woken since the last call? (A notification arrives right after the
        commit; a round trip on the listener's connection lets it in.)"""
        await self.connection.fetchval("SELECT 1")
        await asyncio.sleep(0.2)
        woken = not self.heard.empty()
        while not self.heard.empty():
            self.heard.get_nowait()
        return woken


@pytest.fixture
async def listener(register: asyncpg.Pool, database_url: str) -> AsyncIterator[Listener]:
    connection = await asyncpg.connect(database_url)
    listening = Listener(connection)
    await connection.add_listener(CHANNEL, listening)
    try:
        yield listening
    finally:
        await connection.close()


def notice(path: Path, *records: str, job_id: int, **options: object) -> Path:
    return nf.navet_file(path, records, order_type="ANDRINGSAVISERING", job_id=job_id, **options)


async def test_an_applied_file_wakes_the_listeners(
    listener: Listener, database_url: str, tmp_path: Path
) -> None:
    outcome = await apply_navet(
        database_url, notice(tmp_path / "1.xml", nf.record(1, PERSON), job_id=1)
    )
    assert outcome.status == "applied"
    assert await listener.woken()


async def test_a_file_rolled_back_or_writing_no_event_wakes_no_one(
    listener: Listener, database_url: str, tmp_path: Path
) -> None:
    dry = notice(tmp_path / "dry.xml", nf.record(1, PERSON), job_id=1)
    assert (await apply_navet(database_url, dry, dry_run=True)).status == "dry run"
    refused = notice(tmp_path / "bad.xml", nf.record(1, PERSON), job_id=2, count=2)
    with pytest.raises(Exception, match="AntalPoster"):
        await apply_navet(database_url, refused)
    assert not await listener.woken()

    first = notice(tmp_path / "1.xml", nf.record(1, PERSON), job_id=3)
    await apply_navet(database_url, first)
    assert await listener.woken()
    assert (await apply_navet(database_url, first)).status == "already applied"
    same = notice(tmp_path / "2.xml", nf.record(2, PERSON), job_id=4)  # changes nothing
    assert (await apply_navet(database_url, same)).counts["unchanged"] == 1
    assert not await listener.woken()
