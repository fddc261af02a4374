"""`vastfolket import`, run as a user runs it: a real process reading real Navet files
(tests/navet_files.py) into the test database."""

from __future__ import annotations

import datetime as dt
import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from resolvers.dev.demo.filling import store_key_codes
from resolvers.dev.demo.navet import deliveries
from resolvers.imports.apply import IMPORT_LOCK_KEY
from tests import navet_files as nf
from tests.demo_register import assert_same, expected, stored
from tests.running import free_port, fresh_env

A, B, C = (nf.number(dt.date(1985, 2, 3), serial) for serial in (11, 23, 35))
EXTRACT = {"order_type": "GRUNDUTTAG", "order_id": "SKV000000000009999", "job_id": 1}
NOTICE = {"order_type": "ANDRINGSAVISERING", "order_id": "AVI000000000000001", "job_id": 2}
REFUSED = "Error: refused, nothing of it was applied: "
FAILED = "SELECT file_name, reason FROM import_file WHERE status = 'failed'"
REGISTER = """
SELECT (SELECT array_agg((p.*)::text ORDER BY id) FROM person AS p),
       (SELECT array_agg((a.*)::text ORDER BY person_id, kind) FROM address AS a),
       (SELECT array_agg((r.*)::text ORDER BY person_id, kind, related_personnummer)
        FROM relation AS r),
       (SELECT array_agg((e.*)::text ORDER BY position) FROM change_event AS e)
"""


