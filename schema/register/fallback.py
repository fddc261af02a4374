"""The Skatteverket fallback of a lookup by number, as the schema answers it.

Reached only for numbers the local register must not or cannot answer: every
samordningsnummer, and a personnummer that is neither in the register nor protected
there (a locally protected person is never sent upstream). The answer is built as the
register's own rows are, so tiers and the rest of the schema apply unchanged.
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from resolvers.domain.personnummer import Personnummer
from resolvers.register.rows import SKATTEVERKET
from resolvers.skatteverket.client import SkatteverketUnavailable
from schema.errors import UpstreamUnavailable
from schema.register.person import PersonNotFound, ProtectedPerson

PROTECTED_NOTICE = (
    "Personen har skyddade personuppgifter (sekretessmarkering eller skyddad folkbokföring). "
    "Inga uppgifter lämnas ut. — The person is protected; no data is released."
)
NOT_FOUND_MESSAGE = "Ingen person med detta nummer finns i registret. — Not in the register."
COORDINATION_MESSAGE = (
    "Samordningsnummer slås bara upp hos Skatteverket, som inte är anslutet här. — "
    "Coordination numbers are looked up at Skatteverket only, not connected here."
)
NOT_AT_SKATTEVERKET_MESSAGE = (
    "Varken i registret eller hos Skatteverket. — Neither in the register nor at Skatteverket."
)
UNAVAILABLE_MESSAGE = (
    "Skatteverket svarar inte just nu; försök igen om en stund. — Skatteverket did not "
    "answer ({reason}); try again shortly."
)


async def from_skatteverket(info: Info, number: Personnummer) -> Any:
    """The person as Skatteverket knows them, a protection notice, or not found.

    Raises:
        UpstreamUnavailable: no usable answer within the timeout, or calls are paused.
    """
    context = info.context
    client = context.skatteverket
    if client is None:
        message = COORDINATION_MESSAGE if number.is_coordination_number else NOT_FOUND_MESSAGE
        return PersonNotFound(personnummer=number.digits, message=message)
    try:
        answer = await client.lookup(number.digits, request_id=context.request_id)
    except SkatteverketUnavailable as error:
        raise UpstreamUnavailable(
            UNAVAILABLE_MESSAGE.format(reason=error), retry_after=error.retry_after
        ) from None
    # Every lookup made there is in the access log with its source, whatever it found
    # (a ProtectedPerson is noted, with its source, as every answer of that type is).
    if answer.person is None:
        context.access.not_found(number.digits, SKATTEVERKET)
        return PersonNotFound(personnummer=number.digits, message=NOT_AT_SKATTEVERKET_MESSAGE)
    if answer.person.protected:
        return ProtectedPerson(
            personnummer=number.digits, notice=PROTECTED_NOTICE, source=SKATTEVERKET
        )
    row = answer.person.row(context.viewer.tier, answer.fetched_at)
    # Upstream persons carry no relations: their relation fields answer empty at once.
    context.relations_ahead[row.id] = []
    return row
