"""Number changes (Hänvisning): a person's record moves from the old number to the new.

A record for number A carrying a new number B moves the person to B; if B is in the
register already (its own record came first), A's row goes instead. Either way the old
number is kept in ``former_personnummer`` and other persons' relations follow it to B.
They are rare (a handful a day), so they are applied one by one, in PostId order, after
their round's other records: a chain A → B → C in one file then ends at C. A record's
protection mark applies whatever its PostId (a stale one's to the person still under the
old number); a protected person's move is told as ``PROTECTED`` for the old number
(``resolvers.imports.moves``).

A lookup of A follows ``former_personnummer`` to B
(``resolvers.register.former_numbers.current_number``).
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.imports import moves, writes
from resolvers.imports.parts import registered_in
from resolvers.imports.plan import IN_ROUND, Target

NUMBER_CHANGES = f"""
SELECT r.post_id, r.personnummer, r.new_personnummer, r.changed_at, r.protection
FROM import_record AS r
WHERE r.new_personnummer IS NOT NULL
  AND r.new_personnummer <> r.personnummer
  AND {IN_ROUND}
ORDER BY r.post_id
"""
# With the municipality they are registered in, that an event taking them out of it names.
PERSON_BY_NUMBER = f"""
SELECT p.id, p.post_id, p.post_order, p.protection, {registered_in("p.id")} AS municipality
FROM person AS p
WHERE p.personnummer = $1
"""
# A protection that arrived under a number Skatteverket has replaced: the person now under
# the replacing number is the same person, and is protected too (fail safe: the record's
# own stub under the old number is protected by its round already).
UNDER_FORMER_NUMBERS = f"""
SELECT DISTINCT ON (p.id)
    p.id, p.personnummer, p.protection, {registered_in("p.id")} AS municipality,
    r.protection AS mark
FROM import_record AS r
JOIN former_personnummer AS f ON f.personnummer = r.personnummer
JOIN person AS p ON p.personnummer = f.current_personnummer
WHERE r.protection IS NOT NULL
  AND p.protection IS NULL
ORDER BY p.id, r.post_id
"""
# $1 old, $2 new, $3 when: numbers that led to A lead to B now.
REMEMBER_FORMER = """
INSERT INTO former_personnummer (personnummer, current_personnummer, changed_at)
VALUES ($1, $2, $3)
ON CONFLICT (personnummer) DO UPDATE
SET current_personnummer = excluded.current_personnummer, changed_at = excluded.changed_at
"""
FOLLOW_FORMER = """
UPDATE former_personnummer
SET current_personnummer = $2
WHERE current_personnummer = $1
"""
MOVE_PERSON = """
UPDATE person
SET personnummer = $2,
    birth_date = personnummer_birth_date($2),
    post_id = $3,
    changed_at = CASE WHEN protection IS NULL THEN $4::timestamp END,
    full_extract = coalesce($5::bigint, full_extract),
    post_order = $6::text,
    updated_at = now()
WHERE id = $1
"""
DELETE_PERSON = "DELETE FROM person WHERE id = $1"
# The person under the new number is carried by the full extract that carried the old.
CARRIED = "UPDATE person SET full_extract = coalesce($2::bigint, full_extract) WHERE id = $1"
# Relations to A that already name B too are the same relation: the one to B stays.
DROP_DOUBLED_RELATIONS = """
DELETE FROM relation AS old
USING relation AS kept
WHERE old.related_personnummer = $1
  AND kept.related_personnummer = $2
  AND kept.person_id = old.person_id
  AND kept.kind = old.kind