def vastfolket_import(database_url: str, *args: str | Path) -> subprocess.CompletedProcess:
    env = fresh_env(Path("/nonexistent"), DATABASE_URL=database_url)
    return subprocess.run(
        [sys.executable, "-m", "api", "import", *map(str, args)],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def extract(path: Path, *numbers: str, **delivery: Any) -> Path:
    """A full extract of typical persons, PostIds 1, 2, …"""
    records = [nf.record(post_id, n) for post_id, n in enumerate(numbers, 1)]
    return nf.navet_file(path, records, **{**EXTRACT, **delivery})


def renamed(post_id: int, number: str, last: str) -> str:
    """A change record carrying new names alone."""
    return nf.record(post_id, number, total="N", person=[nf.names(last=last)])


async def test_files_apply_in_delivery_order_and_once(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    # The notice's order id sorts before the extract's, on the extract's own day: the
    # extract still goes first, or the notice would change persons not there yet.
    full = extract(tmp_path / "1.xml", A, B)
    notice = nf.navet_file(tmp_path / "2.xml", [renamed(3, A, "Andra")], **NOTICE)
    result = vastfolket_import(database_url, notice, full)
    assert result.returncode == 0, result.stderr
    assert result.stdout.index("1.xml") < result.stdout.index("2.xml")
    assert "created" in result.stdout and "applied" in result.stdout
    logged = [line for line in json_lines(result.stderr) if line["message"] == "import applied"]
    assert [line["file"] for line in logged] == ["1.xml", "2.xml"]
    assert logged[0]["counts"]["created"] == 2 and logged[1]["counts"]["changed"] == 1
    last_name = "SELECT last_name FROM person WHERE personnummer = $1"
    assert await register.fetchval(last_name, A) == "Andra"
    before = await register.fetchrow(REGISTER)
    again = vastfolket_import(database_url, full, notice)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("already applied") == 2
    assert await register.fetchval("SELECT count(*) FROM import_file") == 2
    assert await register.fetchrow(REGISTER) == before


def bad_xml(path: Path) -> Path:
    """The last record's Efternamn closed as a Fornamn (the file has a record a line)."""
    nf.navet_file(path, [renamed(3, A, "X"), renamed(4, B, "Y")], **NOTICE)
    text = path.read_text(encoding="utf-8")
    at = text.rindex("</Efternamn>")
    path.write_text(text[:at] + "</Fornamn>" + text[at + len("</Efternamn>") :], encoding="utf-8")
    return path


def miscounted(path: Path) -> Path:
    return nf.navet_file(path, [renamed(3, A, "X")], count=2, **NOTICE)


def bad_personnummer(path: Path) -> Path:
    wrong = A[:-1] + str((int(A[-1]) + 1) % 10)  # the check digit one off
    return nf.navet_file(path, [renamed(3, A, "X"), renamed(4, wrong, "Y")], **NOTICE)


def unknown_code(path: Path) -> Path:
    married = nf.record(4, B, total="N", person=[nf.civil_status(code="X")])
    return nf.navet_file(path, [renamed(3, A, "X"), married], **NOTICE)


def duplicate_post_ids(path: Path) -> Path:
    return nf.navet_file(path, [renamed(3, A, "X"), renamed(3, B, "Y")], **NOTICE)


def not_navet(path: Path) -> Path:
    path.write_text('<?xml version="1.0"?>\n<Avisering/>\n', encoding="utf-8")
    return path


MALFORMED = {  # a notice to the register of A and B, and how its refusal begins
    "bad-xml": (
        bad_xml,
        "bad-xml.xml: line 4: not well-formed XML: Opening and ending tag mismatch: Efternamn",
    ),
    "count": (miscounted, "count.xml: Utfil/AntalPoster says 2 records, the file holds 1"),
    "personnummer": (
        bad_personnummer,
        "personnummer.xml: record 2 (PostId 4): Personpost/PersonId/PersonNr: not a "
        "personnummer: the check digit is wrong",
    ),
    "code": (
        unknown_code,
        "code.xml: record 2 (PostId 4): Personpost/Civilstand/CivilstandKod: 'X' is not one "
        "of A EP G OG RP S SP Ä",
    ),
    "duplicate": (duplicate_post_ids, "duplicate.xml: two records have PostId 3"),
    "not-navet": (
        not_navet,
        "not-navet.xml: line 2: not a Navet file: the root element is 'Avisering', not "
        "Navetavisering",
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
async def test_a_malformed_file_changes_nothing_and_says_where_in_a_line(
    register: asyncpg.Pool, database_url: str, tmp_path: Path, case: str
) -> None:
    assert vastfolket_import(database_url, extract(tmp_path / "full.xml", A, B)).returncode == 0
    before = await register.fetchrow(REGISTER)
    write, reason = MALFORMED[case]
    result = vastfolket_import(database_url, write(tmp_path / f"{case}.xml"))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(REFUSED + reason), result.stderr
    assert await register.fetchrow(REGISTER) == before
    failed = await register.fetchrow(FAILED)
    assert failed["file_name"] == f"{case}.xml"  # the reason beside it, the file named or not
    assert failed["reason"].removeprefix(f"{case}.xml: ").startswith(reason.split(": ", 1)[1])


async def test_a_refused_file_stops_the_run_after_the_ones_before(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    full = extract(tmp_path / "full.xml", A, B, effective_date="20240105")
    broken = nf.navet_file(
        tmp_path / "broken.xml", [renamed(3, A, "X"), renamed(3, B, "Y")],
        **{**NOTICE, "effective_date": "20240108"},
    )  # fmt: skip
    later = nf.navet_file(
        tmp_path / "later.xml", [renamed(4, C, "Z")],
        **{**NOTICE, "job_id": 3, "effective_date": "20240109"},
    )  # fmt: skip
    result = vastfolket_import(database_url, later, broken, full)
    assert result.returncode == 1
    assert "full.xml" in result.stdout and "later.xml" not in result.stdout + result.stderr
    statuses = await register.fetch("SELECT file_name, status FROM import_file ORDER BY id")
    assert [tuple(row) for row in statuses] == [("full.xml", "applied"), ("broken.xml", "failed")]


async def test_a_dry_run_prints_the_counts_and_changes_nothing(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    before = await register.fetchrow(REGISTER)
    result = vastfolket_import(database_url, "--dry-run", extract(tmp_path / "full.xml", A, B, C))
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    counts = result.stdout[result.stdout.index("Counts") :].splitlines()
    assert counts[2].split() == ["#", "created"] and counts[4].split() == ["1", "3"], counts
    assert await register.fetchrow(REGISTER) == before
    assert await register.fetchval("SELECT count(*) FROM import_file") == 0


async def test_another_import_running_is_exit_code_3(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    file = extract(tmp_path / "full.xml", A)
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
    assert await register.fetchval("SELECT count(*) FROM person") == 0


def test_a_database_that_cannot_be_reached_is_exit_code_4(tmp_path: Path) -> None:
    nowhere = f"postgresql://vastfolket@127.0.0.1:{free_port()}/vastfolket"
    result = vastfolket_import(nowhere, extract(tmp_path / "full.xml", A))
    assert result.returncode == 4 and "Traceback" not in result.stderr
    assert (
        result.stderr.strip().splitlines()[-1].startswith("Error: the database cannot be reached: ")
    )


@pytest.mark.parametrize("argument", ["missing.xml", "--unknown"])
def test_bad_arguments_are_exit_code_2(database_url: str, argument: str) -> None:
    result = vastfolket_import(database_url, argument)
    assert result.returncode == 2 and "Traceback" not in result.stderr


async def test_the_demo_files_in_reverse_order_give_the_generated_register(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    persons, seed, today = 600, 3, dt.date(2025, 6, 1)
    demo = deliveries(persons, seed, today)
    files = demo.write(tmp_path)
    async with register.acquire() as connection:
        await store_key_codes(connection, demo)
    result = vastfolket_import(database_url, *reversed(files))
    assert result.returncode == 0, result.stderr
    assert_same(await stored(register), expected(persons, seed, today))
    # The summary reads in 80 columns: every file name whole, a row each, in order.
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 80
    rows = [line.split()[1] for line in lines if line.split()[1:2] in ([f.name] for f in files)]
    assert rows == [f.name for f in files]


async def test_on_a_terminal_progress_is_a_bar_not_log_lines(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    file = extract(tmp_path / "full.xml", A, B)
    primary, secondary = pty.openpty()
    env = {**fresh_env(Path("/nonexistent"), DATABASE_URL=database_url), "COLUMNS": "120"}
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "import", str(file)],
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
