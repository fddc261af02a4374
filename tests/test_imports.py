"""Applying deliveries: full extracts, change notices, total and partial records, stale
records, deregistration and leaving the region (docs/imports.md)."""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.imports.records import CivilStatus, Registration
from resolvers.register.rows import AddressRow
from tests.factories import number
from tests.importing import (
    apply,
    changes,
    deregistered,
    full_extract,
    home,
    names,
    partial,
    record,
    registered,
    relation,
)


async def person(pool: asyncpg.Pool, personnummer: str) -> asyncpg.Record | None:
    return await pool.fetchrow("SELECT * FROM person WHERE personnummer = $1", personnummer)


async def events(pool: asyncpg.Pool) -> list[tuple]:
    rows = await pool.fetch(
        "SELECT personnummer, kind, parts FROM change_event ORDER BY xid, position"
    )
    return [tuple(row) for row in rows]


async def test_a_full_extract_fills_an_empty_register(
    register: asyncpg.Pool, database_url: str
) -> None:
    mother, child = number(dt.date(1980, 1, 1)), number(dt.date(2015, 6, 1))
    source = full_extract(
        record(mother, 1, relations=(relation("B", child),)),
        record(child, 2, names=names("Lisa"), relations=(relation("MO", mother),)),
    )
    outcome = await apply(database_url, source)
    assert outcome.status == "applied"
    assert outcome.counts["created"] == 2
    stored = await person(register, child)
    assert stored is not None and stored["first_names"] == "Lisa"
    assert stored["birth_date"] == dt.date(2015, 6, 1)
    assert await register.fetchval("SELECT count(*) FROM address") == 2
    assert await register.fetchval("SELECT count(*) FROM relation") == 2
    assert await events(register) == [(mother, "CREATED", None), (child, "CREATED", None)]


async def test_a_change_notice_changes_only_what_changed(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, b = number(), number()
    await apply(database_url, full_extract(record(a, 1), record(b, 2)))
    source = changes(
        record(a, 10, names=names(last="Berg")),
        record(b, 11),
    )
    outcome = await apply(database_url, source)
    assert outcome.counts["changed"] == 1 and outcome.counts["unchanged"] == 1
    assert (await person(register, a))["last_name"] == "Berg"
    assert (await events(register))[-1] == (a, "CHANGED", ["NAMES"])


async def test_a_partial_record_changes_only_the_parts_it_carries(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, addresses=(home("Lilla gatan 2"),))))
    stored = await person(register, a)
    assert stored["last_name"] == "Svensson" and stored["civil_status"] == "OG"
    line = await register.fetchval("SELECT line2 FROM address WHERE person_id = $1", stored["id"])
    assert line == "Lilla gatan 2"
    assert (await events(register))[-1] == (a, "CHANGED", ["ADDRESSES"])


async def test_deregistration_keeps_the_person(register: asyncpg.Pool, database_url: str) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, deregistration=deregistered())))
    stored = await person(register, a)
    assert stored["deregistration_code"] == "AV"
    assert (await events(register))[-1] == (a, "DEREGISTERED", None)


async def test_leaving_the_region_deletes_the_person(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    await apply(database_url, changes(partial(a, 5, registration=registered("80", "01"))))
    assert await person(register, a) is None
    assert await register.fetchval("SELECT count(*) FROM address") == 0
    assert (await events(register))[-1] == (a, "LEFT", None)


async def test_a_total_record_replaces_the_whole_person(
    register: asyncpg.Pool, database_url: str
) -> None:
    """Parts a total record lacks become empty: here the civil status and the relations."""
    a, spouse = number(), number()
    await apply(database_url, full_extract(record(a, 1, relations=(relation("M", spouse),))))
    await apply(database_url, changes(record(a, 5, civil_status=None, relations=())))
    stored = await person(register, a)
    assert stored["civil_status"] is None and stored["civil_status_date"] is None
    relations = await register.fetchval("SELECT count(*) FROM relation")
    assert relations == 0
    assert (await events(register))[-1] == (a, "CHANGED", ["CIVIL_STATUS", "RELATIONS"])


async def test_a_partial_record_for_someone_new_needs_names(
    register: asyncpg.Pool, database_url: str
) -> None:
    named, nameless = number(), number()
    outcome = await apply(
        database_url,
        changes(
            partial(named, 1, names=names("Ove", "Lind")),
            partial(nameless, 2, addresses=(home(),)),
        ),
    )
    assert outcome.counts["created"] == 1 and outcome.counts["skipped"] == 1
    stored = await person(register, named)
    assert stored["last_name"] == "Lind" and stored["moved_in_date"] is None
    assert await person(register, nameless) is None


async def test_an_older_record_changes_nothing(register: asyncpg.Pool, database_url: str) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 10)))
    outcome = await apply(database_url, changes(record(a, 9, names=names(last="Äldre"))))
    assert outcome.counts["stale"] == 1
    stored = await person(register, a)
    assert stored["last_name"] == "Svensson" and stored["post_id"] == 10
    assert len(await events(register)) == 1


