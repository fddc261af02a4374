"""Migrations: applied in order, recorded, and a second run changes nothing."""

from __future__ import annotations

import asyncpg

from resolvers.db import migrate, migration_files
from tests.conftest import _fresh_database


async def test_migrations_are_recorded_and_idempotent(server_uri: str) -> None:
    url = await _fresh_database(server_uri, "vastfolket_migrations")
    connection = await asyncpg.connect(url)
    try:
        versions = [version for version, _ in migration_files()]
        recorded = await connection.fetch("SELECT version FROM schema_migration ORDER BY version")
        assert [row["version"] for row in recorded] == versions
        assert await migrate(connection) == []
        tables = await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert await migrate(connection) == []
        assert tables == await connection.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await connection.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute("DROP DATABASE vastfolket_migrations WITH (FORCE)")
        await admin.close()


async def test_lookups_are_index_scans(pool: asyncpg.Pool) -> None:
    """Each lookup path uses an index even when the planner would rather not."""
    plans = {
        "by number": "SELECT id FROM visible_person WHERE personnummer = ANY($1::text[])",
        "relations": "SELECT 1 FROM relation WHERE person_id = ANY($1::bigint[])",
        "reverse relations": "SELECT 1 FROM relation WHERE related_personnummer = $2",
        "name": "SELECT 1 FROM person WHERE search_last_name % search_fold($2)",
    }
    async with pool.acquire() as connection:
        await connection.execute("SET enable_seqscan = off")
        try:
            for name, sql in plans.items():
                sql = sql.replace("$2", "'x'").replace("$1::text[]", "ARRAY['x']")
                sql = sql.replace("$1::bigint[]", "ARRAY[1::bigint]")
                plan = "\n".join(r[0] for r in await connection.fetch(f"EXPLAIN {sql}"))
                assert "Index" in plan or "Bitmap" in plan, (name, plan)
        finally:
            await connection.execute("RESET enable_seqscan")
