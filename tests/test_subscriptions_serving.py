"""Subscriptions across a server's workers: each worker hears PostgreSQL's notification
on a connection of its own and wakes its subscribers (the tick, a minute here, would
be far too late), listens again when that connection is cut, and closes its
WebSockets with 1001 when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed

from api.change_listener import APPLICATION_NAME
from resolvers.changes.notify import notify
from tests.importing import apply, changes, record
from tests.subscribing import Served, Subscriber, connected, fresh_numbers, serving

LISTENERS = "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = $2"
DATABASE = "vastfolket_ws_serving"


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    # One connection per caller and worker: a caller's second connection that is
    # accepted is on the other worker.
    with serving(
        server_uri, engine, tmp_path_factory, DATABASE, workers=2,
        VASTFOLKET_FEED_TICK_SECONDS="60", VASTFOLKET_WS_MAX_CONNECTIONS_PER_CALLER="1",
        VASTFOLKET_SHUTDOWN_DRAIN_SECONDS="2",
    ) as running:  # fmt: skip
        yield running


@pytest.fixture
async def owner(served: Served) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(served.owner_url)
    yield connection
    await connection.close()


@contextlib.asynccontextmanager
async def on_both_workers(served: Served, subject: str) -> AsyncIterator[list[Subscriber]]:
    """Two subscribers of one caller, each on a worker of its own, subscribed."""
    bearer = served.token(subject)
    async with contextlib.AsyncExitStack() as stack:
        accepted: list[Subscriber] = []
        for _ in range(100):
            subscriber = await stack.enter_async_context(connected(served.server))
            with contextlib.suppress(ConnectionClosed):  # 4430: that worker holds one
                if await subscriber.init({"token": bearer}) == {"type": "connection_ack"}:
                    accepted.append(subscriber)
            if len(accepted) == 2:
                break
        assert len(accepted) == 2, "every connection went to the same worker"
        for subscriber in accepted:
            await subscriber.follow("1")
        yield accepted


async def _received(subscribers: list[Subscriber], person: str, within: float) -> None:
    for subscriber in subscribers:
        [event] = await subscriber.events("1", 1, timeout=within)
        assert event["personnummer"] == person


async def test_subscribers_on_every_worker_receive_an_imports_events_at_once(
    served: Served, owner: asyncpg.Connection
) -> None:
    (person,) = fresh_numbers(1)
    async with on_both_workers(served, "workers") as subscribers:
        await apply(served.owner_url, changes(record(person, 1)))
        await notify(owner)  # as an import does when it commits
        await _received(subscribers, person, within=5)


async def _listeners(owner: asyncpg.Connection) -> list[int]:
    return [row["pid"] for row in await owner.fetch(LISTENERS, APPLICATION_NAME, DATABASE)]


async def test_a_worker_listens_again_when_its_connection_is_cut_and_wakes_everyone(
    served: Served, owner: asyncpg.Connection
) -> None:
    first, second = fresh_numbers(2)
    insert = "INSERT INTO change_event (personnummer, kind) VALUES ($1, 'CREATED')"
    async with on_both_workers(served, "cut") as subscribers:
        cut = await _listeners(owner)
        assert len(cut) == 2
        for pid in cut:
            await owner.execute("SELECT pg_terminate_backend($1)", pid)
        await owner.execute(insert, first)  # its notification would find no one
        await _received(subscribers, first, within=10)  # woken once listening again
        deadline = time.monotonic() + 10
        while len(listening := await _listeners(owner)) < 2:
            assert time.monotonic() < deadline, "the workers did not listen again"
            await asyncio.sleep(0.1)
        assert not set(listening) & set(cut)
        await owner.execute(insert, second)
        await notify(owner)
        await _received(subscribers, second, within=5)


async def test_stopping_closes_every_websocket_with_1001_after_the_drain(
    served: Served,
) -> None:
    async with on_both_workers(served, "stopping") as subscribers:
        served.server.send(signal.SIGTERM)
        await asyncio.sleep(0.5)
        async with connected(served.server) as late:  # during the drain: not taken
            code, reason = await late.closed()
        assert code == 1001 and "stopping" in str(reason)
        # The subscriptions go on through the drain (2 s here), then close.
        await asyncio.gather(*(subscriber.quiet(1) for subscriber in subscribers))
        for subscriber in subscribers:
            code, reason = await subscriber.closed(timeout=5)
            assert code == 1001 and "resume from your last cursor" in str(reason)
