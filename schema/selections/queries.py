"""The selection's root fields: the preview, orders and the billing list (queries), and
placing and cancelling an order (mutations, made on the request's transaction)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from resolvers.domain.text import blank, unprintable
from resolvers.selections import orders
from resolvers.selections.fields import FieldError, chosen
from schema.directives import requires_role
from schema.errors import FORBIDDEN, TOO_MANY_ORDERS, BadUserInput
from schema.selections.types import (
    SelectionCriteria,
    SelectionField,
    SelectionFormat,
    SelectionOrder,
    SelectionPreview,
    SelectionPrice,
)

SELECTION_ROLE = "selection"
FINANCE_ROLE = "finance"
MAX_LISTED = 100
ORDER_ID = "The order's id, as orderSelection answered it."


def _organisation(info: Info) -> str:
    """The caller's organisation: orders belong to one, and only it sees them."""
    organisation = info.context.viewer.organisation
    if organisation is None:
        raise GraphQLError(
            "Selections need an organisation in the token (claim 'org').",
            extensions={"code": FORBIDDEN},
        )
    return str(organisation)


def _order_id(id: strawberry.ID) -> int:
    if not str(id).isascii() or not str(id).isdigit() or len(str(id)) > 18:
        raise BadUserInput("`id` is an order's id, as orderSelection answered", argument="id")
    return int(str(id))


def _text(value: str | None, argument: str, limit: int) -> str | None:
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
        row = await orders.one(info.context.database.write, _order_id(id), _organisation(info))
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
        rows = await orders.of_organisation(info.context.database.write, _organisation(info), first)
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
        rows = await orders.delivered(info.context.database.write, start, end)
        return [SelectionOrder(row=row) for row in rows]


@strawberry.type(description="Ändringar — what callers can change: selection orders.")
class Mutation:
    @strawberry.mutation(
        description="Beställ urval — order a selection; answered at once with the queued "
        "order, run in the background. Needs the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def order_selection(
        self,
        info: Info,
        criteria: Annotated[SelectionCriteria, strawberry.argument(description="Whom to select.")],
        purpose: Annotated[str, strawberry.argument(description="Why (ändamål), 1-500 chars.")],
        fields: Annotated[
            list[SelectionField],  # type: ignore[valid-type]
            strawberry.argument(description="The file's columns (within the caller's tier)."),
        ],
        format: Annotated[
            SelectionFormat, strawberry.argument(description="The file's format.")
        ] = SelectionFormat.CSV,
        case_reference: Annotated[
            str | None, strawberry.argument(description="Ärendereferens, 1-100 chars.")
        ] = None,
    ) -> SelectionOrder | None:
        context = info.context
        organisation = _organisation(info)
        try:
            names = chosen([field.name for field in fields], context.viewer.tier)  # type: ignore[attr-defined]
        except FieldError as error:
            raise BadUserInput(str(error), argument="fields") from None
        order = orders.Order(
            criteria.checked(dt.date.today()), _text(purpose, "purpose", 500) or "",
            _text(case_reference, "caseReference", 100), str(format.value), names,
        )  # fmt: skip
        async with context.connection.transaction():  # a savepoint: this field's change
            try:
                row = await orders.place(
                    context.connection, context.viewer, context.request_id, order,
                    context.selections,
                )  # fmt: skip
            except orders.TooManyOrders as error:
                raise GraphQLError(
                    f"{organisation} has {error.limit} orders queued or running, as many as "
                    "it may; wait for one to finish or cancel one",
                    extensions={"code": TOO_MANY_ORDERS, "limit": error.limit},
                ) from None
        return SelectionOrder(row=row)

    @strawberry.mutation(
        description="Avbryt — cancel a queued or running order of the organisation. Needs "
        "the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def cancel_selection_order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description=ORDER_ID)]
    ) -> SelectionOrder | None:
        connection = info.context.connection
        order_id, organisation = _order_id(id), _organisation(info)
        async with connection.transaction():
            if not await orders.cancel(connection, order_id, organisation):
                row = await orders.one(connection, order_id, organisation)
                if row is None:
                    raise BadUserInput(f"no order {order_id} of {organisation}", argument="id")
                raise BadUserInput(
                    f"order {order_id} is {row.status}: only a queued or running order can be "
                    "cancelled",
                    argument="id",
                    reason="NOT_CANCELLABLE",
                )
            row = await orders.one(connection, order_id, organisation)
        assert row is not None
        return SelectionOrder(row=row)
