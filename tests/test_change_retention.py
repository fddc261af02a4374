"""Change events past the retention are pruned a whole transaction at a time, oldest first,
by every applied import file and by `vastfolket changes prune` (run as a user runs it)."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from resolvers.changes import retention
from tests import navet_files as nf
from tests.factories import number
from tests.importing import apply_navet
from tests.running import free_port, fresh_env

AGE = "UPDATE change_event SET applied_at = now() - $2::interval WHERE import_file_id = $1"
LEFT = """
SELECT f.file_name, count(*)
FROM change_event AS e
JOIN import_file AS f ON f.id = e.import_file_id
GROUP BY f.file_name
ORDER BY f.file_name
"""
# The last event of a file: where the horizon stands once the file's events are pruned.
LAST_OF = """
SELECT xid::text::bigint, max(position) FROM change_event WHERE import_file_id = $1 GROUP BY xid
"""
DAYS = dt.timedelta(days=1)


@pytest.fixture
async def events(register: asyncpg.Pool) -> asyncpg.Pool:
    """An empty register whose events were never pruned."""
    await register.execute("UPDATE change_event_horizon SET xid = '0', position = 0")
    return register


async def applied(database_url: str, path: Path, *numbers: str, **options: object) -> int:
    """A notice creating ``numbers`` (an event each), applied; its ledger row."""
    records = [nf.record(post_id, n) for post_id, n in enumerate(numbers, 1)]
    job = int(path.stem) + 10
    file = nf.navet_file(path, records, order_type="ANDRINGSAVISERING", job_id=job)
    outcome = await apply_navet(database_url, file, **options)
    assert outcome.file_id is not None
    return outcome.file_id


async def age(pool: asyncpg.Pool, file_id: int, days: int) -> tuple[int, int]:
    """Make the file's events ``days`` old; the (xid, position) of its last one."""
    await pool.execute(AGE, file_id, dt.timedelta(days=days))
    xid, position = await pool.fetchrow(LAST_OF, file_id)
    return int(xid), int(position)


async def test_old_transactions_go_whole_and_oldest_first_until_a_young_one(
    events: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    first = await applied(database_url, tmp_path / "1.xml", number(), number())
    second = await applied(database_url, tmp_path / "2.xml", number())
    third = await applied(database_url, tmp_path / "3.xml", number())
    last_of_first = await age(events, first, 100)
    await age(events, second, 10)  # young enough: it stops the pruning
    last_of_third = await age(events, third, 100)
    async with events.acquire() as connection:
        pruned = await retention.prune(connection, 90 * DAYS)
        assert pruned == retention.Pruned(2, 1, last_of_first)
        assert await retention.horizon(connection) == last_of_first
        assert [tuple(row) for row in await connection.fetch(LEFT)] == [("2.xml", 1), ("3.xml", 1)]
        assert await retention.prune(connection, 90 * DAYS) == (0, 0, last_of_first)
        await age(events, second, 91)
        assert await retention.prune(connection, 90 * DAYS) == (2, 2, last_of_third)
    assert await events.fetchval("SELECT count(*) FROM change_event") == 0
    assert await retention.horizon(events) == last_of_third


async def test_an_applied_file_prunes_as_it_commits_and_a_dry_run_or_refusal_does_not(
    events: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    last = await age(events, await applied(database_url, tmp_path / "1.xml", number()), 100)
    await applied(database_url, tmp_path / "2.xml", number(), retention=365 * DAYS)  # kept
    dry = nf.navet_file(tmp_path / "dry.xml", [nf.record(1, number())], job_id=30)
    assert (await apply_navet(database_url, dry, dry_run=True)).pruned == 0
    refused = nf.navet_file(tmp_path / "bad.xml", [nf.record(1, number())], count=2, job_id=31)
    with pytest.raises(Exception, match="AntalPoster"):
        await apply_navet(database_url, refused)
    assert [row[0] for row in await events.fetch(LEFT)] == ["1.xml", "2.xml"]
    assert await retention.horizon(events) == (0, 0)

    file = nf.navet_file(tmp_path / "3.xml", [nf.record(1, number())], job_id=32)
    outcome = await apply_navet(database_url, file)  # the default retention: 90 days
    assert outcome.status == "applied" and outcome.pruned == 1
    assert [row[0] for row in await events.fetch(LEFT)] == ["2.xml", "3.xml"]
    assert await retention.horizon(events) == last


def vastfolket_changes(
    database_url: str, *args: str, **settings: str
) -> subprocess.CompletedProcess:
    env = fresh_env(Path("/nonexistent"), DATABASE_URL=database_url, **settings)
    return subprocess.run(
        [sys.executable, "-m", "api", "changes", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_the_prune_command_prunes_past_the_configured_retention(
    events: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    old = await age(events, await applied(database_url, tmp_path / "1.xml", number(), number()), 40)
    await age(events, await applied(database_url, tmp_path / "2.xml", number()), 20)
    result = vastfolket_changes(database_url, "prune", VASTFOLKET_CHANGE_RETENTION_DAYS="30")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Pruned 2 change events of 1 transaction older than 30 days.",
        f"Horizon: xid {old[0]}, position {old[1]} (the last event pruned).",
    ]
    assert [row[0] for row in await events.fetch(LEFT)] == ["2.xml"]
    again = vastfolket_changes(database_url, "prune", VASTFOLKET_CHANGE_RETENTION_DAYS="30")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == "Nothing to prune: no change events older than 30 days."
    assert await retention.horizon(events) == old


def test_the_prune_command_without_a_database_is_exit_code_4() -> None:
    nowhere = f"postgresql://vastfolket@127.0.0.1:{free_port()}/vastfolket"
    result = vastfolket_changes(nowhere, "prune")
    assert result.returncode == 4 and "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: the database cannot be reached: ")
