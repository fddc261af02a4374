"""Loading an empty register in bulk: its secondary indexes and foreign keys set aside.

Maintaining a trigram index and checking a foreign key row by row cost more than the
rows themselves; building the index and validating the key once, afterwards, costs a
fraction. Indexes and keys are read from the catalog (whichever migrations made them)
and dropped and re-created inside the file's transaction: should the file fail, the
rollback brings them back as they were. Dropping them takes the tables' exclusive lock
until the commit, so lookups wait meanwhile — which only this path does, and only into
an empty register, where a lookup has nothing to find yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

REGISTER_TABLES = ["person", "address", "relation"]

# Indexes that back no constraint (the primary and unique keys stay: they are what
# the load's own statements check against).
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
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
# An import's sorts, hashes and index builds over a few million rows fit in memory rather
# than spilling to disk (for its own transaction only).
MEMORY = """
SELECT set_config('work_mem', '128MB', true), set_config('maintenance_work_mem', '512MB', true)
"""

# A later file of a full delivery keeps the indexes: its persons' trigram entries gather
# in the GIN pending list and are merged in batches of 64 MB, not 4 (fewer, larger
# merges: each trigram's entries land together), then the rest at the end, so that a
# name search after the import reads no long list.
LARGER_PENDING_LISTS = "SELECT set_config('gin_pending_list_limit', '65536', true)"  # kB
MERGE_PENDING_LISTS = """
SELECT gin_clean_pending_list(i.indexrelid)
FROM pg_index AS i
JOIN pg_class AS c ON c.oid = i.indexrelid
JOIN pg_am AS am ON am.oid = c.relam
WHERE am.amname = 'gin'
  AND i.indrelid = ANY ($1::text[]::regclass[])
"""


@asynccontextmanager
async def pending_lists_batched(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """Merge the register's trigram entries in large batches while the block runs."""
    await connection.execute(LARGER_PENDING_LISTS)
    yield
    await connection.execute(MERGE_PENDING_LISTS, REGISTER_TABLES)


@asynccontextmanager
async def indexes_set_aside(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """Drop the register's secondary indexes and foreign keys; re-create them after."""
    indexes = await connection.fetch(SECONDARY_INDEXES, REGISTER_TABLES)
    keys = await connection.fetch(FOREIGN_KEYS, REGISTER_TABLES)
    # Names and definitions come from the catalog, already quoted: no value is spliced.
    for key in keys:
        await connection.execute(f"ALTER TABLE {key['owner']} DROP CONSTRAINT {key['name']}")
    for index in indexes:
        await connection.execute(f"DROP INDEX {index['name']}")
    yield
    for index in indexes:
        await connection.execute(index["definition"])
    for key in keys:
        await connection.execute(
            f"ALTER TABLE {key['owner']} ADD CONSTRAINT {key['name']} {key['definition']}"
        )
