"""A lookup by number: the register's person, a protection notice, the person a former
number leads to, or Skatteverket's answer.

Each step is taken only when the one before found no one, so a lookup of a current
number costs its one statement:

1. the visible person with the number (with their relations, when the query asks);
2. who in the register holds the number, or the number Skatteverket replaced it by
   (``resolvers.register.former_numbers``, one statement). A protected holder gives
   ``ProtectedPerson`` with the number asked — never the new number — and no call to
   Skatteverket; otherwise the person under the new number, whose
   ``formerPersonnummer`` says which number was asked (and the access log with it: the
   note of ``Person``). A samordningsnummer is never answered from the register: an
   unprotected one goes on to
3. Skatteverket (``schema.register.fallback``).
"""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from resolvers.register.former_numbers import current_number
from resolvers.register.rows import LOCAL
from schema.directives import may_read
from schema.register.fallback import PROTECTED_NOTICE, from_skatteverket
from schema.register.person import ProtectedPerson
from schema.register.relations_ahead import (
    load_relations_ahead,
    load_with_relations,
    selects_relations,
)


async def person_by_number(info: Info, number: Personnummer) -> Any:
    """The answer to ``person(personnummer:)`` for a number already read and checked."""
    context = info.context
    asked = number.digits
    with_relations = may_read(info, Tier.RELATIONS) and selects_relations(info)
    # visible_person holds no samordningsnummer: one is never answered from the copy.
    if with_relations:
        row = await load_with_relations(info, asked)
    else:
        row = await context.loaders.person_by_personnummer.load(asked)
    if row is not None:
        return row
    holder = await current_number(context.database.read, context.viewer.tier, asked)
    # Checked before any upstream call: the fallback never gets around a protection.
    if holder is not None and holder.protected:
        return ProtectedPerson(personnummer=asked, notice=PROTECTED_NOTICE, source=LOCAL)
    if holder is not None and holder.person is not None and not number.is_coordination_number:
        row = holder.person
        if row.personnummer != asked:
            row = row._replace(former_personnummer=asked)
        if with_relations:
            await load_relations_ahead(info, [row])
        return row
    return await from_skatteverket(info, number)