async def test_records_of_one_person_apply_in_post_id_order(
    register: asyncpg.Pool, database_url: str
) -> None:
    """Across files too: the file order does not matter, the PostId does."""
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    source = changes(
        partial(a, 30, names=names(last="Tredje")),
        partial(a, 10, names=names(last="Första")),
        partial(a, 20, civil_status=CivilStatus("G", dt.date(2026, 1, 2))),
    )
    outcome = await apply(database_url, source)
    assert outcome.counts["changed"] == 3
    stored = await person(register, a)
    assert stored["last_name"] == "Tredje" and stored["civil_status"] == "G"
    assert stored["post_id"] == 30
    assert [e[2] for e in (await events(register))[1:]] == [["NAMES"], ["CIVIL_STATUS"], ["NAMES"]]


async def test_a_record_that_changes_nothing_writes_no_event(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    outcome = await apply(database_url, changes(record(a, 2)))
    assert outcome.counts["unchanged"] == 1
    assert len(await events(register)) == 1
    assert (await person(register, a))["post_id"] == 2


async def test_a_later_total_record_without_deregistration_registers_again(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1, deregistration=deregistered("UV"))))
    await apply(database_url, changes(record(a, 2)))
    stored = await person(register, a)
    assert stored["deregistration_code"] is None and stored["deregistration_date"] is None
    assert (await events(register))[-1] == (a, "CHANGED", ["STATUS"])


async def test_a_partial_record_leaves_the_deregistration_as_it_is(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1, deregistration=deregistered("UV"))))
    await apply(database_url, changes(partial(a, 2, names=names(last="Utvandrad"))))
    assert (await person(register, a))["deregistration_code"] == "UV"


async def test_the_code_an_is_kept(register: asyncpg.Pool, database_url: str) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1, deregistration=deregistered("AN"))))
    assert (await person(register, a))["deregistration_code"] == "AN"


async def test_a_person_without_a_registration_stays(
    register: asyncpg.Pool, database_url: str
) -> None:
    """An emigrated person has no Folkbokforing: they stay, with their foreign address."""
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    abroad = AddressRow("U", line1="1 Main Street", country="USA")
    emigrated = record(a, 2, registration=None, addresses=(abroad,),
                       deregistration=deregistered("UV"))  # fmt: skip
    outcome = await apply(database_url, changes(emigrated))
    assert outcome.counts["deregistered"] == 1
    stored = await person(register, a)
    assert stored is not None and stored["moved_in_date"] is None
    kinds = await register.fetch("SELECT kind FROM address WHERE person_id = $1", stored["id"])
    assert [row["kind"] for row in kinds] == ["U"]


async def test_leaving_the_region_follows_the_setting(
    register: asyncpg.Pool, database_url: str
) -> None:
    """In a register of another county, a person registered in Västra Götaland has left."""
    a, b = number(), number()
    source = full_extract(record(a, 1, registration=registered("80", "01")), record(b, 2))
    outcome = await apply(database_url, source, region="01")
    assert outcome.counts["created"] == 1 and outcome.counts["skipped"] == 1
    assert await person(register, a) is not None and await person(register, b) is None


async def test_changed_events_name_the_parts_that_changed(
    register: asyncpg.Pool, database_url: str
) -> None:
    a, child = number(), number(dt.date(2020, 2, 2))
    await register.execute(
        "INSERT INTO key_code_area VALUES ('14', '80', 'LÅNGA 3', '148011'),"
        " ('14', '80', 'KORTA 1', '148022')"
    )
    await apply(database_url, full_extract(record(a, 1)))
    assert (await person(register, a))["key_code"] == "148011"
    moved = Registration(dt.date(2026, 2, 1), "14", "80", "KORTA 1")
    await apply(
        database_url,
        changes(record(a, 2, registration=moved, relations=(relation("B", child),))),
    )
    stored = await person(register, a)
    assert stored["key_code"] == "148022" and stored["property_designation"] == "KORTA 1"
    assert (await events(register))[-1] == (a, "CHANGED", ["REGISTRATION", "RELATIONS", "KEY_CODE"])


async def test_a_property_the_municipality_has_not_coded_gets_no_key_code(
    register: asyncpg.Pool, database_url: str
) -> None:
    a = number()
    await apply(database_url, full_extract(record(a, 1)))
    assert (await person(register, a))["key_code"] is None
