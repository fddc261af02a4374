"""The root Query: lookups by number, interval and name, and who the caller is."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers import access_log, persons
from resolvers.access import Tier as AccessTier
from resolvers.personnummer import Personnummer, PersonnummerError, parse
from resolvers.rows import Page
from resolvers.text import printable
from schema.access_log import AccessLogConnection
from schema.connection import PersonConnection, check_page_size, decode_cursor
from schema.directives import Tier, may_read, requires_role
from schema.errors import BadUserInput
from schema.fallback import PROTECTED_NOTICE, from_skatteverket
from schema.person import (
    PersonResult,
    ProtectedPerson,
    load_relations_ahead,
    load_with_relations,
)
from schema.selection import selects_relations

WILDCARDS = frozenset("*%_?")
AUDIT_ROLE = "audit"
NEWEST = 2**63 - 1  # above every access log id: the first page starts at the newest
LOG_BEGINS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # before any entry; far from overflow
LOG_ENDS = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
LOG_POSITION = re.compile(r"([0-9]{1,19})\.([0-9]{1,19})")  # request.id


@strawberry.type(description="Inloggad användare — the caller, as their token describes them.")
class Viewer:
    subject: str = strawberry.field(description="The caller's user id (token subject).")
    tier: Tier = strawberry.field(description="Behörighet — the caller's authority tier.")
    roles: list[str] = strawberry.field(description="Roles beyond lookups (e.g. selections).")
    organisation: str | None = strawberry.field(description="The caller's organisation.")


def _number(text: str, argument: str, *, strict: bool = True) -> Personnummer:
    try:
        return parse(text, strict=strict)
    except PersonnummerError as error:
        message = f"`{argument}` is not a valid personnummer: {error}"
        raise BadUserInput(message, argument=argument) from None


def _letters(text: str) -> int:
    return sum(char.isalpha() for char in text)


def _check_text(value: str | None, argument: str, min_letters: int, max_length: int) -> None:
    if value is None:
        return
    if not printable(value):
        raise BadUserInput(f"`{argument}` may not contain control characters", argument=argument)
    if WILDCARDS & set(value):
        raise BadUserInput(
            f"`{argument}` may not contain wildcards; the search already tolerates "
            "misspellings and missing diacritics",
            argument=argument,
        )
    if _letters(value) < min_letters or len(value) > max_length:
        raise BadUserInput(
            f"`{argument}` needs at least {min_letters} letters and at most {max_length} "
            "characters",
            argument=argument,
        )


def _words(text: str) -> str:
    """Names as the register writes them: no spaces around, one between."""
    return " ".join(text.split())


def _check_years(year_from: int | None, year_to: int | None) -> None:
    this_year = dt.date.today().year
    for argument, year in (("birthYearFrom", year_from), ("birthYearTo", year_to)):
        if year is not None and not 1850 <= year <= this_year:
            raise BadUserInput(
                f"`{argument}` must lie between 1850 and {this_year}", argument=argument
            )
    if year_from is not None and year_to is not None and year_from > year_to:
        raise BadUserInput("`birthYearFrom` is after `birthYearTo`", argument="birthYearFrom")


async def _connection(info: Info, page: Page, kind: str) -> PersonConnection:
    """The page as a connection; relations asked for are loaded for all its persons at once.

    Every person on the page is logged as seen, whatever the query selects of them: an
    edge's cursor alone holds the person's position (and number) in the list.
    """
    access = info.context.access
    for row in page.rows:
        access.saw(row)
    wanted = page.rows and selects_relations(info, "edges", "node")
    if wanted and may_read(info, AccessTier.RELATIONS):
        await load_relations_ahead(info, page.rows, "edges", "node")
    return PersonConnection.from_page(page, kind)


@strawberry.type(description="Sökningar i Västfolket — lookups in the population register.")
class Query:
    @strawberry.field(
        description="Sök på personnummer — look up one person by personnummer (10 or 12 "
        "digits, with or without '-', '+' or a space; '+' means 100 years or older)."
    )
    async def person(
        self,
        info: Info,
        personnummer: Annotated[
            str, strawberry.argument(description="The number in any usual form.")
        ],
    ) -> PersonResult:
        number = _number(personnummer, "personnummer")
        if not number.is_coordination_number:  # those are never answered from the copy
            if may_read(info, AccessTier.RELATIONS) and selects_relations(info):
                row = await load_with_relations(info, number.digits)
            else:
                row = await info.context.loaders.person_by_personnummer.load(number.digits)
            if row is not None:
                return row  # type: ignore[return-value]  # a PersonRow is read as a Person
        # Checked before any upstream call: the fallback never gets around a protection.
        if await persons.is_protected(info.context.pool, number.digits):
            return ProtectedPerson(personnummer=number.digits, notice=PROTECTED_NOTICE)
        return await from_skatteverket(info, number)

    @strawberry.field(
        description="Sök på intervall — every person whose personnummer lies in "
        "[from, to], in number order. Bounds take any accepted form; their check digit "
        "is not required and they may lie in the future. Samordningsnummer are never listed."
    )
    async def persons_in_range(
        self,
        info: Info,
        from_: Annotated[
            str, strawberry.argument(name="from", description="Lowest number, inclusive.")
        ],
        to: Annotated[str, strawberry.argument(description="Highest number, inclusive.")],
        first: Annotated[int, strawberry.argument(description="Page size, at most 500.")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
    ) -> PersonConnection:
        context = info.context
        check_page_size(first, context.limits.max_page_size)
        low = _number(from_, "from", strict=False)
        high = _number(to, "to", strict=False)
        for argument, bound in (("from", low), ("to", high)):
            if bound.is_coordination_number:
                raise BadUserInput(
                    f"`{argument}` may not be a samordningsnummer", argument=argument
                )
        if low.digits > high.digits:
            raise BadUserInput("`from` is after `to`", argument="from")
        position = decode_cursor(after, "r") or ""
        if position and not (position.isdigit() and len(position) == 12):
            raise BadUserInput("`after` is not a cursor from this list", argument="after")
        page = await persons.persons_in_range(
            context.pool, context.viewer.tier, low.digits, high.digits, first, position
        )
        return await _connection(info, page, "r")

    @strawberry.field(
        description="Sök på namn — persons ranked by how well their name matches; "
        "case-insensitive, tolerant of missing diacritics (Asa finds Åsa) and small "
        "misspellings. A search matching too many persons is refused: narrow it."
    )
    async def search_persons(
        self,
        info: Info,
        last_name: Annotated[
            str, strawberry.argument(description="Efternamn, at least 2 letters.")
        ],
        first_name: Annotated[
            str | None,
            strawberry.argument(description="Förnamn — matches any of the person's first names."),
        ] = None,
        birth_year_from: Annotated[
            int | None, strawberry.argument(description="Born this year or later.")
        ] = None,
        birth_year_to: Annotated[
            int | None, strawberry.argument(description="Born this year or earlier.")
        ] = None,
        postal_town: Annotated[
            str | None, strawberry.argument(description="Postort of the registered address.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, at most 500.")] = 25,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
    ) -> PersonConnection:
        context = info.context
        check_page_size(first, context.limits.max_page_size)
        _check_text(last_name, "lastName", 2, 60)
        _check_text(first_name, "firstName", 1, 80)
        _check_text(postal_town, "postalTown", 2, 27)
        _check_years(birth_year_from, birth_year_to)
        position = decode_cursor(after, "s") or "0"
        if not position.isdigit():
            raise BadUserInput("`after` is not a cursor from this list", argument="after")
        criteria = persons.NameSearch(
            _words(last_name),
            None if first_name is None else _words(first_name),
            birth_year_from,
            birth_year_to,
            postal_town,
        )
        limit = context.limits.search_max_matches
        result = await persons.search_by_name(
            context.pool, context.viewer.tier, criteria, limit, int(position), first
        )
        if result.matches > limit:
            raise BadUserInput(
                f"Fler än {limit} personer matchar — more than {limit} persons match; narrow "
                "the search with first name, birth years or postal town",
                reason="TOO_MANY_MATCHES",
                limit=limit,
            )
        return await _connection(info, result.page, "s")

    @strawberry.field(
        description="Loggen — search the access log, newest first. Needs the `audit` "
        "role; every search is itself logged.",
        extensions=requires_role(AUDIT_ROLE),
    )
    async def access_log(
        self,
        info: Info,
        personnummer: Annotated[
            str | None, strawberry.argument(description="Entries about this person.")
        ] = None,
        subject: Annotated[
            str | None, strawberry.argument(description="Entries of this caller (subject).")
        ] = None,
        organisation: Annotated[
            str | None, strawberry.argument(description="Entries of this organisation.")
        ] = None,
        from_: Annotated[
            dt.datetime | None,
            strawberry.argument(name="from", description="Logged at or after this time."),
        ] = None,
        to: Annotated[
            dt.datetime | None, strawberry.argument(description="Logged before this time.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="Page size, at most 500.")] = 50,
        after: Annotated[
            str | None, strawberry.argument(description="`endCursor` of the previous page.")
        ] = None,
    ) -> AccessLogConnection | None:
        context = info.context
        check_page_size(first, context.limits.max_page_size)
        number = None if personnummer is None else _number(personnummer, "personnummer").digits
        for argument, text in (("subject", subject), ("organisation", organisation)):
            if text is not None and (not printable(text) or len(text) > 200):
                raise BadUserInput(
                    f"`{argument}` must be at most 200 printable characters", argument=argument
                )
        for argument, moment in (("from", from_), ("to", to)):
            if moment is not None and moment.tzinfo is None:
                raise BadUserInput(
                    f"`{argument}` needs a time zone, e.g. 2026-11-23T08:00:00+01:00",
                    argument=argument,
                )
            if moment is not None and not LOG_BEGINS <= moment <= LOG_ENDS:
                raise BadUserInput(
                    f"`{argument}` must lie between the years 2000 and 9998", argument=argument
                )
        before = (NEWEST, NEWEST)
        if after is not None:
            position = LOG_POSITION.fullmatch(decode_cursor(after, "a") or "")
            if position is None or max(int(position[1]), int(position[2])) >= NEWEST:
                raise BadUserInput("`after` is not a cursor from this list", argument="after")
            before = (int(position[1]), int(position[2]))
        criteria = access_log.LogSearch(number, subject, organisation, from_, to)
        context.access.searched(
            {
                name: value.isoformat() if isinstance(value, dt.datetime) else value
                for name, value in criteria._asdict().items()
                if value is not None
            }
        )
        entries, more = await access_log.search(context.pool, criteria, before, first)
        return AccessLogConnection.of(entries, more)

    @strawberry.field(description="Den inloggade användaren — who the caller is.")
    def viewer(self, info: Info) -> Viewer:
        viewer = info.context.viewer
        return Viewer(
            subject=viewer.subject,
            tier=Tier.of(viewer.tier),
            roles=sorted(viewer.roles),
            organisation=viewer.organisation,
        )
