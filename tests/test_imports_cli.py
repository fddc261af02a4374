"""`vastfolket import`, run as a user runs it: a real process against the test database."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from resolvers.imports.apply import IMPORT_LOCK_KEY
from tests.factories import number
from tests.import_command import write_file
from tests.importing import changes, full_extract, names, record
from tests.running import fresh_env


def vastfolket_import(database_url: str, *args: str | Path) -> subprocess.CompletedProcess:
    env = fresh_env(Path("/nonexistent"), DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "tests.import_command", "import", *map(str, args)],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


async def test_import_applies_files_in_delivery_order_and_once(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    a, b = number(), number()
    first = full_extract(record(a, 1), record(b, 2))
    job = first.delivery.job_id  # type: ignore[union-attr]
    second = changes(record(a, 3, names=names(last="Andra")), job_id=job + 1)
    files = [write_file(tmp_path / "2.xml", second), write_file(tmp_path / "1.xml", first)]
    result = vastfolket_import(database_url, *files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("1.xml") < result.stdout.index("2.xml")
    assert "created" in result.stdout and "applied" in result.stdout
    logged = [line for line in json_lines(result.stderr) if line["message"] == "import applied"]
    assert [line["file"] for line in logged] == ["1.xml", "2.xml"]
    assert logged[0]["counts"]["created"] == 2 and logged[1]["counts"]["changed"] == 1
    assert await register.fetchval("SELECT last_name FROM person WHERE personnummer = $1", a) == (
        "Andra"
    )
    again = vastfolket_import(database_url, *files)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already applied") == 2
    assert await register.fetchval("SELECT count(*) FROM import_file") == 2


async def test_a_malformed_file_is_refused_in_a_line_and_exit_code_1(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    broken = full_extract(*(record(number(), i) for i in range(1, 6)))
    broken.fail_at = 3
    result = vastfolket_import(database_url, write_file(tmp_path / "AV.xml", broken))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("Error: refused, nothing of it was applied: AV.xml: ")
    assert "record 3 (PostId 3): element Personpost/Namn/Efternamn" in error
    assert await register.fetchval("SELECT count(*) FROM person") == 0
    assert await register.fetchval("SELECT status FROM import_file") == "failed"


async def test_a_file_the_reader_refuses_at_once_is_refused_too(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.xml"
    garbage.write_bytes(b"<not navet")
    result = vastfolket_import(database_url, garbage)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("garbage.xml: not a Navetavisering file")
    row = await register.fetchrow("SELECT status, file_name, reason FROM import_file")
    assert tuple(row) == ("failed", "garbage.xml", "garbage.xml: not a Navetavisering file")


async def test_a_dry_run_prints_the_counts_and_changes_nothing(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    file = write_file(tmp_path / "full.xml", full_extract(record(number(), 1)))
    result = vastfolket_import(database_url, "--dry-run", file)
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    assert await register.fetchval("SELECT count(*) FROM person") == 0
    assert await register.fetchval("SELECT count(*) FROM import_file") == 0


async def test_another_import_running_is_exit_code_3(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    file = write_file(tmp_path / "full.xml", full_extract(record(number(), 1)))
    holder = await asyncpg.connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", IMPORT_LOCK_KEY)
            result = vastfolket_import(database_url, file)
    finally:
        await holder.close()
    assert result.returncode == 3
    assert result.stderr.strip().endswith(
        "another import is running; try again later, or use --wait"
    )


@pytest.mark.parametrize("argument", ["missing.xml", "--unknown"])
def test_bad_arguments_are_exit_code_2(database_url: str, argument: str) -> None:
    result = vastfolket_import(database_url, argument)
    assert result.returncode == 2 and "Traceback" not in result.stderr


async def test_on_a_terminal_progress_is_a_bar_not_log_lines(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    file = write_file(tmp_path / "full.xml", full_extract(*(record(number(), i) for i in (1, 2))))
    primary, secondary = pty.openpty()
    env = {**fresh_env(Path("/nonexistent"), DATABASE_URL=database_url), "COLUMNS": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.import_command", "import", str(file)],
        env=env, stdout=secondary, stderr=secondary, close_fds=True,
    )  # fmt: skip
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    text = output.decode()
    assert "━" in text and "2/2" in text  # the bar: records read of AntalPoster
    assert "created" in text and not json_lines(text)
