"""`vastfolket import` takes regular files only: anything else is refused before it is read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.factories import number
from tests.import_command import write_file
from tests.importing import full_extract, record
from tests.running import fresh_env


async def test_a_fifo_is_refused_at_once_with_exit_code_2(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    good = write_file(tmp_path / "good.xml", full_extract(record(number(), 1)))
    fifo = tmp_path / "delivery.xml"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "tests.import_command", "import", str(good), str(fifo)],
        env=fresh_env(Path("/nonexistent"), DATABASE_URL=database_url),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"Error: {fifo}: not a regular file"
    assert await register.fetchval("SELECT count(*) FROM import_file") == 0
