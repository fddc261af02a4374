"""Number changes (Hänvisning): a person's record moves from the old number to the new.

A record for number A carrying a new number B moves the person to B; if B is in the
register already (its own record came first), A's row goes instead. Either way the old
number is kept in ``former_personnummer`` and other persons' relations follow it to B.
They are rare (a handful a day), so they are applied one by one, in PostId order, after
their round's other records: a chain A → B → C in one file then ends at C.

A lookup of A follows ``former_personnummer`` to B
(``resolvers.register.former_numbers.current_number``).
"""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.imports.plan import IN_ROUND

NUMBER_CHANGES = f"""
SELECT r.post_id, r.personnummer, r.new_personnummer, r.changed_at
FROM import_record AS r
WHERE r.new_personnummer IS NOT NULL
  AND r.new_personnummer <> r.personnummer
  AND {IN_ROUND}
ORDER BY r.post_id
"""
PERSON_BY_NUMBER = """
SELECT id, post_id, protection
FROM person
WHERE personnummer = $1
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
    personnummer, kind, previous_personnummer, recorded_at, post_id, import_file_id
)
VALUES ($1, 'NUMBER_CHANGED', $2, $3, $4, $5)
"""
PROTECTED_EVENT = """
INSERT INTO change_event (personnummer, kind, import_file_id)
VALUES ($1, 'PROTECTED', $2)
"""


async def apply_number_changes(
    connection: asyncpg.Connection, turn: int, full_extract: int | None, file_id: int
) -> dict[str, int]:
    """Apply round ``turn``'s number changes in PostId order; their counts."""
    counts = {"number_changed": 0, "stale": 0, "skipped": 0}
    for post_id, old, new, changed_at in await connection.fetch(NUMBER_CHANGES, turn):
        person = await connection.fetchrow(PERSON_BY_NUMBER, old)
        if person is not None and person["post_id"] is not None and person["post_id"] >= post_id:
            counts["stale"] += 1
            continue
        await connection.execute(REMEMBER_FORMER, old, new, changed_at)
        await connection.execute(FOLLOW_FORMER, old, new)
        if person is None:
            counts["skipped"] += 1
            continue
        protected = await _move(connection, person, old, new, (post_id, changed_at, full_extract))
        if protected:
            await connection.execute(PURGE_RELATIONS_TO, new)
            if person["protection"] is None:  # receivers may hold data on A: they purge it
                await connection.execute(PROTECTED_EVENT, old, file_id)
        else:
            await connection.execute(NUMBER_EVENT, new, old, changed_at, post_id, file_id)
        counts["number_changed"] += 1
    return counts


async def _move(
    connection: asyncpg.Connection,
    person: asyncpg.Record,
    old: str,
    new: str,
    record: tuple[int, dt.datetime | None, int | None],
) -> bool:
    """Move the person from ``old`` to ``new`` (or drop ``old`` when ``new`` is there);
    whether the person now under ``new`` is protected."""
    existing = await connection.fetchrow(PERSON_BY_NUMBER, new)
    if existing is not None:
        await connection.execute(DELETE_PERSON, person["id"])
        await connection.execute(CARRIED, existing["id"], record[2])
        protected = existing["protection"] is not None
    else:
        await connection.execute(MOVE_PERSON, person["id"], new, *record)
        protected = person["protection"] is not None
    await connection.execute(DROP_DOUBLED_RELATIONS, old, new)
    await connection.execute(FOLLOW_RELATIONS, old, new)
    return protected
