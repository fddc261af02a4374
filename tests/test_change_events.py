"""The change events' order: a reader following (xid, position) never skips a late commit."""

from __future__ import annotations

import asyncpg

from resolvers.changes.events import BEGINNING, events_after
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, record

INSERT_EVENT = "INSERT INTO change_event (personnummer, kind) VALUES ($1, 'CREATED')"


async def read_all(pool: asyncpg.Pool, after: tuple[int, int]) -> tuple[list[str], tuple]:
    """Every event readable now after ``after``, a page of two at a time."""
    numbers: list[str] = []
    while page := await events_after(pool, after, limit=2):
        numbers += [event.personnummer for event in page]
        after = page[-1].cursor
    return numbers, after


async def test_a_transaction_that_took_its_xid_first_and_commits_last_is_not_skipped(
    register: asyncpg.Pool, database_url: str
) -> None:
    early, late = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    first, second, third = number(), number(), number()
    try:
        slow = early.transaction()
        await slow.start()
        await early.execute(INSERT_EVENT, first)  # takes its xid (and position) first
        fast = late.transaction()
        await fast.start()
        await late.execute(INSERT_EVENT, second)
        await late.execute(INSERT_EVENT, third)
        await fast.commit()  # commits first

        seen, cursor = await read_all(register, BEGINNING)
        assert seen == []  # held back by the open older transaction, not skipped over
        await slow.commit()
        later, cursor = await read_all(register, cursor)
        assert later == [first, second, third]
        assert (await read_all(register, cursor))[0] == []  # once each
    finally:
        await early.close()
        await late.close()
    rows = await register.fetch("SELECT xid::text::bigint AS xid, position FROM change_event")
    assert sorted((r["xid"], r["position"]) for r in rows) == [
        (e.xid, e.position) for e in await events_after(register)
    ]


async def test_a_files_events_follow_its_records(register: asyncpg.Pool, database_url: str) -> None:
    a, b = number(), number()
    await apply(database_url, full_extract(record(a, 1), record(b, 2)))
    await apply(
        database_url,
        changes(record(b, 3, names=names(last="B")), record(a, 4, names=names(last="A"))),
    )
    read = await events_after(register)
    assert [(e.personnummer, e.kind, e.post_id) for e in read] == [
        (a, "CREATED", 1),
        (b, "CREATED", 2),
        (b, "CHANGED", 3),
        (a, "CHANGED", 4),
    ]
    assert read[2].parts == ["NAMES"] and read[0].xid < read[2].xid
