"""`vastfolket import` takes regular files only: anything else is refused before it is read."""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from tests import navet_files as nf
from tests.test_imports_cli import EXTRACT, vastfolket_import


async def test_a_fifo_is_refused_at_once_with_exit_code_2(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    good = nf.navet_file(tmp_path / "good.xml", [nf.record(1, nf.number())], **EXTRACT)
    fifo = tmp_path / "delivery.xml"
    os.mkfifo(fifo)  # nothing ever writes to it: reading it would wait for ever
    result = vastfolket_import(database_url, good, fifo)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"Error: {fifo}: not a regular file"
    assert await register.fetchval("SELECT count(*) FROM import_file") == 0
