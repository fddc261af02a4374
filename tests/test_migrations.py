"""Migrations: applied in order, recorded, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt

import asyncpg

from api.database import ensure_database
from resolvers.audit import access_log, log_search
from resolvers.db import CREATE_MIGRATION_TABLE, RECORD_MIGRATION, migrate, migration_files
from resolvers.domain.access import Tier, Viewer
from resolvers.register import former_numbers, persons
from resolvers.selections.criteria import COUNT_SELECTED, Criteria
from tests import factories
from tests.conftest import _fresh_database
from tests.importing import assert_registered_addresses_kept


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


async def test_name_search_statement_reads_the_trigram_index(pool: asyncpg.Pool) -> None:
    """The statement the API sends, planned generically as the pool plans it: ranking
    must not cost the index (one sequential scan of the register per search)."""
    async with pool.acquire() as connection:
        await connection.execute("SET enable_seqscan = off")
        try:
            for tier in Tier:
                await connection.execute(f"PREPARE search AS {persons.PERSONS_BY_NAME[tier]}")
                explained = await connection.fetch(
                    "EXPLAIN EXECUTE search('Öberg', 'Åsa', 1960, 1990, 'Göteborg', 201, 0, 26)"
                )
                await connection.execute("DEALLOCATE search")
                plan = "\n".join(row[0] for row in explained)
                assert "Bitmap Index Scan on person_search_names_trgm" in plan, (tier, plan)
        finally:
            await connection.execute("RESET enable_seqscan")


async def test_following_a_former_number_probes_each_number_by_its_index(
    pool: asyncpg.Pool,
) -> None:
    """Planned generically, as the pool plans it: the chain's length is unknown to the
    planner, which must still not scan the register to match it. (Sequential scans are
    set aside, as for the search index above: in a register of a few test persons a scan
    is the cheaper plan, and what is held here is that the index can serve.)"""
    async with pool.acquire() as connection:
        await connection.execute("SET plan_cache_mode = force_generic_plan")
        await connection.execute("SET enable_seqscan = off")
        try:
            for tier in Tier:
                sql = former_numbers.CURRENT_NUMBER[tier]
                await connection.execute(f"PREPARE current AS {sql}")
                explained = await connection.fetch("EXPLAIN EXECUTE current('198001010000')")
                await connection.execute("DEALLOCATE current")
                plan = "\n".join(row[0] for row in explained)
                assert "Seq Scan on person" not in plan, (tier, plan)
                assert "former_personnummer_pkey" in plan, (tier, plan)
        finally:
            await connection.execute("RESET plan_cache_mode")
            await connection.execute("RESET enable_seqscan")


async def test_log_entries_written_before_the_arrays_stay_readable_and_searchable(
    server_uri: str,
) -> None:
    """A database whose log kept a row per person is migrated: those rows stay in the
    view with their ids, and auditors find them beside the entries written since."""
    admin = await asyncpg.connect(server_uri)
    await admin.execute("DROP DATABASE IF EXISTS vastfolket_log_upgrade WITH (FORCE)")
    await admin.close()
    url = await ensure_database(server_uri, "vastfolket_log_upgrade")
    connection = await asyncpg.connect(url)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await connection.execute(CREATE_MIGRATION_TABLE)
        for version, sql in migration_files()[:2]:  # the register and the first log
            await connection.execute(sql)
            await connection.execute(RECORD_MIGRATION, version)
        old = await connection.fetchval(
            "INSERT INTO access_request (subject, tier, root_fields, request_id) "
            "VALUES ('before', 'BASIC', 'person', 'r-before') RETURNING id"
        )
        await connection.execute(
            "INSERT INTO access_person (request, kind, personnummer, source) "
            "VALUES ($1, 'SEEN', '198005172382', 'LOCAL'), ($1, 'PROTECTED', '199001010017', NULL)",
            old,
        )
        assert len(await migrate(connection)) == len(migration_files()) - 2

        viewer = Viewer("after", Tier.BASIC)
        record = access_log.AccessRecord()
        record.saw_number("198005172382")
        origin = access_log.Origin(viewer, None, "person", "r-after", None)
        await access_log.write(pool, [(origin, record)], timeout=5)

        rows = await connection.fetch(
            "SELECT request_id, kind, personnummer FROM access_log ORDER BY request, id"
        )
        assert [tuple(row) for row in rows] == [
            ("r-before", "SEEN", "198005172382"),
            ("r-before", "PROTECTED", "199001010017"),
            ("r-after", "SEEN", "198005172382"),
        ]
        newest = (2**63 - 1, 2**63 - 1)
        found, more = await log_search.search(
            pool, log_search.LogSearch(personnummer="198005172382"), newest, 10
        )
        assert [(entry.request_id, entry.kind) for entry in found] == [
            ("r-after", "SEEN"),
            ("r-before", "SEEN"),
        ]
        assert not more
        found, _ = await log_search.search(pool, log_search.LogSearch(subject="before"), newest, 1)
        assert [(entry.kind, entry.personnummer) for entry in found] == [
            ("PROTECTED", "199001010017")
        ]
    finally:
        await pool.close()
        await connection.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute("DROP DATABASE vastfolket_log_upgrade WITH (FORCE)")
        await admin.close()


async def test_a_new_database_orders_text_by_code_point(server_uri: str) -> None:
    """The register's collation: code-point order (Swedish letters after z, as the
    server's C.UTF-8 gives it) and Unicode case mapping, from PostgreSQL's own provider."""
    url = await _fresh_database(server_uri, "vastfolket_collation")
    connection = await asyncpg.connect(url)
    try:
        ordered = await connection.fetchval(
            "SELECT string_agg(x, '' ORDER BY x) FROM unnest(ARRAY['Ö', 'å', 'Å', 'z', 'Z']) x"
        )
        assert ordered == "ZzÅÖå"
        assert await connection.fetchval("SELECT lower('ÅÄÖ É') = 'åäö é'")
        if int(await connection.fetchval("SHOW server_version_num")) >= 170000:
            provider = await connection.fetchval(
                "SELECT datlocprovider FROM pg_database WHERE datname = current_database()"
            )
            assert provider == b"b"  # "char": bytes
    finally:
        await connection.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute("DROP DATABASE vastfolket_collation WITH (FORCE)")
        await admin.close()


async def test_the_registered_address_is_copied_onto_the_persons_already_there(
    server_uri: str,
) -> None:
    """A register filled before migration 0017: each person's row gets what their
    folkbokföringsadress says, and a selection then counts whom the join counted."""
    admin = await asyncpg.connect(server_uri)
    await admin.execute("DROP DATABASE IF EXISTS vastfolket_registered_upgrade WITH (FORCE)")
    await admin.close()
    url = await ensure_database(server_uri, "vastfolket_registered_upgrade")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(CREATE_MIGRATION_TABLE)
        before = [m for m in migration_files() if m[0] < "0017"]
        for version, sql in before:
            await connection.execute(sql)
            await connection.execute(RECORD_MIGRATION, version)
        addresses = {
            "göteborg": [("F", "41263", "GÖTEBORG", "14", "80"), ("S", "41101", "BOX", None, None)],
            "uncoded": [("F", "43130", "Mölndal", None, None)],
            "special": [("S", "50330", "BORÅS", None, None)],
            "none": [],
        }
        numbers = {}
        for name, rows in addresses.items():
            numbers[name] = factories.number()
            await connection.execute(
                factories.INSERT_PERSON, numbers[name], dt.date(1980, 5, 17), "Anna", None,
                None, "Ek", None, None, None, None, None, None, None,
            )  # fmt: skip
            person_id = await connection.fetchval(factories.PERSON_ID, numbers[name])
            for kind, code, town, county, municipality in rows:
                await connection.execute(
                    factories.INSERT_ADDRESS, person_id, kind, None, None, None, None, code,
                    town, county, municipality, None,
                )  # fmt: skip
        assert await migrate(connection) == [
            version for version, _ in migration_files() if version >= "0017"
        ]
        await assert_registered_addresses_kept(connection)
        rows = await connection.fetch(
            "SELECT personnummer, has_registered_address, registered_municipality, "
            "registered_postal_code, registered_town_folded FROM person"
        )
        assert {tuple(row) for row in rows} == {
            (numbers["göteborg"], True, "1480", "41263", "goteborg"),
            (numbers["uncoded"], True, None, "43130", "molndal"),
            (numbers["special"], False, None, None, None),
            (numbers["none"], False, None, None, None),
        }
        count = await connection.fetchval(COUNT_SELECTED, *Criteria().parameters())
        assert count == 2
    finally:
        await connection.close()
        admin = await asyncpg.connect(server_uri)
        await admin.execute("DROP DATABASE vastfolket_registered_upgrade WITH (FORCE)")
        await admin.close()
