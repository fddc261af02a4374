"""Numbers receivers hold only as someone's relative: told to purge them once protected.

A relation may name a number the register holds no one under (a child whose own record
has not come, a relative outside the region): the feed showed it in that person's
``relations``, and receivers may hold it there. When the number turns out protected — its
own record comes protected, or a Hänvisning leads it to a protected person — the purge
takes the relation from the register, and receivers must take it from their copies too.
The ``PROTECTED`` event tells them (docs/changes.md): the relative is told nothing, for an
event of theirs beside it would tie them to the protected person. A person the register
held before the file gets the event anyway; a number no relation named before the file
gets none, as a protected person new to the register gets none (no receiver holds it).

``import_shown`` holds the numbers relations named before the file that the file may
protect; at the end of the file those now protected, and not told yet, get ``PROTECTED``.
"""

from __future__ import annotations

import asyncpg

CREATE_SHOWN = "CREATE TEMP TABLE IF NOT EXISTS import_shown (personnummer text) ON COMMIT DROP"

# Before the file writes any person's relations: the numbers the staged records may
# protect — a protected record's own number, the new number its Hänvisning leads to and
# the number that replaced its own, and every number a Hänvisning leaves (the person
# under the new one may be protected) — that a relation of a person in the register
# before the file ($1: ids up to it) names. A samordningsnummer is never shown as a
# relative.
SHOWN_BEFORE = """
INSERT INTO import_shown (personnummer)
SELECT DISTINCT rel.related_personnummer
FROM relation AS rel
WHERE rel.related_personnummer IN (
    SELECT r.personnummer
    FROM import_record AS r
    WHERE r.protection IS NOT NULL OR r.new_personnummer IS NOT NULL
    UNION ALL
    SELECT r.new_personnummer
    FROM import_record AS r
    WHERE r.protection IS NOT NULL AND r.new_personnummer IS NOT NULL
    UNION ALL
    SELECT f.current_personnummer
    FROM import_record AS r
    JOIN former_personnummer AS f ON f.personnummer = r.personnummer
    WHERE r.protection IS NOT NULL
)
  AND rel.person_id <= $1
  AND NOT is_coordination_number(rel.related_personnummer)
"""

ANY_SHOWN = "SELECT EXISTS (SELECT 1 FROM import_shown)"

# At the end of the file: a PROTECTED for each number shown before that is protected now
# (its person, or the one now under the number that replaced it) and has none from the
# file yet, after the file's other events. $1: the ledger row of the file.
TELL_SHOWN = """
INSERT INTO change_event (personnummer, kind, import_file_id)
SELECT s.personnummer, 'PROTECTED', $1
FROM (SELECT DISTINCT personnummer FROM import_shown) AS s
LEFT JOIN former_personnummer AS f ON f.personnummer = s.personnummer
WHERE EXISTS (
        SELECT 1
        FROM person AS p
        WHERE p.protection IS NOT NULL
          AND p.personnummer IN (s.personnummer, f.current_personnummer)
    )
  AND s.personnummer NOT IN (
        SELECT e.personnummer
        FROM change_event AS e
        WHERE e.xid = pg_current_xact_id()
          AND e.kind = 'PROTECTED'
    )
ORDER BY s.personnummer
"""


async def remember(connection: asyncpg.Connection, known_persons: int) -> None:
    """Before the file writes relations (the fast path: before its purge), with the
    largest person id when the file began: the numbers shown as a relative it may
    protect."""
    await connection.execute(CREATE_SHOWN)
    if known_persons:  # into an empty register nothing was shown before
        await connection.execute(SHOWN_BEFORE, known_persons)


async def tell(connection: asyncpg.Connection, file_id: int) -> None:
    """Once the file's records are applied: ``PROTECTED`` for the numbers receivers may
    hold as a relative, now protected."""
    if await connection.fetchval(ANY_SHOWN):
        await connection.execute(TELL_SHOWN, file_id)
