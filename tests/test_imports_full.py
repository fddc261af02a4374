"""Full extracts: who leaves when a delivery is complete, and the fast path's corners."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from resolvers.imports import pipeline
from resolvers.imports.records import SKYDDAD
from tests.factories import number
from tests.importing import (
    apply,
    changes,
    full_extract,
    names,
    partial,
    record,
    registered,
    relation,
)
from tests.test_imports import events, person

INDEXES = "SELECT count(*) FROM pg_indexes WHERE tablename IN ('person', 'address', 'relation')"
KEYS = "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'address'::regclass"


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of two records, so that one file's records fall in different chunks."""
    monkeypatch.setattr(pipeline, "CHUNK_SIZE", 2)


async def test_a_complete_full_extract_lets_those_it_did_not_carry_leave(
    register: asyncpg.Pool, database_url: str
) -> None:
    stays, goes, hidden = number(), number(), number()
    await apply(
        database_url,
        full_extract(record(stays, 1), record(goes, 2), record(hidden, 3, protection=SKYDDAD)),
    )
    outcome = await apply(database_url, full_extract(record(stays, 10)))
    assert outcome.counts["left"] == 2 and outcome.counts["unchanged"] == 1
    assert await person(register, goes) is None and await person(register, hidden) is None
    # A protected person was told neither when they came nor when they leave.
    assert await events(register) == [
        (stays, "CREATED", None), (goes, "CREATED", None), (goes, "LEFT", None),
    ]  # fmt: skip


async def test_nobody_leaves_before_every_file_of_the_delivery_is_applied(
    register: asyncpg.Pool, database_url: str
) -> None:
    first, second, old, newborn = number(), number(), number(), number(dt.date(2026, 3, 1))
    await apply(database_url, full_extract(record(first, 1), record(second, 2), record(old, 3)))
    part1 = full_extract(record(first, 10), files_in_delivery=2, file_no=1)
    job = part1.delivery.job_id  # type: ignore[union-attr]
    outcome = await apply(database_url, part1)
    assert outcome.counts["left"] == 0
    # A change notice between the two files: the person it brings is not "uncarried".
    await apply(database_url, changes(record(newborn, 15, names=names("Liten"))))
    part2 = full_extract(record(second, 11), files_in_delivery=2, file_no=2, job_id=job)
    outcome = await apply(database_url, part2)
    assert outcome.counts["left"] == 1
    assert await person(register, old) is None
    for kept in (first, second, newborn):
        assert await person(register, kept) is not None


