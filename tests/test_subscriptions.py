"""Following the change feed over WebSocket, through the real server: events as they
commit, in order, each once, under the caller's tier, written to the access log before
they leave; resuming from a cursor; and what refuses or ends a subscription."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed

from resolvers.changes.notify import notify
from resolvers.domain.access import Tier
from tests.importing import apply, changes, names, record
from tests.subscribing import (
    ROLE,
    Served,
    following,
    fresh_numbers,
    owner,
    serving,
    small_receive_buffer,
)

# About a kilobyte an event (sent uncompressed): the buffers between the server and a
# client fill sooner.
BULKY = (
    "subscription ($after: String) { changes(after: $after) { "
    + " ".join(f"p{n}: personnummer" for n in range(45))
    + " } }"
)

__all__ = ["owner"]  # a fixture of tests/subscribing.py


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(server_uri, engine, tmp_path_factory, "vastfolket_ws_feed") as running:
        yield running


async def test_a_subscriber_receives_each_event_committed_after_it_subscribed_once_in_order(
    served: Served,
) -> None:
    before, a, b, c = fresh_numbers(4)
    await apply(served.owner_url, changes(record(before, 1)))
    async with following(served.server, served.token("order")) as subscriber:
        await subscriber.subscribe("1")
        await subscriber.quiet(1.5)  # what committed before is not sent
        await apply(served.owner_url, changes(record(a, 2), record(b, 3)))
        first = await subscriber.events("1", 2)
        await apply(served.owner_url, changes(record(c, 4), record(a, 5, names=names(last="Ek"))))
        events = first + await subscriber.events("1", 2)
        assert [(e["personnummer"], e["kind"]) for e in events] == [
            (a, "CREATED"), (b, "CREATED"), (c, "CREATED"), (a, "CHANGED"),
        ]  # fmt: skip
        # Each as they are when the event is sent.
        assert [e["person"]["lastName"] for e in events] == ["Svensson"] * 3 + ["Ek"]
        assert len({e["cursor"] for e in events}) == 4
        await subscriber.quiet(1.5)  # and nothing twice


async def test_a_connection_outlives_the_deadline_of_an_http_request(served: Served) -> None:
    """The request that opened it had to arrive within the client timeout (2 s here);
    the connection it became is not bound by it."""
    (person,) = fresh_numbers(1)
    async with following(served.server, served.token("long")) as subscriber:
        await subscriber.follow("1")
        await asyncio.sleep(3)
        await apply(served.owner_url, changes(record(person, 1)))
        [event] = await subscriber.events("1", 1)
        assert event["personnummer"] == person


async def test_a_subscriber_resumes_after_its_last_cursor_without_gap_or_repeat(
    served: Served,
) -> None:
    a, b, c = fresh_numbers(3)
    bearer = served.token("resume")
    async with following(served.server, bearer) as subscriber:
        await subscriber.follow("1")
        await apply(served.owner_url, changes(record(a, 1), record(b, 2)))
        kept, _ = await subscriber.events("1", 2)  # the second one is lost with the connection
    await apply(served.owner_url, changes(record(c, 3)))
    async with following(served.server, bearer) as subscriber:
        await subscriber.subscribe("again", after=kept["cursor"])
        events = await subscriber.events("again", 2)
        assert [e["personnummer"] for e in events] == [b, c]
        await subscriber.quiet(1.5)


async def test_transactions_committed_out_of_order_are_both_sent_once(
    served: Served, owner: asyncpg.Connection
) -> None:
    """The later transaction commits first: its event waits for the earlier one's, so
    that a cursor never passes an event still to commit."""
    a, b = fresh_numbers(2)
    insert = "INSERT INTO change_event (personnummer, kind) VALUES ($1, 'CREATED')"
    later = await asyncpg.connect(served.owner_url)
    async with following(served.server, served.token("order")) as subscriber:
        await subscriber.follow("1")
        earlier = owner.transaction()
        await earlier.start()
        await owner.execute(insert, a)
        async with later.transaction():
            await later.execute(insert, b)
        await notify(later)
        await subscriber.quiet(1.2)  # b is held back while a's transaction is open
        await earlier.commit()
        await notify(owner)
        events = await subscriber.events("1", 2)
        assert [e["personnummer"] for e in events] == [a, b]
        assert events[0]["person"] is None  # no such person in the register
        await subscriber.quiet(1.5)
    await later.close()


async def test_a_person_is_shown_under_the_callers_tier(served: Served) -> None:
    (person,) = fresh_numbers(1)
    query = """subscription ($after: String) {
      changes(after: $after) { personnummer person { lastName movedInDate } }
    }"""
    async with following(served.server, served.token("tiers", tier=Tier.BASIC)) as basic:
        await basic.follow("1", query)
        await apply(served.owner_url, changes(record(person, 1)))
        message = await basic.receive()
    payload = message["payload"]
    assert payload["data"]["changes"]["person"] == {"lastName": "Svensson", "movedInDate": None}
    [error] = payload["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["changes", "person", "movedInDate"]


async def test_every_person_sent_is_in_the_access_log_before_it_arrives(
    served: Served, owner: asyncpg.Connection
) -> None:
    a, b = fresh_numbers(2)
    logged = "SELECT personnummer, root_fields, request_id FROM access_log WHERE subject = $1"
    async with following(served.server, served.token("audited")) as subscriber:
        await subscriber.follow("1")
        await apply(served.owner_url, changes(record(a, 1), record(b, 2)))
        [first] = await subscriber.events("1", 1)
        rows = await owner.fetch(logged, "audited")  # as it arrives: already written
        assert first["personnummer"] == a and a in {row["personnummer"] for row in rows}
        await subscriber.events("1", 1)
    rows = await owner.fetch(logged, "audited")
    assert sorted(row["personnummer"] for row in rows) == sorted([a, b])
    assert {row["root_fields"] for row in rows} == {"changes"}
    [request_id] = {row["request_id"] for row in rows}  # one per subscription
    assert len(request_id) == 32


async def test_nothing_is_sent_when_the_access_log_cannot_be_written(
    served: Served, owner: asyncpg.Connection
) -> None:
    (person,) = fresh_numbers(1)
    count = "SELECT count(*) FROM access_log WHERE personnummer = $1"
    async with following(served.server, served.token("unlogged")) as subscriber:
        start = await subscriber.head()
        await subscriber.subscribe("1", after=start)
        await owner.execute(f"REVOKE INSERT ON access_request FROM {ROLE}")
        try:
            await apply(served.owner_url, changes(record(person, 1)))
            message = await subscriber.receive()
        finally:
            await owner.execute(f"GRANT INSERT ON access_request TO {ROLE}")
        assert message["type"] == "error" and message["id"] == "1", message
        [error] = message["payload"]
        assert error["extensions"]["code"] == "AUDIT_UNAVAILABLE"
        assert person not in str(message)
        assert await owner.fetchval(count, person) == 0
        await subscriber.quiet(1.2)  # the subscription ended: nothing follows
        # The connection stays; subscribed again from its last cursor, it gets the event.
        await subscriber.subscribe("2", after=start)
        [event] = await subscriber.events("2", 1)
    assert event["personnummer"] == person
    assert await owner.fetchval(count, person) == 1


async def test_without_the_feed_role_a_subscription_is_refused(served: Served) -> None:
    async with following(served.server, served.token("no-role", roles=())) as subscriber:
        await subscriber.subscribe("1")
        message = await subscriber.receive()
        assert message["type"] == "error" and message["id"] == "1", message
        assert message["payload"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "feed" in message["payload"][0]["message"]


async def test_a_subscriber_that_reads_nothing_is_closed_and_holds_up_no_one(
    served: Served,
) -> None:
    """Its own sends wait (a second here), then it is closed with 4499; the others
    receive meanwhile. It reads what was sent before the close, then the close."""
    persons = fresh_numbers(1500)
    fast_bearer, slow_bearer = served.token("fast"), served.token("slow")
    with small_receive_buffer(served.server.port) as sock:
        async with following(served.server, fast_bearer) as fast, following(
            served.server, slow_bearer, sock=sock, max_queue=1, compression=None
        ) as slow:  # fmt: skip
            await fast.follow("1")
            await slow.follow("1", BULKY)
            records = [record(person, index) for index, person in enumerate(persons, 1)]
            await apply(served.owner_url, changes(*records))
            received = await fast.events("1", len(persons), timeout=30)
            assert [event["personnummer"] for event in received] == persons
            await asyncio.sleep(1)  # past the slow one's bound
            slow_events = []
            with contextlib.suppress(ConnectionClosed):
                while True:
                    slow_events.append(await slow.receive())
            frame = slow.connection.close_code, slow.connection.close_reason
            # The later import still reaches the one that reads.
            (later,) = fresh_numbers(1)
            await apply(served.owner_url, changes(record(later, 1)))
            [event] = await fast.events("1", 1)
            assert event["personnummer"] == later
    assert frame[0] == 4499 and "resume from your last cursor" in str(frame[1]), frame
    assert 0 < len(slow_events) < len(persons)
    sent = [message["payload"]["data"]["changes"]["p0"] for message in slow_events]
    assert sent == persons[: len(sent)]  # in order, up to where it stopped
