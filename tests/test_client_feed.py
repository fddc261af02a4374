"""The change feed through the typed client, against the live API: pages polled over
HTTP from the head, events pushed over a real WebSocket (the token in connection_init's
payload), and a follower whose connection closed resuming from its last cursor."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from http import HTTPStatus

import httpx
import pytest
from vastfolket_client import ChangeEvent, ChangeFilter, Client, enums
from vastfolket_client.errors import Forbidden, SubscriptionClosed, VastfolketError
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from resolvers.domain.access import Tier
from resolvers.imports.records import SKYDDAD
from tests.subscribing import Served, fresh_numbers, serving
from tests.typed_client import TRUSTED, connect, imported, person

FEED = ("feed",)
CREATED = enums.ChangeKind.CREATED


@pytest.fixture(scope="module")
def served(
    server_uri: str, engine: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    with serving(
        server_uri, engine, tmp_path_factory, "vastfolket_client_feed", **TRUSTED
    ) as running:
        yield running


async def next_event(events: AsyncIterator[ChangeEvent], timeout: float = 15) -> ChangeEvent:
    return await asyncio.wait_for(anext(events), timeout)


async def test_a_follower_polls_typed_pages_of_events_from_the_head(served: Served) -> None:
    a, b, c = fresh_numbers(3)
    async with connect(served, tier=Tier.BASIC, roles=FEED) as client:
        head = await client.changes_head()
        assert head is not None
        await imported(served, person(a), person(b), person(c))
        first = await client.changes(after=head, first=2)
        assert first is not None and first.page_info.end_cursor is not None
        rest = await client.changes(after=first.page_info.end_cursor, first=2)
        assert rest is not None
        later = await client.changes(after=rest.page_info.end_cursor)
    events = [edge.node for edge in first.edges + rest.edges]
    assert [(event.personnummer, event.kind) for event in events] == [
        (a, CREATED), (b, CREATED), (c, CREATED),
    ]  # fmt: skip
    assert all(isinstance(event, ChangeEvent) for event in events)
    assert all(
        event.person is not None and event.person.last_name == "Svensson" for event in events
    )
    assert first.page_info.has_next_page and not rest.page_info.has_next_page
    assert later is not None and later.edges == []


async def test_a_filtered_poll_sends_its_filter_as_a_typed_input(served: Served) -> None:
    a, b = fresh_numbers(2)
    async with connect(served, roles=FEED) as client:
        head = await client.changes_head()
        await imported(served, person(a), person(b))
        await imported(served, person(b, protection=SKYDDAD))
        page = await client.changes(
            after=head, filter_=ChangeFilter(kinds=[enums.ChangeKind.PROTECTED])
        )
    assert page is not None
    [edge] = page.edges
    assert (edge.node.personnummer, edge.node.kind) == (b, enums.ChangeKind.PROTECTED)
    assert edge.node.person is None  # purge what you hold: nothing more is told


async def test_without_the_feed_role_polling_raises_forbidden(served: Served) -> None:
    async with connect(served) as client:
        with pytest.raises(Forbidden) as raised:
            await client.changes_head()
    assert raised.value.path == ["changesHead"] and raised.value.data == {"changesHead": None}


async def test_a_follower_subscribes_over_websocket_and_events_are_pushed(
    served: Served,
) -> None:
    a, b = fresh_numbers(2)
    async with connect(served, tier=Tier.BASIC, roles=FEED) as client:
        head = await client.changes_head()
        await imported(served, person(a))
        async with aclosing(client.follow_changes(after=head)) as events:
            caught_up = await next_event(events)  # committed before, after the cursor
            await imported(served, person(b, last="Ek"))
            pushed = await next_event(events)  # sent as it commits
    assert isinstance(caught_up, ChangeEvent) and isinstance(pushed, ChangeEvent)
    assert (caught_up.personnummer, caught_up.kind) == (a, CREATED)
    assert pushed.personnummer == b and pushed.person is not None
    assert pushed.person.last_name == "Ek"


async def test_a_follower_closed_out_resumes_from_its_last_cursor(served: Served) -> None:
    """The token expires while subscribed: the API closes with 4403, the client raises
    SubscriptionClosed, and a new connection from the last cursor misses nothing."""
    a, b, c = fresh_numbers(3)
    async with connect(served, "brief", roles=FEED, ttl=4) as client:
        head = await client.changes_head()
        await imported(served, person(a), person(b))
        with pytest.raises(SubscriptionClosed) as closed:
            async with aclosing(client.follow_changes(after=head)) as events:
                kept = await next_event(events)
                await next_event(events, timeout=30)  # b, then the close
                await next_event(events, timeout=30)
    assert closed.value.code == 4403 and "expired" in str(closed.value.reason)
    await imported(served, person(c))
    again = connect(served, "brief", roles=FEED)
    async with again, aclosing(again.follow_changes(after=kept.cursor)) as events:
        resumed = [await next_event(events), await next_event(events)]
    assert kept.personnummer == a and [event.personnummer for event in resumed] == [b, c]


async def test_a_refused_token_ends_the_subscription_with_4403(served: Served) -> None:
    async with connect(served, roles=FEED, ttl=-5) as client:
        with pytest.raises(SubscriptionClosed) as closed:
            async with aclosing(client.follow_changes()) as events:
                await next_event(events)
    assert closed.value.code == 4403


async def test_a_token_given_among_the_headers_in_any_spelling_is_the_one_sent_everywhere(
    served: Served,
) -> None:
    """`headers={"authorization": ...}` instead of `token=`, as many integrators write it:
    the WebSocket gets it too, and beside `token=` only one Authorization goes out (the
    token's), never two for the server to choose from."""
    (a,) = fresh_numbers(1)
    url = f"{served.server.base}/graphql"
    spelled = {"authorization": f"Bearer {served.token('spelled', roles=FEED)}"}
    async with Client(url, headers=spelled) as client:
        head = await client.changes_head()
        await imported(served, person(a))
        async with aclosing(client.follow_changes(after=head)) as events:
            assert (await next_event(events)).personnummer == a
    sent: list[list[str]] = []

    async def record(request: httpx.Request) -> None:
        sent.append(request.headers.get_list("authorization"))

    token = served.token("both", roles=FEED)
    async with (
        httpx.AsyncClient(event_hooks={"request": [record]}) as http,
        Client(url, token, headers={"AUTHORIZATION": "Bearer stale"}, http_client=http) as client,
    ):
        await client.changes_head()
    assert sent == [[f"Bearer {token}"]]


class Elsewhere:
    """A WebSocket server that is not the API: it keeps every message sent to it."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def __call__(self, connection: ServerConnection) -> None:
        async for message in connection:
            self.received.append(str(message))
            await connection.close(4403, "not here")


async def test_a_redirect_elsewhere_never_gets_the_token(served: Served) -> None:
    """The token goes in connection_init's payload, which websockets cannot strip when it
    follows a redirect to another origin (as it strips an Authorization header): a
    server (or a proxy, or anyone on a plain ws:// path) answering the handshake with a
    redirect must not get the token sent on to where it points."""
    elsewhere = Elsewhere()
    async with serve(elsewhere, "127.0.0.1", 0) as other:
        target = f"ws://127.0.0.1:{other.sockets[0].getsockname()[1]}/graphql"

        def redirect(connection: ServerConnection, request: Request) -> Response:
            response = connection.respond(HTTPStatus.FOUND, "")
            response.headers["Location"] = target
            return response

        async with serve(lambda _: asyncio.sleep(0), "127.0.0.1", 0,
                         process_request=redirect) as redirecting:  # fmt: skip
            port = redirecting.sockets[0].getsockname()[1]
            token = served.token("redirected", roles=FEED)
            client = Client(f"{served.server.base}/graphql", token,
                            ws_url=f"ws://127.0.0.1:{port}/graphql")  # fmt: skip
            async with client, aclosing(client.follow_changes()) as events:
                with pytest.raises(VastfolketError) as refused:
                    await next_event(events)
    assert not [message for message in elsewhere.received if token in message]
    assert target in str(refused.value)