"""
FOLLOW_RELATIONS = """
UPDATE relation
SET related_personnummer = $2
WHERE related_personnummer = $1
"""
PURGE_RELATIONS_TO = "DELETE FROM relation WHERE related_personnummer = $1"
NUMBER_EVENT = """
INSERT INTO change_event (
    personnummer, kind, previous_personnummer, recorded_at, post_id, import_file_id,
    municipality_before
)
VALUES ($1, 'NUMBER_CHANGED', $2, $3, $4, $5, $6)
"""
# $3: the municipality the person was registered in before the protection purged it.
PROTECTED_EVENT = """
INSERT INTO change_event (personnummer, kind, import_file_id, municipality_before)
VALUES ($1, 'PROTECTED', $2, $3)
"""


async def apply_number_changes(
    connection: asyncpg.Connection, turn: int, target: Target
) -> dict[str, int]:
    """Apply round ``turn``'s number changes in PostId order; their counts."""
    counts = {"number_changed": 0, "protected": 0, "stale": 0, "skipped": 0}
    for post_id, old, new, changed_at, protection in await connection.fetch(NUMBER_CHANGES, turn):
        person = await connection.fetchrow(PERSON_BY_NUMBER, old)
        if person is not None and _stale(person, post_id, target.order_id):
            # Its protection applies whatever its PostId: to the person under the old number.
            protects = protection is not None and person["protection"] is None
            if protects:
                await _protect(connection, person["id"], old, protection)
                await _protected_event(connection, old, person, target)
            counts["protected" if protects else "stale"] += 1
            continue
        await connection.execute(REMEMBER_FORMER, old, new, changed_at)
        await connection.execute(FOLLOW_FORMER, old, new)
        await connection.execute(DROP_DOUBLED_RELATIONS, old, new)
        await connection.execute(FOLLOW_RELATIONS, old, new)
        if person is None:  # relations that named A now name B, protected or not
            current = await connection.fetchrow(PERSON_BY_NUMBER, new)
            if current is not None:
                await _protected(connection, current, new, protection, target)
            counts["skipped"] += 1
            continue
        record = (post_id, changed_at, target.full_extract, target.order_id)
        current = await _move(connection, person, new, record)
        known = current["id"] != person["id"] and current["id"] <= target.known_persons
        if await _protected(connection, current, new, protection, target):
            if person["protection"] is None:  # receivers may hold data on A: they purge it
                await _protected_event(connection, old, person, target)
        elif person["protection"] is None:  # a protected A's receivers hold nothing of it
            told = (changed_at, post_id, target.file_id, _moved_out(person, current))
            await connection.execute(NUMBER_EVENT, new, old, *told)
        await moves.moved(connection, old, new, known, person["municipality"])
        counts["number_changed"] += 1
    return counts


async def protect_under_former_numbers(connection: asyncpg.Connection, target: Target) -> int:
    """Protect whoever now holds a number a protection arrived under; how many."""
    found = await connection.fetch(UNDER_FORMER_NUMBERS)
    for current in found:
        await _protected(connection, current, current["personnummer"], current["mark"], target)
    return len(found)


def _stale(person: asyncpg.Record, post_id: int, order_id: str | None) -> bool:
    """The stored PostId is one of this record's order, and not below it."""
    stored = person["post_id"]
    return stored is not None and stored >= post_id and person["post_order"] == order_id


async def _protected(
    connection: asyncpg.Connection,
    current: asyncpg.Record,
    new: str,
    protection: str | None,
    target: Target,
) -> bool:
    """Is the person now under ``new`` protected — before, or by the record's mark? No
    relation then names them. A person of the new number, protected now by the record
    only, gets a PROTECTED event (kept only if receivers knew them: ``moves``)."""
    if current["protection"] is None and protection is None:
        return False
    if current["protection"] is None:
        await _protect(connection, current["id"], new, protection)
        await _protected_event(connection, new, current, target)
    await connection.execute(PURGE_RELATIONS_TO, new)
    return True


async def _protected_event(
    connection: asyncpg.Connection, personnummer: str, person: asyncpg.Record, target: Target
) -> None:
    """``PROTECTED`` for ``personnummer``: ``person`` as they were before the purge. Only
    for a person in the register before the file: receivers hold nothing of one it
    brought in, and the event would list a protected person."""
    if person["id"] <= target.known_persons:
        await connection.execute(
            PROTECTED_EVENT, personnummer, target.file_id, person["municipality"]
        )


def _moved_out(person: asyncpg.Record, current: asyncpg.Record) -> str | None:
    """The municipality the person under the old number was registered in, when the
    person now under the new number is not registered there (the new number's own row,
    written from its own record, stays)."""
    before = person["municipality"]
    return None if before == current["municipality"] else before


async def _protect(
    connection: asyncpg.Connection, person_id: int, personnummer: str, protection: str | None
) -> None:
    """Leave the person the number and the mark, and no relation naming them."""
    await connection.execute(writes.PROTECT_ONE, person_id, protection)
    await connection.execute(writes.PURGE_ONES_ADDRESSES, person_id)
    await connection.execute(writes.PURGE_ONES_RELATIONS, person_id)
    await connection.execute(PURGE_RELATIONS_TO, personnummer)


async def _move(
    connection: asyncpg.Connection,
    person: asyncpg.Record,
    new: str,
    record: tuple[int, dt.datetime | None, int | None, str | None],
) -> asyncpg.Record:
    """Move the person to ``new`` (or drop their row when ``new`` is there); the person
    now under ``new`` as it was before the move."""
    existing = await connection.fetchrow(PERSON_BY_NUMBER, new)
    if existing is not None:
        await connection.execute(DELETE_PERSON, person["id"])
        await connection.execute(CARRIED, existing["id"], record[2])
        return existing
    await connection.execute(MOVE_PERSON, person["id"], new, *record)
    return person
