"""Safe to run any day: the same file twice, a file in another's place, malformed files,
a dry run, one import at a time, and lookups answering throughout."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import asyncpg
import pytest

from resolvers.imports.apply import IMPORT_LOCK_KEY, apply_file
from resolvers.imports.source import ImportBusy, ImportRefused, Options
from tests.bench.synthetic import personnummer
from tests.factories import number
from tests.importing import (
    RecordsFile,
    apply,
    changes,
    delivery,
    full_extract,
    names,
    record,
)

STATE = """
SELECT
    (SELECT count(*) FROM person) AS persons,
    (SELECT string_agg(last_name, ',' ORDER BY personnummer) FROM person) AS names,
    (SELECT count(*) FROM address) AS addresses,
    (SELECT count(*) FROM change_event) AS events,
    (SELECT count(*) FROM pg_indexes WHERE tablename IN ('person', 'address', 'relation'))
        AS indexes
"""
LEDGER = "SELECT status, reason, records FROM import_file ORDER BY id"


async def state(pool: asyncpg.Pool) -> dict:
    return dict(await pool.fetchrow(STATE))


async def test_the_same_file_twice_changes_nothing(
    register: asyncpg.Pool, database_url: str
) -> None:
    source = full_extract(record(number(), 1), record(number(), 2))
    first = await apply(database_url, source)
    before = await state(register)
    again = await apply(database_url, source)
    assert again.status == "already applied" and again.file_id == first.file_id
    assert await state(register) == before
    assert [row["status"] for row in await register.fetch(LEDGER)] == ["applied"]


class Unread(RecordsFile):
    def records(self):  # type: ignore[no-untyped-def]
        raise AssertionError("an applied file known by its sha256 is not read again")


async def test_a_file_known_by_its_sha256_is_not_read_again(
    register: asyncpg.Pool, database_url: str
) -> None:
    source = changes(record(number(), 1))
    first = await apply(database_url, source)
    sha256 = await register.fetchval("SELECT sha256 FROM import_file WHERE id = $1", first.file_id)
    unread = Unread(source.items, source.delivery)
    again = await apply(database_url, unread, sha256_hint=sha256)
    assert again.status == "already applied"


async def test_another_file_in_an_applied_files_place_is_refused(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    source = changes(record(a, 1))
    await apply(database_url, source)
    impostor = RecordsFile([record(a, 2, names=names(last="Annan"))], source.delivery)
    before = await state(register)
    with pytest.raises(ImportRefused, match="was applied from another file"):
        await apply(database_url, impostor)
    assert await state(register) == before
    assert [row["status"] for row in await register.fetch(LEDGER)] == ["applied", "failed"]


async def test_two_records_with_one_post_id_refuse_the_file(
    register: asyncpg.Pool, database_url: str
) -> None:
    for source in (  # both paths: rounds, and the fast path into an empty register
        changes(record(number(), 7), record(number(), 7)),
        full_extract(record(number(), 7), record(number(), 7)),
    ):
        before = await state(register)
        with pytest.raises(ImportRefused, match="two records have PostId 7"):
            await apply(database_url, source)
        assert await state(register) == before


@pytest.mark.parametrize("at", ["record 3", "the end"])
@pytest.mark.parametrize("kind", ["full extract", "change notice"])
async def test_a_malformed_file_leaves_register_and_events_as_they_were(
    register: asyncpg.Pool, database_url: str, at: str, kind: str
) -> None:
    if kind == "change notice":
        await apply(database_url, full_extract(record(number(), 1)))
    items = [record(number(), post_id) for post_id in range(10, 15)]
    make = full_extract if kind == "full extract" else changes
    source = make(*items)
    source = replace(source, fail_at=3) if at == "record 3" else replace(source, fail_at_end=True)
    before = await state(register)
    with pytest.raises(ImportRefused) as refused:
        await apply(database_url, source)
    assert await state(register) == before
    message = str(refused.value)
    assert message.startswith("avisering.xml: ")
    if at == "record 3":
        assert "record 3 (PostId 12): element Personpost/Namn/Efternamn" in message
    ledger = await register.fetch(LEDGER)
    assert ledger[-1]["status"] == "failed" and ledger[-1]["reason"] == refused.value.reason
    assert ledger[-1]["records"] == (2 if at == "record 3" else 5)


async def test_a_file_whose_count_does_not_match_is_refused(
    register: asyncpg.Pool, database_url: str
) -> None:
    source = RecordsFile([record(number(), 1)], delivery(records=2))
    with pytest.raises(ImportRefused, match="AntalPoster says 2 records, the file has 1"):
        await apply(database_url, source)
    assert (await state(register))["persons"] == 0


async def test_a_total_record_without_names_is_refused(
    register: asyncpg.Pool, database_url: str
) -> None:
    with pytest.raises(ImportRefused, match="PostId 4: a total record without Namn"):
        await apply(database_url, changes(record(number(), 3), record(number(), 4, names=None)))
    assert (await state(register))["persons"] == 0


async def test_a_dry_run_counts_and_changes_nothing(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    before = await state(register)
    outcome = await apply(
        database_url, changes(record(a, 2, names=names(last="Ny")), record(number(), 3)),
        dry_run=True,
    )  # fmt: skip
    assert outcome.status == "dry run"
    assert (outcome.counts["changed"], outcome.counts["created"]) == (1, 1)
    assert await state(register) == before
    assert len(await register.fetch(LEDGER)) == 1


async def test_one_import_at_a_time(register: asyncpg.Pool, database_url: str) -> None:
    holder = await asyncpg.connect(database_url)
    try:
        lock = holder.transaction()
        await lock.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", IMPORT_LOCK_KEY)
        with pytest.raises(ImportBusy, match="another import is running"):
            await apply(database_url, changes(record(number(), 1)))
        waiting = asyncio.create_task(apply(database_url, changes(record(number(), 2)), wait=True))
        await asyncio.sleep(0.5)
        assert not waiting.done()
        await lock.rollback()
        assert (await asyncio.wait_for(waiting, 30)).status == "applied"
    finally:
        await holder.close()
    assert [row["status"] for row in await register.fetch(LEDGER)] == ["applied"]


async def test_lookups_answer_during_an_import_and_see_it_whole(
    register: asyncpg.Pool, database_url: str
) -> None:
    """A reader on a second connection, while a change notice of 5000 records applies,
    gets its answers in time and sees either none of the file or all of it."""
    people = [personnummer(i) for i in range(5000)]
    await apply(database_url, full_extract(*(record(p, i) for i, p in enumerate(people, 1))))
    renamed = changes(
        *(record(p, 10_000 + i, names=names(last="Ny")) for i, p in enumerate(people))
    )
    reader = await asyncpg.connect(database_url)
    seen: list[int] = []
    slowest = 0.0
    try:
        importing = asyncio.create_task(apply(database_url, renamed))
        loop = asyncio.get_running_loop()
        while not importing.done():
            started = loop.time()
            seen.append(
                await reader.fetchval(
                    "SELECT count(*) FROM visible_person WHERE last_name = 'Ny'"
                    " AND personnummer = ANY($1::text[])",
                    people,
                )
            )
            slowest = max(slowest, loop.time() - started)
            await asyncio.sleep(0.01)
        assert (await importing).counts["changed"] == 5000
        after = await reader.fetchval("SELECT count(*) FROM visible_person WHERE last_name = 'Ny'")
    finally:
        await reader.close()
    assert len(seen) >= 5, "the reader should have answered many times meanwhile"
    assert seen[0] == 0 and set(seen) <= {0, 5000} and after == 5000
    assert slowest < 2.0


async def test_apply_file_takes_a_source_as_the_reader_gives_it(
    register: asyncpg.Pool, database_url: str
) -> None:
    """``apply_file`` on a caller's connection, with the source's own name."""
    connection = await asyncpg.connect(database_url)
    try:
        source = changes(record(number(), 1))
        outcome = await apply_file(connection, source, "AV.20260302.xml", Options())
        assert outcome.status == "applied" and outcome.records == 1
    finally:
        await connection.close()
    assert await register.fetchval("SELECT file_name FROM import_file") == "AV.20260302.xml"
