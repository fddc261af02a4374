"""A change event as integrated systems read it, and a page of them."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from resolvers.audit.access_log import AccessRecord
from resolvers.changes.events import ChangeEvent as EventRow
from resolvers.register.rows import LOCAL, PersonRow
from schema.cursors import change_cursor
from schema.engine.disclosure import discloses
from schema.engine.plan import NOT_READY, READ_AHEAD
from schema.register.connection import PageInfo
from schema.register.person import Person


@strawberry.enum(description="Händelsetyp — what happened to the person.")
class ChangeKind(Enum):
    CREATED = strawberry.enum_value("CREATED", description="Came into the register.")
    CHANGED = strawberry.enum_value("CHANGED", description="Changed; `parts` says what.")
    DEREGISTERED = strawberry.enum_value(
        "DEREGISTERED", description="Avregistrerad — deceased, emigrated or otherwise "
        "deregistered; the person stays in the register with that status."
    )  # fmt: skip
    PROTECTED = strawberry.enum_value(
        "PROTECTED", description="Became protected (sekretessmarkering or skyddad "
        "folkbokföring): purge everything you hold about this number. The event "
        "carries the number only."
    )  # fmt: skip
    LEFT = strawberry.enum_value(
        "LEFT", description="Left the register: moved out of the region (lookups now go to "
        "Skatteverket). Purge or archive your copy as your rules say."
    )  # fmt: skip
    NUMBER_CHANGED = strawberry.enum_value(
        "NUMBER_CHANGED", description="Skatteverket replaced the person's number: "
        "`previousPersonnummer` is the old, `personnummer` the new one."
    )  # fmt: skip


@strawberry.enum(description="What part of a person's record a change touched.")
class ChangePart(Enum):
    NAMES = strawberry.enum_value("NAMES", description="Namn — names.")
    ADDRESSES = strawberry.enum_value(
        "ADDRESSES", description="Adresser — the registered, special postal or foreign address."
    )
    REGISTRATION = strawberry.enum_value(
        "REGISTRATION", description="Folkbokföring — where and since when the person is "
        "registered (a move)."
    )  # fmt: skip
    CIVIL_STATUS = strawberry.enum_value("CIVIL_STATUS", description="Civilstånd.")
    RELATIONS = strawberry.enum_value(
        "RELATIONS", description="Relationer — spouse, partner, children, parents, guardians."
    )
    STATUS = strawberry.enum_value(
        "STATUS", description="Status — deregistered, or deregistration lifted."
    )
    KEY_CODE = strawberry.enum_value("KEY_CODE", description="Nyckelkod.")


def _note(record: AccessRecord, event: EventRow) -> None:
    if event.kind == "PROTECTED":  # a notice to purge: no data released
        record.protected(event.personnummer, LOCAL)
    else:
        record.saw_number(event.personnummer)


# Kinds whose event shows no person: a notice to purge, or one who left the register.
NO_PERSON = ("PROTECTED", "LEFT")


class PageEvent(EventRow):
    """An event of a page, with its person loaded ahead for the whole page (in one
    statement, through the request's loader): ``person`` then reads it at once, and a
    page whose selection is plain all the way down compiles to one reader."""

    person: PersonRow | None

    @classmethod
    def with_person(cls, row: EventRow, person: PersonRow | None) -> PageEvent:
        event = cls._make(row)
        event.person = person
        return event


async def with_persons(info: Info, events: list[EventRow]) -> list[EventRow]:
    """The events with their persons loaded ahead, by every rule of a lookup."""
    numbers = list(dict.fromkeys(e.personnummer for e in events if e.kind not in NO_PERSON))
    # The loader's own statement for the whole page: a future per number cost more than
    # the statement's rows, and nothing else on a page asks for these persons again.
    loader = info.context.loaders.person_by_personnummer
    loaded = await loader.batch_load_fn(numbers) if numbers else []
    persons = dict(zip(numbers, loaded, strict=True))
    return [PageEvent.with_person(e, persons.get(e.personnummer)) for e in events]


def _person_ahead(root: EventRow, context: Any) -> Any:
    if root.kind in NO_PERSON:
        return None
    return getattr(root, "person", NOT_READY)  # a subscription's event: through the loader


async def _person(root: strawberry.Parent[EventRow], info: Info) -> PersonRow | None:
    ahead = _person_ahead(root, info.context)
    if ahead is not NOT_READY:
        return ahead
    # The person as they are now, by every rule of a lookup: null if not shown.
    return await info.context.loaders.person_by_personnummer.load(root.personnummer)


def _cursor_now(root: EventRow, context: Any) -> str:
    return change_cursor(root.cursor)


def _cursor(root: strawberry.Parent[EventRow]) -> str:
    return change_cursor(root.cursor)


@discloses(_note)
@strawberry.type(
    name="ChangeEvent",
    description="Händelse — one change the register applied to a person, in commit order.",
)
class ChangeEvent:
    cursor: str = strawberry.field(
        resolver=_cursor,
        metadata={READ_AHEAD: _cursor_now},  # nothing to await: read as a plain field
        description="This event's place in the feed: pass it as `after` to continue after "
        "it. Opaque and stable (it survives restarts of the API).",
    )
    personnummer: str = strawberry.field(
        description="The person's number (after a number change: the new one)."
    )
    kind: ChangeKind = strawberry.field(description="What happened.")
    parts: list[ChangePart] | None = strawberry.field(
        description="What a CHANGED event changed; null for other kinds."
    )
    previous_personnummer: str | None = strawberry.field(
        description="The number the person had before a NUMBER_CHANGED event; else null."
    )
    recorded_at: dt.datetime | None = strawberry.field(
        description="Ändringstidpunkt — when Skatteverket recorded the change (UTC; "
        "Navet writes it in Swedish time); null where the delivery gives none, and always "
        "for PROTECTED.",
    )
    applied_at: dt.datetime = strawberry.field(
        description="When the register applied the change (UTC)."
    )
    person: Person | None = strawberry.field(
        resolver=_person,
        metadata={READ_AHEAD: _person_ahead},
        description="The person as they are now, under your tier and every rule of a lookup: "
        "null when they are not shown (protected, left the register, a samordningsnummer).",
    )

    @classmethod
    def is_type_of(cls, obj: object, info: object) -> bool:
        return isinstance(obj, EventRow)


def _edge_cursor_now(root: Any, context: Any) -> str:
    return change_cursor(root.node.cursor)


def _edge_cursor(root: Any) -> str:
    return _edge_cursor_now(root, None)


@strawberry.type(description="One change event in a page, with its cursor.")
class ChangeEdge:
    # Made when asked: most followers ask for `endCursor` only.
    cursor: str = strawberry.field(
        resolver=_edge_cursor,
        metadata={READ_AHEAD: _edge_cursor_now},
        description="The event's cursor (as `node.cursor`).",
    )
    node: ChangeEvent = strawberry.field(description="The event.")


@strawberry.type(description="Ändringar — one page of the change feed, in commit order.")
class ChangeConnection:
    edges: list[ChangeEdge] = strawberry.field(description="The events on this page.")
    page_info: PageInfo = strawberry.field(
        description="`endCursor` is where the next page starts: poll with it as `after`, "
        "even when the page is empty (it moves past events your filter leaves out). "
        "`hasNextPage` is true when more events can be read at once."
    )

    @classmethod
    def of(cls, events: list[EventRow], end: tuple[int, int], more: bool) -> ChangeConnection:
        edges = [ChangeEdge(node=e) for e in events]  # type: ignore[arg-type]
        info = PageInfo(has_next_page=more, end_cursor=change_cursor(end))
        return cls(edges=edges, page_info=info)
