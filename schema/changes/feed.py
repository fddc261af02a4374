"""The change feed's root fields: a page to poll, the head to start from, a subscription.

Each needs the ``feed`` role beside a tier; each event's ``person`` is shown under the
caller's tier and every rule of a lookup, and every event is written to the access log
before it leaves (the note of ``ChangeEvent``), by the pipeline, whatever the transport.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.changes import feed, retention
from resolvers.changes.events import ChangeEvent as EventRow
from schema import cursors
from schema.changes.event import ChangeConnection, ChangeEvent, ChangeKind, with_persons
from schema.directives import requires_role
from schema.engine import measure
from schema.errors import BadUserInput, CursorExpired
from schema.register.connection import check_page_size
from schema.selection import selected_below

FEED_ROLE = "feed"
# A page of events: larger than a page of persons, as Norway's feed (1000), since most
# followers ask for a number and a kind only. The cost limit still counts what is asked.
MAX_PAGE_SIZE = 1000
# The events a page looks through for a filter's matches at most: a follower of a small
# part of the register moves through the rest at a bounded cost per page.
SCAN_PER_PAGE = 20_000
# What a page weighs in the cost limit beyond its events: a sparse filter's page looks
# through up to SCAN_PER_PAGE events, so aliases of it must not add up unbounded (fifty
# are refused by the default limit of 50 000).
SCAN_WEIGHT = 1000
SUBSCRIPTION_BATCH = 500  # events read at once for a subscriber (sent one by one)
MAX_MUNICIPALITIES = 300
EXPIRED = (
    "This cursor lies before the events the feed still keeps (its retention): events "
    "after it are gone. Load your population again, then follow from `changesHead`."
)


@strawberry.input(description="Which part of the register to follow; every given part "
                  "must match. Leave out a part to follow all of it.")  # fmt: skip
class ChangeFilter:
    kinds: list[ChangeKind] | None = strawberry.field(
        default=None, description="Only these kinds of event."
    )
    municipalities: list[str] | None = strawberry.field(
        default=None,
        description="Kommunkoder (county and municipality, four digits: '1480' Göteborg): "
        "persons registered in one of them now, and events that took a person out of one "
        "(a move away, leaving the region, a protection).",
    )
    born_from: dt.date | None = strawberry.field(default=None, description="Born on or after.")
    born_to: dt.date | None = strawberry.field(default=None, description="Born on or before.")


def _filters(given: ChangeFilter | None) -> feed.Filters:
    if given is None:
        return feed.Filters()
    kinds = municipalities = None
    if given.kinds is not None:
        if not given.kinds:
            raise BadUserInput("`kinds` is empty: leave it out to follow every kind",
                               argument="filter")  # fmt: skip
        kinds = frozenset(str(kind.value) for kind in given.kinds)
    if given.municipalities is not None:
        codes = given.municipalities
        if not 1 <= len(codes) <= MAX_MUNICIPALITIES:
            raise BadUserInput(f"`municipalities` takes 1 to {MAX_MUNICIPALITIES} codes",
                               argument="filter")  # fmt: skip
        for code in codes:
            if re.fullmatch(r"[0-9]{4}", code, flags=re.ASCII) is None:
                raise BadUserInput(
                    f"{code!r} is not a municipality code: four digits 0-9, county and "
                    "municipality ('1480')", argument="filter",
                )  # fmt: skip
        municipalities = frozenset(codes)
    if given.born_from and given.born_to and given.born_from > given.born_to:
        raise BadUserInput("`bornFrom` is after `bornTo`", argument="filter")
    return feed.Filters(kinds, municipalities, given.born_from, given.born_to)


def _after(after: str | None) -> feed.Position | None:
    return None if after is None else cursors.change_position(after)


@strawberry.type
class ChangeQueries:
    @strawberry.field(
        description="Ändringar — the register's change events after `after`, in commit "
        "order; without `after`, from the oldest event the feed keeps. Poll again with "
        "`pageInfo.endCursor`. Needs the `feed` role.",
        extensions=requires_role(FEED_ROLE),
        metadata={measure.MAX_PAGE_SIZE: MAX_PAGE_SIZE, measure.WEIGHT: SCAN_WEIGHT},
    )
    async def changes(
        self,
        info: Info,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, at most 1000.")] = 100,
        filter: Annotated[
            ChangeFilter | None, strawberry.argument(description="The part to follow.")
        ] = None,
    ) -> ChangeConnection | None:
        context = info.context
        check_page_size(first, MAX_PAGE_SIZE)
        filters, position = _filters(filter), _after(after)
        try:
            page = await feed.read_page(
                context.database.read, position, filters, first, scan=SCAN_PER_PAGE
            )
        except feed.CursorExpired:
            raise CursorExpired(EXPIRED) from None
        events = page.events
        if events and "person" in selected_below(info, "edges", "node"):
            events = await with_persons(info, events)
        return ChangeConnection.of(events, page.end, page.more)

    @strawberry.field(
        description="Where the feed stands now: a cursor after every event already "
        "readable. A new system takes it before loading its population, then follows "
        "`changes(after:)` from it. Needs the `feed` role.",
        extensions=requires_role(FEED_ROLE),
    )
    async def changes_head(self, info: Info) -> str | None:
        return cursors.change_cursor(await feed.head(info.context.database.read))


async def _pages(
    info: Info, position: feed.Position | None, filters: feed.Filters
) -> AsyncIterator[list[EventRow]]:
    """The subscription's source: batches of events as they become readable. The
    pipeline runs the selection once per event and logs a batch before sending it. A
    batch's persons are loaded ahead in one statement, as a page's."""
    context = info.context
    wakeups = context.wakeups
    persons = "person" in selected_below(info)
    while True:
        ticket = wakeups.ticket()
        try:
            page = await feed.read_page(
                context.database.read, position, filters, SUBSCRIPTION_BATCH,
                scan=SCAN_PER_PAGE,
            )  # fmt: skip
        except feed.CursorExpired:  # pruned while the subscriber was behind
            raise CursorExpired(EXPIRED) from None
        position = page.end
        if page.events:
            yield await with_persons(info, page.events) if persons else page.events
        if not page.more:
            await wakeups.wait(ticket)


@strawberry.type(description="Prenumerationer — events pushed as they are applied.")
class Subscription:
    @strawberry.subscription(
        description="Ändringar — the change events after `after` (without it: from now), "
        "each message one event as `changes` returns it, as soon as it is applied. Resume "
        "with the last event's `cursor`. Needs the `feed` role.",
        extensions=requires_role(FEED_ROLE),
    )
    async def changes(
        self,
        info: Info,
        after: Annotated[
            str | None, strawberry.argument(description="The last event's `cursor` received.")
        ] = None,
        filter: Annotated[
            ChangeFilter | None, strawberry.argument(description="The part to follow.")
        ] = None,
    ) -> AsyncIterator[ChangeEvent]:
        context = info.context
        if context.wakeups is None:
            raise BadUserInput("subscriptions are served over WebSocket only")
        filters, position = _filters(filter), _after(after)
        if position is None:
            position = await feed.head(context.database.read)
        elif position < await retention.horizon(context.database.read):
            raise CursorExpired(EXPIRED)
        return _pages(info, position, filters)  # type: ignore[return-value]
