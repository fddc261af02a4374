"""The selection's query fields: the preview, the organisation's orders, the billing
list (finance) and every organisation's orders (auditors). Placing, cancelling and
retrying an order: ``schema.selections.mutations``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from resolvers.domain.text import blank, unprintable
from resolvers.selections import orders, oversight
from schema.directives import AUDIT_ROLE, requires_role
from schema.errors import FORBIDDEN, BadUserInput
from schema.selections.types import (
    SelectionCriteria,
    SelectionOrder,
    SelectionPreview,
    SelectionPrice,
)

SELECTION_ROLE = "selection"
FINANCE_ROLE = "finance"
MAX_LISTED = 100
ORDER_ID = "The order's id, as orderSelection answered it."


def organisation_of(info: Info) -> str:
    """The caller's organisation: orders belong to one, and only it sees them."""
    organisation = info.context.viewer.organisation
    if organisation is None:
        raise GraphQLError(
            "Selections need an organisation in the token (claim 'org').",
            extensions={"code": FORBIDDEN},
        )
    return str(organisation)


def order_id(id: strawberry.ID, argument: str = "id") -> int:
    if not str(id).isascii() or not str(id).isdigit() or len(str(id)) > 18:
        message = f"`{argument}` holds an order's id, as orderSelection answered"
        raise BadUserInput(message, argument=argument)
    return int(str(id))


def text_of(value: str | None, argument: str, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if unprintable(value) is not None or blank(value) or len(value) > limit:
        raise BadUserInput(
            f"`{argument}` is 1 to {limit} printable characters, not all blank", argument=argument
        )
    return value


@strawberry.type
class SelectionQueries:
    @strawberry.field(
        description="Förhandsbesked — how many persons the criteria select now, and what "
        "an order of them would cost. Needs the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def selection_preview(
        self,
        info: Info,
        criteria: Annotated[SelectionCriteria, strawberry.argument(description="Whom to count.")],
    ) -> SelectionPreview | None:
        checked = criteria.checked(dt.date.today())
        count = await orders.count(info.context.database.read, checked)
        prices = info.context.selections.price_list
        price = SelectionPrice(
            total=prices.price(count), handling_fee=prices.handling_fee, rows=count
        )
        return SelectionPreview(count=count, price=price)

    @strawberry.field(
        description="One of the organisation's selection orders. Needs the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def selection_order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description=ORDER_ID)]
    ) -> SelectionOrder | None:
        row = await orders.one(info.context.database.write, order_id(id), organisation_of(info))
        return None if row is None else SelectionOrder(row=row)

    @strawberry.field(
        description="The organisation's selection orders, newest first (at most 100). "
        "Needs the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def selection_orders(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many, at most 100.")] = 20,
    ) -> list[SelectionOrder] | None:
        if not 1 <= first <= MAX_LISTED:
            raise BadUserInput(f"`first` must lie between 1 and {MAX_LISTED}", argument="first")
        rows = await orders.of_organisation(
            info.context.database.write, organisation_of(info), first
        )
        return [SelectionOrder(row=row) for row in rows]

    @strawberry.field(
        description="Fakturaunderlag — every organisation's orders delivered (done) in "
        "[from, to), with their price, for billing. Needs the `finance` role.",
        extensions=requires_role(FINANCE_ROLE),
    )
    async def selection_billing(
        self,
        info: Info,
        from_: Annotated[
            dt.datetime | None,
            strawberry.argument(name="from", description="Inclusive; default: from the first."),
        ] = None,
        to: Annotated[
            dt.datetime | None, strawberry.argument(description="Exclusive; default: now.")
        ] = None,
    ) -> list[SelectionOrder] | None:
        for argument, moment in (("from", from_), ("to", to)):
            if moment is not None and moment.tzinfo is None:
                raise BadUserInput(f"`{argument}` needs a time zone", argument=argument)
        start = from_ or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        end = to or dt.datetime.now(dt.UTC)
        rows = await oversight.delivered(info.context.database.write, start, end)
        return [SelectionOrder(row=row) for row in rows]

    @strawberry.field(
        description="Granskning — every organisation's selection orders, newest first: who "
        "ordered them, when, why, what they selected, their rows and price. With `ids`, "
        "those orders (as an access log entry's `selectionOrder` names them). Needs the "
        "`audit` role.",
        extensions=requires_role(AUDIT_ROLE),
    )
    async def selection_audit(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID] | None,
            strawberry.argument(description="These orders only (at most 100)."),
        ] = None,
        organisation: Annotated[
            str | None, strawberry.argument(description="This organisation's orders only.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, at most 100.")] = 20,
    ) -> list[SelectionOrder] | None:
        if not 1 <= first <= MAX_LISTED:
            raise BadUserInput(f"`first` must lie between 1 and {MAX_LISTED}", argument="first")
        if ids is not None and len(ids) > MAX_LISTED:
            raise BadUserInput(f"`ids` lists at most {MAX_LISTED} orders", argument="ids")
        chosen = None if ids is None else [order_id(one, "ids") for one in ids]
        text = text_of(organisation, "organisation", 100)
        rows = await oversight.audited(info.context.database.write, chosen, text, first)
        return [SelectionOrder(row=row) for row in rows]
