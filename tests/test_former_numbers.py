"""A number Skatteverket has replaced (hänvisning) finds the person under the new one,
and says so; a protected person's new number never leaves; the log names both numbers.

Numbers change through the importer, as they do in production; a chain the importer
would have shortened is written directly, to show the lookup does not depend on it.
Every test runs on both engines, with the Skatteverket simulator connected.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import asyncpg
import pytest

from api.settings import Settings
from resolvers.dev.skatteverket import sim_data
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from resolvers.imports.records import SKYDDAD
from tests import factories
from tests.conftest import Api, StatementLog
from tests.importing import apply, changes, full_extract, names, partial, record, relation
from tests.test_skatteverket import fallback_settings, serving
from tests.upstream import Upstream

LOOKUP = """query ($p: String!) { person(personnummer: $p) {
  __typename
  ... on Person { personnummer personnummer10 personnummer11 personnummer13
                  formerPersonnummer lastName source spouse { personnummer } }
  ... on ProtectedPerson { personnummer notice }
  ... on PersonNotFound { personnummer } } }"""
AUDIT = """query ($p: String!) { accessLog(personnummer: $p) {
  edges { node { kind personnummer askedPersonnummer source rootFields } } } }"""
LAST_REQUEST = """
SELECT kind, personnummer, asked_personnummer, source
FROM access_log
WHERE request = (SELECT max(id) FROM access_request)
ORDER BY id
"""


@pytest.fixture
def settings(settings: Settings, engine: str) -> Settings:
    return settings.model_copy(update={"engine": engine})


@pytest.fixture
async def api(settings: Settings, register: asyncpg.Pool, upstream: Upstream) -> AsyncIterator[Api]:
    async for api in serving(fallback_settings(settings, upstream.url), register):
        yield api


async def moved(database_url: str, old: str, new: str, **parts: object) -> str:
    """``old`` in the register (married to a spouse there), then Skatteverket's change;
    returns the spouse's number."""
    spouse = factories.number(dt.date(1979, 1, 1))
    await apply(
        database_url,
        full_extract(
            record(old, 1, names=names(last="Flytt"), relations=(relation("M", spouse),), **parts),
            record(spouse, 2, relations=(relation("M", old),)),
        ),
    )
    await apply(database_url, changes(partial(old, 10, new_personnummer=new)))
    return spouse


async def lookup(api: Api, number: str) -> dict:
    body = await api.query(LOOKUP, {"p": number})
    assert "errors" not in body, body
    return dict(body["data"]["person"])


async def test_an_old_number_finds_the_person_under_the_new_one_and_says_so(
    api: Api, database_url: str, upstream: Upstream
) -> None:
    old, new = factories.number(dt.date(1990, 4, 4)), factories.number(dt.date(1990, 4, 5))
    spouse = await moved(database_url, old, new)
    found = await lookup(api, Personnummer(old).short())
    assert (found["personnummer"], found["formerPersonnummer"]) == (new, old)
    assert (found["personnummer10"], found["personnummer13"]) == (new[2:], Personnummer(new).long)
    assert (found["lastName"], found["source"]) == ("Flytt", "LOCAL")
    assert found["spouse"] == {"personnummer": spouse}
    current = await lookup(api, new)
    assert (current["personnummer"], current["formerPersonnummer"]) == (new, None)
    assert upstream.calls() == 0


async def test_the_access_log_names_the_person_seen_and_the_number_asked(
    api: Api, database_url: str, register: asyncpg.Pool
) -> None:
    old, new = factories.number(dt.date(1991, 5, 5)), factories.number(dt.date(1991, 5, 6))
    await moved(database_url, old, new)
    await lookup(api, old)
    logged = [tuple(row) for row in await register.fetch(LAST_REQUEST)]
    assert ("SEEN", new, old, "LOCAL") in logged
    assert all(row[1] != old for row in logged)  # no one holds the old number now
    for number in (old, new):  # an auditor finds the entry by either number
        response = await api.client.post(
            "/graphql",
            json={"query": AUDIT, "variables": {"p": number}},
            headers={"Authorization": f"Bearer {api.token(Tier.BASIC, roles=['audit'])}"},
        )
        entries = [edge["node"] for edge in response.json()["data"]["accessLog"]["edges"]]
        assert {"kind": "SEEN", "personnummer": new, "askedPersonnummer": old,
                "source": "LOCAL", "rootFields": ["person"]} in entries  # fmt: skip


