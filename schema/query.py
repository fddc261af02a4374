"""The root Query: lookups by number, interval and name, and who the caller is."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from strawberry.types import Info

from resolvers.audit import log_search
from resolvers.domain.access import Tier as AccessTier
from resolvers.register import persons
from resolvers.register.rows import Page
from schema import arguments, cursors
from schema.audit.access_log import AccessLogConnection
from schema.changes.feed import ChangeQueries
from schema.directives import AUDIT_ROLE, Tier, may_read, requires_role
from schema.errors import BadUserInput
from schema.register.connection import PersonConnection, check_page_size
from schema.register.lookup import person_by_number
from schema.register.person import PersonResult
from schema.register.relations_ahead import load_relations_ahead, selects_relations
from schema.selections.queries import SelectionQueries

NEWEST = 2**63 - 1  # above every access log id: the first page starts at the newest
LOG_BEGINS = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # before any entry; far from overflow
LOG_ENDS = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)


@strawberry.type(description="Inloggad användare — the caller, as their token describes them.")
class Viewer:
    subject: str = strawberry.field(description="The caller's user id (token subject).")
    tier: Tier = strawberry.field(description="Behörighet — the caller's authority tier.")
    roles: list[str] = strawberry.field(description="Roles beyond lookups (e.g. selections).")
    organisation: str | None = strawberry.field(description="The caller's organisation.")


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
class Query(ChangeQueries, SelectionQueries):
    @strawberry.field(
        description="Sök på personnummer — look up one person by personnummer (10 or 12 "
        "digits 0-9, with or without '-', '+' or a space; '+' means 100 years or older; "
        "a pasted dash or no-break space counts as '-' or a space). A number Skatteverket "
        "has replaced finds the person under their current number (`formerPersonnummer` "
        "says so). Null only when the lookup failed (a malformed number, Skatteverket out "
        "of reach): the error at its path says why, and the other fields stand."
    )
    async def person(
        self,
        info: Info,
        personnummer: Annotated[
            str, strawberry.argument(description="The number in any usual form.")
        ],
    ) -> PersonResult | None:
        return await person_by_number(info, arguments.number(personnummer, "personnummer"))

    @strawberry.field(
        description="Sök på intervall — every person whose personnummer lies in "
        "[from, to], in number order. Bounds take any accepted form; their check digit "
        "is not required and they may lie in the future; a bound written without its century "
        "must be read in the other's century (else write both with 12 digits). "
        "Samordningsnummer are never listed. Null when refused (its error says why)."
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
    ) -> PersonConnection | None:
        context = info.context
        check_page_size(first, context.limits.max_page_size)
        low, high = arguments.interval(from_, to)
        position = cursors.range_position(after)
        page = await persons.persons_in_range(
            context.database.read, context.viewer.tier, low.digits, high.digits, first, position
        )
        return await _connection(info, page, cursors.RANGE)

    @strawberry.field(
        description="Sök på namn — persons ranked by how well their name matches; "
        "case-insensitive, tolerant of missing diacritics (Asa finds Åsa) and small "
        "misspellings. A search matching too many persons is refused: narrow it. Null "
        "when refused (its error says why)."
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
    ) -> PersonConnection | None:
        context = info.context
        check_page_size(first, context.limits.max_page_size)
        arguments.birth_years(birth_year_from, birth_year_to)
        limit = context.limits.search_max_matches
        offset = cursors.search_offset(after, limit)
        criteria = persons.NameSearch(
            arguments.name(last_name, "lastName", 2, 60),
            arguments.name(first_name, "firstName", 1, 80),
            birth_year_from,
            birth_year_to,
            arguments.name(postal_town, "postalTown", 2, 27),
        )
        result = await persons.search_by_name(
            context.database.read, context.viewer.tier, criteria, limit, offset, first
        )
        if result.matches > limit:
            raise BadUserInput(
                f"Fler än {limit} personer matchar — more than {limit} persons match; narrow "
                "the search with first name, birth years or postal town",
                reason="TOO_MANY_MATCHES",
                limit=limit,
            )
        return await _connection(info, result.page, cursors.SEARCH)

    @strawberry.field(
        description="Loggen — search the access log, newest first. Needs the `audit` "
        "role; every search is itself logged.",
        extensions=requires_role(AUDIT_ROLE),
    )
    async def access_log(
        self,
        info: Info,
        personnummer: Annotated[
            str | None,
            strawberry.argument(
                description="Entries about this person: seen, looked for, or asked for by "
                "a former number that led to someone else."
            ),
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
        number = None if personnummer is None else arguments.number(personnummer, "personnummer")
        arguments.identifier(subject, "subject")
        arguments.identifier(organisation, "organisation")
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
        before = cursors.log_position(after, (NEWEST, NEWEST))
        digits = None if number is None else number.digits
        criteria = log_search.LogSearch(digits, subject, organisation, from_, to)
        context.access.searched(
            {
                name: value.isoformat() if isinstance(value, dt.datetime) else value
                for name, value in criteria._asdict().items()
                if value is not None
            }
        )
        # On the primary: a replica may not have the entries just written yet.
        entries, more = await log_search.search(context.database.write, criteria, before, first)
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
