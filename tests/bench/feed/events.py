"""The feed benchmark's database: the demo register and N change events about its persons.

A database of its own (``vastfolket_feed``, or ``vastfolket_feed_N`` for a register of
another size) on the benchmark's embedded PostgreSQL, so the main benchmark's stays as
it was. The register is imported through the demo's Navet files as the main benchmark
does (which also empties ``change_event``); the events are then written set-based, a few
transactions of one ``INSERT … SELECT`` each, so the feed reads several transactions'
ids as after real imports. A database that already holds the events asked for is reused.
"""

from __future__ import annotations

import time

import asyncpg
from rich.console import Console

from api.database import ensure_database
from resolvers.db import migrate
from tests.bench.database import BenchDatabase

DATABASE_NAME = "vastfolket_feed"
DEFAULT_PERSONS = 300_000

# Who the events are about: every person but samordningsnummer holders and protected
# persons (whose events the feed does not list), numbered, with the municipality they
# are registered in.
PERSONS = """
CREATE TEMPORARY TABLE feed_person ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY p.id) AS n, p.personnummer,
       a.county_code || a.municipality_code AS municipality
FROM person AS p
LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE NOT p.is_coordination_number
  AND p.protection IS NULL
"""
PERSONS_KEY = "ALTER TABLE feed_person ADD PRIMARY KEY (n)"

# Events $1..$2 of one transaction; $3 the persons. A mix like a year of Navet's
# deliveries: of every 100 events 85 CHANGED (six sets of parts, taking turns), 6
# CREATED, 3 DEREGISTERED, 3 LEFT, 2 NUMBER_CHANGED, 1 PROTECTED. Event i is about
# person (i × 7919) mod N, so a page holds many persons, and a person many events.
EVENTS = """
INSERT INTO change_event (
    personnummer, kind, parts, previous_personnummer, recorded_at, post_id,
    municipality_before
)
SELECT p.personnummer, k.kind,
       CASE WHEN k.kind = 'CHANGED' THEN CASE (g.i / 100) % 6
           WHEN 0 THEN ARRAY['ADDRESSES', 'REGISTRATION']
           WHEN 1 THEN ARRAY['NAMES']
           WHEN 2 THEN ARRAY['CIVIL_STATUS']
           WHEN 3 THEN ARRAY['RELATIONS']
           WHEN 4 THEN ARRAY['ADDRESSES']
           ELSE ARRAY['REGISTRATION', 'KEY_CODE'] END END,
       CASE WHEN k.kind = 'NUMBER_CHANGED'
           THEN left(p.personnummer, 8) || lpad(((g.i * 31) % 10000)::text, 4, '0') END,
       CASE WHEN k.kind <> 'PROTECTED'
           THEN TIMESTAMP '2026-01-01 06:00' + (g.i % 28000000) * INTERVAL '1 second' END,
       CASE WHEN k.kind <> 'PROTECTED' THEN g.i END,
       CASE WHEN k.kind IN ('LEFT', 'PROTECTED') OR (g.i / 100) % 6 IN (0, 5)
           THEN p.municipality END
FROM generate_series($1::bigint, $2::bigint) AS g (i)
CROSS JOIN LATERAL (SELECT CASE
    WHEN g.i % 100 < 85 THEN 'CHANGED'
    WHEN g.i % 100 < 91 THEN 'CREATED'
    WHEN g.i % 100 < 94 THEN 'DEREGISTERED'
    WHEN g.i % 100 < 97 THEN 'LEFT'
    WHEN g.i % 100 < 99 THEN 'NUMBER_CHANGED'
    ELSE 'PROTECTED' END AS kind) AS k
JOIN feed_person AS p ON p.n = (g.i * 7919) % $3 + 1
"""

# What the feed lists: its count and transactions.
HELD = """
SELECT count(*) AS events, count(DISTINCT xid) AS transactions
FROM visible_change_event
"""
EMPTY_EVENTS = "TRUNCATE change_event, change_event_horizon; INSERT INTO change_event_horizon (xid, position) VALUES ('0', 0)"  # noqa: E501


def database_name(persons: int) -> str:
    return DATABASE_NAME if persons == DEFAULT_PERSONS else f"{DATABASE_NAME}_{persons}"


class FeedDatabase(BenchDatabase):
    """The main benchmark's server, with the feed's own database on it."""

    async def prepare_feed(
        self, persons: int, events: int, transactions: int, console: Console
    ) -> None:
        """Migrate, import the register if its size differs, write the events if they
        differ. The access log only grows (it is append-only): a run notes its size."""
        await self._preload_statistics(console)
        self.name = database_name(persons)
        self.url = await ensure_database(self.server.get_uri(), self.name)
        connection = await asyncpg.connect(self.url)
        try:
            await migrate(connection)
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            have = int(await connection.fetchval("SELECT count(*) FROM person"))
            if have != persons:
                await self._import(persons, have, console)
            held = tuple(await connection.fetchrow(HELD))
            if held != (events, len(batches(events, transactions))):
                await write_events(connection, events, transactions, console)
        finally:
            await connection.close()


def batches(events: int, transactions: int) -> list[tuple[int, int]]:
    """The first and last event of each transaction."""
    per = -(-events // transactions)
    return [(first, min(first + per - 1, events)) for first in range(1, events + 1, per)]


async def write_events(
    connection: asyncpg.Connection, events: int, transactions: int, console: Console
) -> None:
    """``events`` events in ``transactions`` transactions, replacing those there."""
    console.print(f"Writing {events:,} change events in {transactions} transactions…")
    started = time.monotonic()
    await connection.execute(EMPTY_EVENTS)
    for first, last in batches(events, transactions):
        async with connection.transaction():
            await connection.execute(PERSONS)
            await connection.execute(PERSONS_KEY)
            count = int(await connection.fetchval("SELECT count(*) FROM feed_person"))
            await connection.execute(EVENTS, first, last, count)
    await connection.execute("VACUUM (ANALYZE) change_event")
    console.print(f"Wrote the events in {time.monotonic() - started:.0f} s.")
