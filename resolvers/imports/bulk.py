"""Loading the first full delivery in bulk: the secondary indexes and foreign keys set aside.

Maintaining a trigram index and checking a foreign key row by row cost more than the
rows themselves; building the index and validating the key once, afterwards, costs a
fraction. The first file of the first full delivery, into an empty register, drops
them (read from the catalog, whichever migrations made them) and keeps their
definitions in ``register_set_aside``; the delivery's later files write without them;
the file that completes it builds them again, once, over the whole register (at two
million persons in four files, rebuilding after every file cost as much as keeping them
did). Everything happens inside the files' transactions: a file that fails rolls back
to what was before it.

Dropping takes the tables' exclusive lock until the first file commits, so lookups wait
meanwhile; during the later files lookups answer, without the secondary indexes (a name
search reads the whole table). The register is not in service before its first full
delivery is whole (docs/imports.md says to load it first). Any other import, and a
migration, builds them again before it begins (``put_back``).
"""

from __future__ import annotations

import asyncpg

REGISTER_TABLES = ["person", "address", "relation"]

# Indexes that back no constraint (the primary and unique keys stay: they are what
# the load's own statements check against).
SECONDARY_INDEXES = """
SELECT
    i.indrelid::regclass::text AS owner,
    i.indexrelid::regclass::text AS name,
    pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i
WHERE i.indrelid = ANY ($1::text[]::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)
ORDER BY i.indexrelid
"""
FOREIGN_KEYS = """
SELECT
    c.conrelid::regclass::text AS owner,
    quote_ident(c.conname) AS name,
    pg_get_constraintdef(c.oid) AS definition
FROM pg_constraint AS c
WHERE c.contype = 'f'
  AND c.conrelid = ANY ($1::text[]::regclass[])
ORDER BY c.oid
"""
REMEMBER = """
INSERT INTO register_set_aside (kind, owner, name, definition) VALUES ($1, $2, $3, $4)
"""
# (Before the migration that makes the table, nothing can be.)
KEEPS_SET_ASIDE = "SELECT to_regclass('register_set_aside') IS NOT NULL"
ARE_SET_ASIDE = "SELECT EXISTS (SELECT 1 FROM register_set_aside)"
# In the order they are built: the indexes, then the keys (validated with their help).
SET_ASIDE = "SELECT kind, owner, name, definition FROM register_set_aside ORDER BY position"
# Whether one is there already (a migration may have made it meanwhile).
INDEX_EXISTS = "SELECT to_regclass($1) IS NOT NULL"
KEY_EXISTS = """
SELECT EXISTS (
    SELECT 1 FROM pg_constraint WHERE conrelid = $1::regclass AND quote_ident(conname) = $2
)
"""
FORGET = "DELETE FROM register_set_aside"

# An import's sorts, hashes and index builds over a few million rows fit in memory rather
# than spilling to disk (for its own transaction only).
MEMORY = """
SELECT set_config('work_mem', '128MB', true), set_config('maintenance_work_mem', '512MB', true)
"""


async def set_aside(connection: asyncpg.Connection) -> None:
    """Drop the register's secondary indexes and foreign keys, keeping their definitions."""
    indexes = await connection.fetch(SECONDARY_INDEXES, REGISTER_TABLES)
    keys = await connection.fetch(FOREIGN_KEYS, REGISTER_TABLES)
    await connection.executemany(
        REMEMBER,
        [("INDEX", *index) for index in indexes] + [("FOREIGN KEY", *key) for key in keys],
    )
    # Names and definitions come from the catalog, already quoted: no value is spliced.
    for key in keys:
        await connection.execute(f"ALTER TABLE {key['owner']} DROP CONSTRAINT {key['name']}")
    for index in indexes:
        await connection.execute(f"DROP INDEX {index['name']}")


async def are_set_aside(connection: asyncpg.Connection) -> bool:
    if not await connection.fetchval(KEEPS_SET_ASIDE):
        return False
    return bool(await connection.fetchval(ARE_SET_ASIDE))


async def put_back(connection: asyncpg.Connection) -> bool:
    """Build what ``set_aside`` dropped (in the caller's transaction); whether there was any."""
    if not await are_set_aside(connection):
        return False
    for kind, owner, name, definition in await connection.fetch(SET_ASIDE):
        if kind == "INDEX" and not await connection.fetchval(INDEX_EXISTS, name):
            await connection.execute(definition)
        elif kind == "FOREIGN KEY" and not await connection.fetchval(KEY_EXISTS, owner, name):
            await connection.execute(f"ALTER TABLE {owner} ADD CONSTRAINT {name} {definition}")
    await connection.execute(FORGET)
    return True