@pytest.mark.parametrize("when", ["before", "after"])
async def test_a_protected_persons_new_number_never_leaves(
    api: Api, database_url: str, register: asyncpg.Pool, upstream: Upstream, when: str
) -> None:
    """Protected before the change (it moves as a stub), or only under the new number."""
    old = upstream.number(sim_data.OUTSIDE_REGION)  # Skatteverket would answer for it
    new = factories.number(dt.date(1992, 6, 6))
    if when == "before":
        await moved(database_url, old, new, protection=SKYDDAD)
    else:
        await moved(database_url, old, new)
        await apply(database_url, changes(record(new, 20, protection=SKYDDAD)))
    response = await api.post(LOOKUP, {"p": old})
    assert response.json()["data"]["person"] == {
        "__typename": "ProtectedPerson", "personnummer": old,
        "notice": response.json()["data"]["person"]["notice"],
    }  # fmt: skip
    number = Personnummer(new)
    for form in (new, number.ten, number.short(), number.long):
        assert form not in response.text
    assert [tuple(row) for row in await register.fetch(LAST_REQUEST)] == [
        ("PROTECTED", old, None, "LOCAL")
    ]
    assert upstream.calls() == 0  # the fallback is never asked instead


async def test_a_chain_of_changes_ends_at_the_last_number(
    api: Api, database_url: str, register: asyncpg.Pool
) -> None:
    first, second, third = (factories.number(dt.date(1993, 7, day)) for day in (1, 2, 3))
    await moved(database_url, first, second)
    await apply(database_url, changes(partial(second, 11, new_personnummer=third)))
    for asked in (first, second):
        found = await lookup(api, asked)
        assert (found["personnummer"], found["formerPersonnummer"]) == (third, asked)
    # A chain left long (the importer writes A → C) is followed all the same.
    longer = [factories.number(dt.date(1994, 8, day)) for day in range(1, 5)]
    for old, new in zip(longer, [*longer[1:], first], strict=True):
        await factories.replaced(register, old, new)
    found = await lookup(api, longer[0])
    assert (found["personnummer"], found["formerPersonnummer"]) == (third, longer[0])


async def test_a_chain_that_leads_nowhere_here_is_asked_at_skatteverket(
    api: Api, register: asyncpg.Pool, upstream: Upstream
) -> None:
    """A cycle ends too: the walk is bounded, and no one in the register holds a number."""
    old = upstream.number(sim_data.OUTSIDE_REGION)
    other = factories.number(dt.date(1995, 9, 9))
    await factories.replaced(register, old, other)
    await factories.replaced(register, other, old)
    found = await lookup(api, old)
    assert (found["personnummer"], found["source"]) == (old, "SKATTEVERKET")
    assert found["formerPersonnummer"] is None and upstream.calls(old) == 1
    unknown = factories.number(dt.date(1995, 9, 10))  # in neither table: as ever
    assert (await lookup(api, unknown))["__typename"] == "PersonNotFound"
    assert upstream.calls(unknown) == 1


async def test_a_replaced_samordningsnummer_is_still_asked_at_skatteverket(
    api: Api, register: asyncpg.Pool, upstream: Upstream
) -> None:
    """Never answered from the register — but a protection found here stops the call."""
    coordination = upstream.number(sim_data.COORDINATION)
    current = await factories.person(register, last_name="Ny")
    await factories.replaced(register, coordination, current)
    found = await lookup(api, coordination)
    assert (found["personnummer"], found["source"]) == (coordination, "SKATTEVERKET")
    assert upstream.calls(coordination) == 1
    await register.execute("UPDATE person SET protection = 'SEKRETESSMARKERING'")
    found = await lookup(api, coordination)
    assert found == {"__typename": "ProtectedPerson", "personnummer": coordination,
                     "notice": found["notice"]}  # fmt: skip
    assert upstream.calls(coordination) == 1


async def test_only_a_lookup_that_misses_pays_for_following_a_number(
    api: Api, database_url: str, statement_log: StatementLog
) -> None:
    old, new = factories.number(dt.date(1996, 1, 1)), factories.number(dt.date(1996, 1, 2))
    await moved(database_url, old, new)
    statement_log.clear()
    await lookup(api, new)  # with relations: one statement, then the log
    assert len(statement_log) == 1 + 1
    statement_log.clear()
    found = await lookup(api, old)  # the miss, who holds it now, their relations, the log
    assert found["spouse"] is not None and len(statement_log) == 3 + 1


async def test_lists_show_current_numbers_only(api: Api, database_url: str) -> None:
    old, new = factories.number(dt.date(1997, 2, 2)), factories.number(dt.date(1997, 2, 3))
    await moved(database_url, old, new)
    body = await api.query(
        """{ personsInRange(from: "19970101-0000", to: "19971231-9999") {
               edges { node { personnummer formerPersonnummer } } }
             searchPersons(lastName: "Flytt") {
               edges { node { personnummer formerPersonnummer } } } }"""
    )
    for listed in body["data"].values():
        assert [edge["node"] for edge in listed["edges"]] == [
            {"personnummer": new, "formerPersonnummer": None}
        ]
