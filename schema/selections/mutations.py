"""The selection's mutations: placing, cancelling and retrying an order.

The HTTP adapter runs a mutation on one connection in one transaction (its audit
written in it too, ``api.graphql_http``); graphql-core runs its root fields one after
another, in the order written, and each field's change is a savepoint of its own: a
field that fails (a refusal, the cap) undoes only its own change, the fields before it
stand, and the fields after it see theirs. All commit together when the answer leaves.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import asyncpg
import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from resolvers.selections import orders
from resolvers.selections.fields import FieldError, chosen
from schema.directives import requires_role
from schema.errors import TOO_MANY_ORDERS, BadUserInput
from schema.selections.queries import (
    ORDER_ID,
    SELECTION_ROLE,
    order_id,
    organisation_of,
    text_of,
)
from schema.selections.types import (
    SelectionCriteria,
    SelectionField,
    SelectionFormat,
    SelectionOrder,
)

CANCELLABLE = "only a queued or running order can be cancelled"
RETRYABLE = "only a failed order can be run again"


def _too_many(organisation: str, error: orders.TooManyOrders) -> GraphQLError:
    return GraphQLError(
        f"{organisation} has {error.limit} orders queued or running, as many as it may; "
        "wait for one to finish or cancel one",
        extensions={"code": TOO_MANY_ORDERS, "limit": error.limit},
    )


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
        organisation = organisation_of(info)
        try:
            names = chosen([field.name for field in fields], context.viewer.tier)  # type: ignore[attr-defined]
        except FieldError as error:
            raise BadUserInput(str(error), argument="fields") from None
        order = orders.Order(
            criteria.checked(dt.date.today()), text_of(purpose, "purpose", 500) or "",
            text_of(case_reference, "caseReference", 100), str(format.value), names,
        )  # fmt: skip
        async with context.connection.transaction():  # a savepoint: this field's change
            try:
                row = await orders.place(
                    context.connection, context.viewer, context.request_id, order,
                    context.selections,
                )  # fmt: skip
            except orders.TooManyOrders as error:
                raise _too_many(organisation, error) from None
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
        number, organisation = order_id(id), organisation_of(info)
        async with connection.transaction():  # a savepoint: this field's change
            if not await orders.cancel(connection, number, organisation):
                await _refuse(connection, number, organisation, CANCELLABLE, "NOT_CANCELLABLE")
            row = await orders.one(connection, number, organisation)
        assert row is not None
        return SelectionOrder(row=row)

    @strawberry.mutation(
        description="Kör igen — queue a failed order of the organisation again, with its "
        "criteria, fields and the price list it was placed under. Needs the `selection` role.",
        extensions=requires_role(SELECTION_ROLE),
    )
    async def retry_selection_order(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description=ORDER_ID)]
    ) -> SelectionOrder | None:
        context = info.context
        number, organisation = order_id(id), organisation_of(info)
        async with context.connection.transaction():  # a savepoint: this field's change
            try:
                row = await orders.retry(
                    context.connection, number, organisation, context.selections
                )
            except orders.TooManyOrders as error:
                raise _too_many(organisation, error) from None
            if row is None:
                await _refuse(context.connection, number, organisation, RETRYABLE, "NOT_RETRYABLE")
        assert row is not None
        return SelectionOrder(row=row)


async def _refuse(
    connection: asyncpg.Connection, number: int, organisation: str, change: str, reason: str
) -> None:
    """Refuse a change of an order that is not the organisation's, or not in a state for it."""
    row = await orders.one(connection, number, organisation)
    if row is None:
        raise BadUserInput(f"no order {number} of {organisation}", argument="id")
    raise BadUserInput(f"order {number} is {row.status}: {change}", argument="id", reason=reason)
