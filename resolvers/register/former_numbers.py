"""A lookup's number that no visible person has: who in the register holds it now.

Read only when the lookup itself found no one, so a lookup of a current number costs
nothing more. One statement answers what the lookup then needs: whether the number's
own holder is in the register but protected, or else whether Skatteverket replaced the
number (a hänvisning: ``former_personnummer``, written by ``resolvers.imports.numbers``)
by one that someone in the register holds — and, if so, whether that person is
protected, and their record when it may be shown.

The importer keeps every former number pointing at the last number of its chain (A → C
once B → C follows A → B), so one step is the rule; the statement still follows a chain
that was left longer, up to ``MAX_STEPS``, and stops at the first number someone holds
(a cycle ends there too).
"""

from __future__ import annotations

from typing import NamedTuple

import asyncpg

from resolvers.domain.access import Tier
from resolvers.register.records import ADDRESS_JOINS, person_columns, person_from_record
from resolvers.register.rows import PersonRow

MAX_STEPS = 10

# $1 the number asked. ``person`` itself, not the view: protection is what is asked,
# and the record comes from visible_person, which shows no protected person. Each number
# of the chain is probed by its index (the LIMIT keeps the planner from hashing the whole
# table against a chain it cannot size).
CURRENT_NUMBER = {
    tier: f"""
WITH RECURSIVE chain (personnummer, steps) AS (
    SELECT $1::text, 0
    UNION ALL
    SELECT f.current_personnummer, c.steps + 1
    FROM chain AS c
    JOIN former_personnummer AS f ON f.personnummer = c.personnummer
    WHERE c.steps < {MAX_STEPS}
),
holder AS (
    SELECT h.id, h.personnummer, h.protection IS NOT NULL AS protected
    FROM chain AS c
    CROSS JOIN LATERAL (
        SELECT id, personnummer, protection
        FROM person
        WHERE personnummer = c.personnummer
        LIMIT 1
    ) AS h
    ORDER BY c.steps
    LIMIT 1
)
SELECT holder.personnummer AS current_personnummer, holder.protected, {person_columns(tier)}
FROM holder
LEFT JOIN visible_person AS p ON p.id = holder.id
{ADDRESS_JOINS}
"""
    for tier in Tier
}
PERSON_START = 2  # the record's columns before the person's


class CurrentNumber(NamedTuple):
    """Who holds a number now: ``personnummer`` is the number asked, or the one that
    replaced it. ``person`` is their record at the caller's tier; None when they are
    protected (``protected``) or not shown for another reason (a samordningsnummer)."""

    personnummer: str
    protected: bool
    person: PersonRow | None


async def current_number(pool: asyncpg.Pool, tier: Tier, personnummer: str) -> CurrentNumber | None:
    """Who in the register holds ``personnummer`` (12 digits) or the number that replaced
    it; None when no one does (the lookup may then ask Skatteverket)."""
    record = await pool.fetchrow(CURRENT_NUMBER[tier], personnummer)
    if record is None:
        return None
    person = person_from_record(record, tier, PERSON_START)
    return CurrentNumber(record[0], record[1], person)
