"""Protected persons in deliveries: purged at once, kept protected, and lifted again."""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.imports.records import SEKRETESS, SKYDDAD
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, partial, record, relation
from tests.test_imports import events, person

TRACES = """
SELECT
    (SELECT count(*) FROM address WHERE person_id = $1) AS addresses,
    (SELECT count(*) FROM relation WHERE person_id = $1) AS relations,
    (SELECT count(*) FROM relation WHERE related_personnummer = $2) AS pointing_at
"""
EVENT_COLUMNS = """
SELECT kind, parts, previous_personnummer, recorded_at, post_id
FROM change_event
WHERE personnummer = $1
ORDER BY xid, position
"""


async def assert_purged(pool: asyncpg.Pool, personnummer: str, protection: str) -> None:
    """Only the number, the birth date it tells and the mark: no name, address, relation
    (theirs or anyone's pointing at them), date, key code or property."""
    stored = await person(pool, personnummer)
    assert stored is not None and stored["protection"] == protection
    kept = {"id", "personnummer", "is_coordination_number", "birth_date", "protection",
            "post_id", "updated_at"}  # fmt: skip
    assert stored["has_registered_address"] is False  # nor where they live
    present = {name for name, value in stored.items() if value is not None}
    present -= {"full_extract", "post_order", "has_registered_address"}  # which delivery
    assert present == kept
    traces = await pool.fetchrow(TRACES, stored["id"], personnummer)
    assert dict(traces) == {"addresses": 0, "relations": 0, "pointing_at": 0}


async def test_protection_purges_the_person_and_every_relation_to_them(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, spouse, child = number(), number(), number(dt.date(2012, 1, 1))
    await apply(
        database_url,
        full_extract(
            record(a, 1, relations=(relation("M", spouse), relation("B", child))),
            record(spouse, 2, relations=(relation("M", a),)),
            record(child, 3, names=names("Kim"), relations=(relation("MO", a),)),
        ),
    )
    outcome = await apply(database_url, changes(record(a, 10, protection=SKYDDAD)))
    assert outcome.counts["protected"] == 1
    await assert_purged(register, a, SKYDDAD)
    assert await register.fetchval("SELECT count(*) FROM relation") == 0
    assert [tuple(e) for e in await register.fetch(EVENT_COLUMNS, a)][-1] == (
        "PROTECTED",
        None,
        None,
        None,
        None,
    )
    # The relatives' records are not changed as far as their receivers are told.
    assert [e[1] for e in await events(register) if e[0] != a] == ["CREATED", "CREATED"]


async def test_a_protected_person_new_to_the_register_keeps_only_the_mark(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, unnamed, relative = number(), number(), number()
    await apply(database_url, full_extract(record(relative, 1, relations=(relation("M", a),))))
    await apply(
        database_url,
        changes(record(a, 2, protection=SEKRETESS), record(unnamed, 3, protection=SKYDDAD)),
    )
    await assert_purged(register, a, SEKRETESS)
    await assert_purged(register, unnamed, SKYDDAD)
    # No receiver could hold the one no relation named: an event would only list a
    # protected person. The relative's relation showed the other's number: receivers
    # are told to purge it, and the relative is told nothing.
    assert [e[:2] for e in await events(register)] == [(relative, "CREATED"), (a, "PROTECTED")]


async def test_a_protected_person_stays_protected_on_other_records(
    register: asyncpg.Pool, database_url: str
) -> None:
    """A partial record without the mark, or a protected total one, stores nothing."""
    a = number()
    await apply(database_url, full_extract(record(a, 1, protection=SKYDDAD)))
    outcome = await apply(
        database_url,
        changes(
            partial(a, 2, names=names(last="Syns")),
            record(a, 3, protection=SEKRETESS),
        ),
    )
    assert outcome.counts["unchanged"] == 2
    await assert_purged(register, a, SEKRETESS)
    assert await events(register) == []  # protected when they came: never told


async def test_a_relation_to_a_protected_person_is_never_stored(
    register: asyncpg.Pool, database_url: str
) -> None:
    """Neither when the relative's record comes later in the file (the fast path) nor
    when a relative's record names them afterwards."""
    a, spouse, other = number(), number(), number()
    await apply(
        database_url,
        full_extract(
            record(spouse, 1, relations=(relation("M", a),)),
            record(a, 2, protection=SKYDDAD),
        ),
    )
    await assert_purged(register, a, SKYDDAD)
    await apply(database_url, changes(record(other, 3, relations=(relation("M", a),))))
    await assert_purged(register, a, SKYDDAD)


async def test_lifting_the_protection_restores_the_person_and_their_relatives_rows(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, spouse, child, guardian = number(), number(), number(dt.date(2015, 1, 1)), number()
    await apply(
        database_url,
        full_extract(
            record(a, 1, relations=(relation("M", spouse), relation("B", child))),
            record(spouse, 2, relations=(relation("M", a),)),
            record(child, 3, relations=(relation("MO", a),)),
            record(guardian, 4),
        ),
    )
    await apply(database_url, changes(record(a, 10, protection=SKYDDAD)))
    relations = (relation("M", spouse), relation("B", child), relation("V", guardian))
    outcome = await apply(database_url, changes(record(a, 20, relations=relations)))
    assert outcome.counts["created"] == 1
    stored = await person(register, a)
    assert stored["protection"] is None and stored["last_name"] == "Svensson"
    rows = await register.fetch(
        "SELECT p.personnummer, r.kind FROM relation AS r JOIN person AS p ON p.id = r.person_id"
        " WHERE r.related_personnummer = $1 ORDER BY r.kind",
        a,
    )
    assert [tuple(row) for row in rows] == [(child, "F"), (spouse, "M"), (guardian, "VF")]
    assert await register.fetchval(
        "SELECT count(*) FROM address WHERE person_id = $1", stored["id"]
    )
    tail = (await events(register))[-4:]
    assert tail[0] == (a, "CREATED", None)
    assert sorted(tail[1:]) == sorted(
        (relative, "CHANGED", ["RELATIONS"]) for relative in (spouse, child, guardian)
    )


async def test_a_protected_person_leaving_the_region_goes_without_an_event(
    register: asyncpg.Pool, database_url: str
) -> None:
    from tests.importing import registered

    a = number()
    await apply(database_url, full_extract(record(a, 1, protection=SKYDDAD)))
    # A record that protects keeps them, wherever it registers them (protection wins).
    elsewhere = record(a, 2, protection=SKYDDAD, registration=registered("80", "01"))
    outcome = await apply(database_url, changes(elsewhere))
    assert outcome.counts["unchanged"] == 1
    await assert_purged(register, a, SKYDDAD)
    # A total record lifting the protection, outside the region: they leave, untold.
    gone = record(a, 3, registration=registered("80", "01"))
    outcome = await apply(database_url, changes(gone))
    assert outcome.counts["left"] == 1
    assert await person(register, a) is None
    assert await events(register) == []