async def test_a_change_notice_applied_as_full_is_a_full_extract(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, b = number(), number()
    await apply(database_url, full_extract(record(a, 1), record(b, 2)))
    outcome = await apply(database_url, changes(record(a, 3)), full=True)
    assert outcome.kind == "FULL" and outcome.counts["left"] == 1


async def test_the_fast_path_puts_indexes_and_keys_back(
    register: asyncpg.Pool, database_url: str, small_chunks: None
) -> None:
    indexes, keys = await register.fetchval(INDEXES), await register.fetchval(KEYS)
    await apply(database_url, full_extract(*(record(number(), i) for i in range(1, 8))))
    assert await register.fetchval(INDEXES) == indexes and await register.fetchval(KEYS) == keys
    assert await register.fetchval("SELECT count(*) FROM person") == 7


async def test_in_the_fast_path_a_persons_latest_record_decides(
    register: asyncpg.Pool, database_url: str, small_chunks: None
) -> None:
    a, b, c = number(), number(), number()
    source = full_extract(
        record(a, 5, names=names(last="Senare")),
        record(b, 2),
        record(a, 1, names=names(last="Tidigare")),  # earlier PostId, later in the file
        record(c, 3),
        record(c, 4, protection=SKYDDAD),
    )
    outcome = await apply(database_url, source)
    assert (outcome.counts["created"], outcome.counts["protected"]) == (2, 1)
    assert outcome.counts["unchanged"] == 2
    assert (await person(register, a))["last_name"] == "Senare"
    assert (await person(register, c))["protection"] == SKYDDAD
    assert await register.fetchval("SELECT count(*) FROM address") == 2
    # A protected person new to the register is told nothing: the feed would list them.
    assert sorted(await events(register)) == sorted([(a, "CREATED", None), (b, "CREATED", None)])


async def test_in_the_fast_path_a_relative_protected_in_a_later_chunk_is_not_named(
    register: asyncpg.Pool, database_url: str, small_chunks: None
) -> None:
    a, b, hidden = number(), number(), number()
    source = full_extract(
        record(a, 1, relations=(relation("M", hidden),)),
        record(b, 2, relations=(relation("B", hidden),)),
        record(hidden, 3, protection=SKYDDAD),
    )
    await apply(database_url, source)
    assert await register.fetchval("SELECT count(*) FROM relation") == 0


async def test_the_fast_path_skips_persons_outside_the_region_and_moves_numbers(
    register: asyncpg.Pool, database_url: str, small_chunks: None
) -> None:
    inside, outside, old, new = number(), number(), number(), number()
    source = full_extract(
        record(inside, 1),
        record(outside, 2, registration=registered("80", "01")),
        record(new, 3),
        partial(old, 4, new_personnummer=new),
    )
    outcome = await apply(database_url, source)
    assert outcome.counts["created"] == 2 and outcome.counts["skipped"] == 2
    assert await person(register, outside) is None
    assert (
        await register.fetchval(
            "SELECT current_personnummer FROM former_personnummer WHERE personnummer = $1", old
        )
        == new
    )


async def test_in_the_fast_path_events_follow_the_post_id_order(
    register: asyncpg.Pool, database_url: str, small_chunks: None
) -> None:
    """A person with several records is told of where their latest record stands."""
    a, b, c, d = number(), number(), number(), number()
    source = full_extract(
        record(a, 1),
        record(b, 2),
        record(a, 3, protection=SKYDDAD),
        record(c, 4),
        record(d, 5, registration=registered("80", "01")),
        record(d, 6),
    )
    await apply(database_url, source)
    rows = await register.fetch(
        "SELECT personnummer, kind, post_id FROM change_event ORDER BY xid, position"
    )
    # a ends the file protected: new to the register, told nothing.
    assert [tuple(row) for row in rows] == [(b, "CREATED", 2), (c, "CREATED", 4), (d, "CREATED", 6)]


async def test_a_later_file_of_the_delivery_applies_to_persons_an_earlier_one_wrote(
    register: asyncpg.Pool, database_url: str
) -> None:
    """Its records for them are compared, as in a filled register: a protection in the
    second file is not lost to the first file's record."""
    a, b, c = number(), number(), number()
    part1 = full_extract(record(a, 1), record(b, 2), files_in_delivery=2, file_no=1)
    job = part1.delivery.job_id  # type: ignore[union-attr]
    await apply(database_url, part1)
    part2 = full_extract(
        record(a, 3, protection=SKYDDAD),
        record(b, 4, names=names(last="Andra")),
        record(c, 5),
        files_in_delivery=2, file_no=2, job_id=job,
    )  # fmt: skip
    outcome = await apply(database_url, part2)
    counted = {name: value for name, value in outcome.counts.items() if value}
    assert counted == {"created": 1, "protected": 1, "changed": 1}
    assert (await person(register, a))["protection"] == SKYDDAD
    assert (await person(register, b))["last_name"] == "Andra"
    assert (await events(register))[2:] == [
        (c, "CREATED", None), (a, "PROTECTED", None), (b, "CHANGED", ["NAMES"]),
    ]  # fmt: skip


async def test_in_the_fast_path_a_protected_person_is_kept_wherever_registered(
    register: asyncpg.Pool, database_url: str
) -> None:
    relative, hidden = number(), number()
    source = full_extract(
        record(relative, 1, relations=(relation("M", hidden),)),
        record(hidden, 2, protection=SKYDDAD, registration=registered("80", "01")),
    )
    outcome = await apply(database_url, source)
    assert (outcome.counts["protected"], outcome.counts["skipped"]) == (1, 0)
    assert (await person(register, hidden))["protection"] == SKYDDAD
    assert await register.fetchval("SELECT count(*) FROM relation") == 0
