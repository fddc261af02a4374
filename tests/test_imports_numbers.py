"""Number changes: the person moves to the new number, and the old one leads there."""

from __future__ import annotations

import datetime as dt

import asyncpg

from resolvers.domain.access import Tier
from resolvers.imports.records import SKYDDAD
from resolvers.register.former_numbers import current_number
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, partial, record, relation
from tests.test_imports import events, person

LOOKUP = """query ($p: String!) {
  person(personnummer: $p) { ... on Person { personnummer lastName spouse { personnummer } } }
}"""


def moved(old: str, new: str, post_id: int) -> object:
    return partial(old, post_id, new_personnummer=new)


async def test_a_number_change_moves_the_person(
    register: asyncpg.Pool, database_url: str, api: object
) -> None:
    old, new, spouse = number(dt.date(1990, 4, 4)), number(dt.date(1990, 4, 5)), number()
    await apply(
        database_url,
        full_extract(
            record(old, 1, names=names(last="Flytt"), relations=(relation("M", spouse),)),
            record(spouse, 2, relations=(relation("M", old),)),
        ),
    )
    outcome = await apply(database_url, changes(moved(old, new, 10)))
    assert outcome.counts["number_changed"] == 1
    assert await person(register, old) is None
    stored = await person(register, new)
    assert stored["last_name"] == "Flytt" and stored["birth_date"] == dt.date(1990, 4, 5)
    assert (
        await register.fetchval(
            "SELECT current_personnummer FROM former_personnummer WHERE personnummer = $1", old
        )
        == new
    )
    assert await register.fetchval(
        "SELECT related_personnummer FROM relation AS r JOIN person AS p ON p.id = r.person_id"
        " WHERE p.personnummer = $1", spouse,
    ) == new  # fmt: skip
    last = await register.fetchrow(
        "SELECT personnummer, kind, previous_personnummer FROM change_event"
        " ORDER BY xid DESC, position DESC LIMIT 1"
    )
    assert tuple(last) == (new, "NUMBER_CHANGED", old)
    answer = await api.query(LOOKUP, {"p": new})  # type: ignore[attr-defined]
    assert answer["data"]["person"]["lastName"] == "Flytt"
    found = await current_number(register, Tier.BASIC, old)
    assert found is not None and found.personnummer == new and not found.protected
    assert found.person is not None and found.person.last_name == "Flytt"
    answer = await api.query(LOOKUP, {"p": old})  # type: ignore[attr-defined]
    assert answer["data"]["person"]["personnummer"] == new


async def test_when_the_new_number_came_first_the_old_row_goes(
    register: asyncpg.Pool, database_url: str
) -> None:
    old, new, other = number(), number(), number()
    await apply(
        database_url,
        full_extract(record(old, 1), record(other, 2, relations=(relation("M", old),))),
    )
    source = changes(record(new, 10, names=names(last="Ny")), moved(old, new, 11))
    outcome = await apply(database_url, source)
    assert outcome.counts["created"] == 1 and outcome.counts["number_changed"] == 1
    assert await person(register, old) is None
    assert (await person(register, new))["last_name"] == "Ny"
    assert (
        await register.fetchval(
            "SELECT count(*) FROM relation WHERE related_personnummer = $1", new
        )
        == 1
    )
    tail = (await events(register))[-2:]
    assert tail == [(new, "CREATED", None), (new, "NUMBER_CHANGED", None)]


async def test_a_record_for_the_new_number_after_the_change_applies_to_the_moved_person(
    register: asyncpg.Pool, database_url: str
) -> None:
    old, new = number(), number()
    await apply(database_url, full_extract(record(old, 1)))
    await apply(
        database_url, changes(moved(old, new, 10), partial(new, 11, names=names(last="Sen")))
    )
    stored = await person(register, new)
    assert stored["last_name"] == "Sen" and stored["post_id"] == 11


async def test_a_chain_of_changes_in_one_file_ends_at_the_last_number(
    register: asyncpg.Pool, database_url: str
) -> None:
    first, second, third = number(), number(), number()
    await apply(database_url, full_extract(record(first, 1)))
    await apply(database_url, changes(moved(first, second, 10), moved(second, third, 11)))
    assert await person(register, third) is not None
    rows = await register.fetch("SELECT * FROM former_personnummer ORDER BY personnummer")
    assert {row["personnummer"]: row["current_personnummer"] for row in rows} == {
        first: third,
        second: third,
    }


async def test_a_protected_persons_number_change_says_nothing_of_the_new_number(
    register: asyncpg.Pool, database_url: str
) -> None:
    old, new = number(), number()
    await apply(database_url, full_extract(record(old, 1, protection=SKYDDAD)))
    await apply(database_url, changes(moved(old, new, 10)))
    assert (await person(register, new))["protection"] == SKYDDAD
    assert await events(register) == []  # protected when new to the register: never told
    found = await current_number(register, Tier.BASIC, old)
    assert found is not None and found.personnummer == new and found.protected
    assert found.person is None


async def test_a_protection_under_a_replaced_number_protects_the_person_under_the_new(
    register: asyncpg.Pool, database_url: str, api: object
) -> None:
    old, new = number(dt.date(1991, 2, 3)), number(dt.date(1991, 2, 4))
    await apply(database_url, full_extract(record(old, 1, names=names(last="Dold"))))
    await apply(database_url, changes(moved(old, new, 10)))
    await apply(database_url, changes(record(old, 11, protection=SKYDDAD)))
    stored = await person(register, new)
    assert stored["protection"] == SKYDDAD and stored["last_name"] is None  # purged
    assert await register.fetchval(
        "SELECT count(*) FROM address AS a JOIN person AS p ON p.id = a.person_id"
        " WHERE p.personnummer = $1", new,
    ) == 0  # fmt: skip
    for asked in (new, old):
        answer = await api.query(LOOKUP, {"p": asked})  # type: ignore[attr-defined]
        assert "lastName" not in answer["data"]["person"]
    assert (new, "PROTECTED", None) in await events(register)
