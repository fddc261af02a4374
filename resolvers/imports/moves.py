"""What the feed tells of a number change whose person ends the file protected.

A protected person's new number is never told, nor tied to the old one: receivers purge
what they hold under the number they knew (docs/imports.md "Number change"). A file's
number changes are kept in ``import_move`` as they apply; once all its records are
applied, every move whose person is protected at the end of the file — before it, by
the number change's own record, or by a later record of the file — loses the file's
events that name the new number: the ``NUMBER_CHANGED`` told for the old number becomes
``PROTECTED`` for it, in its place, and a ``PROTECTED`` event for the new number stays
only when receivers knew that number before the file (its person was in the register
under it). The events are the file's own, in its transaction: no reader has seen them.
"""

from __future__ import annotations

import asyncpg

# ``municipality``: where the person under the old number was registered at the move.
CREATE_MOVES = """
CREATE TEMP TABLE import_move (old text, new text, known boolean, municipality text)
ON COMMIT DROP
"""
MOVED = "INSERT INTO import_move (old, new, known, municipality) VALUES ($1, $2, $3, $4)"

# The moves whose person — under the new number, or the one a later move in the file
# led to — is protected.
HIDDEN = """
CREATE TEMP TABLE import_hidden ON COMMIT DROP AS
SELECT m.old, m.new, m.known, m.municipality
FROM import_move AS m
LEFT JOIN former_personnummer AS f ON f.personnummer = m.new
JOIN person AS p ON p.personnummer = coalesce(f.current_personnummer, m.new)
WHERE p.protection IS NOT NULL
"""
# The number change from a number receivers knew (not one the file itself led to)
# becomes the PROTECTED event for it, where it stands, naming where the person was
# registered under it. (This transaction's events are the file's: one range of the
# (xid, position) index.)
TELL_OLD_NUMBERS = """
UPDATE change_event AS e
SET kind = 'PROTECTED',
    personnummer = h.old,
    previous_personnummer = NULL,
    recorded_at = NULL,
    post_id = NULL,
    municipality_before = h.municipality
FROM import_hidden AS h
WHERE e.xid = pg_current_xact_id()
  AND e.kind = 'NUMBER_CHANGED'
  AND e.personnummer = h.new
  AND e.previous_personnummer = h.old
  AND h.old NOT IN (SELECT new FROM import_hidden)
"""
ANY_HIDDEN = "SELECT EXISTS (SELECT 1 FROM import_hidden)"
FORGET_NEW_NUMBERS = """
DELETE FROM change_event AS e
USING import_hidden AS h
WHERE e.xid = pg_current_xact_id()
  AND e.personnummer = h.new
  AND NOT (e.kind = 'PROTECTED' AND h.new IN (SELECT new FROM import_hidden WHERE known))
"""


async def start(connection: asyncpg.Connection) -> None:
    await connection.execute(CREATE_MOVES)


async def moved(
    connection: asyncpg.Connection, old: str, new: str, known: bool, municipality: str | None
) -> None:
    """The person moved from ``old`` to ``new``; ``known``: receivers knew ``new``;
    ``municipality``: where they were registered under ``old``."""
    await connection.execute(MOVED, old, new, known, municipality)


async def hide_protected(connection: asyncpg.Connection) -> None:
    """Once the file's records are applied: the events its protected moves keep."""
    await connection.execute(HIDDEN)
    if await connection.fetchval(ANY_HIDDEN):
        await connection.execute(TELL_OLD_NUMBERS)
        await connection.execute(FORGET_NEW_NUMBERS)
