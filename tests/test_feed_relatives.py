"""A protected relative leaves no trace in the feed: through the real importer, read over HTTP.

A relative's `CHANGED` names `RELATIONS` only when a relation the feed's `person` shows
changed; when the only relations that changed name a person protected now (or a
samordningsnummer), the part is not listed, and an event left with nothing is not listed
at all — whether the protection came later in the same file, in a later file, by a
number change or after a lift (docs/changes.md "What an event says").
"""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from resolvers.domain.access import Tier
from resolvers.imports.records import SEKRETESS, SKYDDAD, CivilStatus, Record
from tests.conftest import Api
from tests.factories import number
from tests.importing import (
    RecordsFile,
    apply,
    changes,
    full_extract,
    home,
    names,
    partial,
    record,
    register,
    relation,
)

__all__ = ["register"]

PAGE = """
query Page($after: String, $filter: ChangeFilter) {
  changes(after: $after, first: 1000, filter: $filter) {
    edges { node { personnummer kind parts person { relations { personnummer code } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
HEAD = "{ changesHead }"
RELATIVES = """
query ($p: String!) {
  person(personnummer: $p) { ... on Person { relations { personnummer code } } }
}
"""
BORN = dt.date(2026, 2, 20)


class Reader:
    """An integrated system at the RELATIONS tier, following the feed from the head."""

    def __init__(self, api: Api) -> None:
        self.api, self.token = api, api.token(Tier.RELATIONS, roles=["feed"])
        self.cursor: str | None = None
        self.shown: list[dict | None] = []

    async def _post(self, query: str, variables: dict) -> dict:
        response = await self.api.client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        body = dict(response.json())
        assert response.status_code == 200 and "errors" not in body, body
        return dict(body["data"])

    async def join(self) -> None:
        self.cursor = (await self._post(HEAD, {}))["changesHead"]

    async def read(self, filter: dict | None = None) -> list[tuple]:
        """(number, kind, parts) of every event after the cursor; each event's `person`
        is kept in ``shown``."""
        events: list[dict] = []
        variables: dict = {"after": self.cursor, "filter": filter}
        while True:
            page = (await self._post(PAGE, variables))["changes"]
            events += [edge["node"] for edge in page["edges"]]
            variables["after"] = page["pageInfo"]["endCursor"]
            if not page["pageInfo"]["hasNextPage"]:
                break
        self.cursor = variables["after"]
        self.shown = [e["person"] for e in events]
        return [(e["personnummer"], e["kind"], e["parts"]) for e in events]


def numbers_in(value: object) -> set[str]:
    """Every personnummer anywhere in an answer (relations' included)."""
    if isinstance(value, dict):
        return set().union(*(numbers_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(numbers_in(item) for item in value))
    return {value} if isinstance(value, str) and value.isdigit() and len(value) == 12 else set()


async def relatives(api: Api, personnummer: str) -> list[tuple[str, str]]:
    body = await api.query(RELATIVES, {"p": personnummer}, tier=Tier.RELATIONS)
    assert "errors" not in body, body
    return [(r["personnummer"], r["code"]) for r in body["data"]["person"]["relations"]]


def couple(mother: str, father: str) -> list[Record]:
    married = CivilStatus("G", dt.date(2010, 6, 1))
    return [
        record(mother, 1, civil_status=married, relations=(relation("M", father),)),
        record(father, 2, names=names("Per"), civil_status=married,
               relations=(relation("M", mother),)),
    ]  # fmt: skip


def born(child: str, mother: str, father: str, post_id: int, **parts: object) -> Record:
    kin = (relation("MO", mother, BORN), relation("FA", father, BORN))
    return record(child, post_id, names=names("Kim"), relations=kin, **parts)


def parent_of(parent: str, other: str, child: str, post_id: int, **parts: object) -> Record:
    married = CivilStatus("G", dt.date(2010, 6, 1))
    kin = (relation("M", other), relation("B", child, BORN))
    return record(parent, post_id, civil_status=married, relations=kin, **parts)


def delivered(kind: str, *items: Record) -> RecordsFile:
    return full_extract(*items) if kind == "full" else changes(*items)


@pytest.mark.parametrize("kind", ["changes", "full"])
async def test_a_child_born_and_protected_in_one_file_tells_nothing_of_the_parents(
    register: asyncpg.Pool, database_url: str, api: Api, kind: str
) -> None:
    """The birth (round 1) names the child in the parents' relations; the child's
    protection (round 2) purges them again: the parents' relations are as before, so
    neither parent is told RELATIONS, and the father, whom nothing else changed, is
    not told at all. The mother moved in the same file: that is all she is told."""
    mother, father, child = number(), number(male=True), number(BORN)
    await apply(database_url, full_extract(*couple(mother, father)))
    reader = Reader(api)
    await reader.join()
    moved = (home("Nya vägen 4"),)
    await apply(
        database_url,
        delivered(
            kind,
            born(child, mother, father, 10),
            parent_of(mother, father, child, 11, addresses=moved),
            parent_of(father, mother, child, 12, names=names("Per")),
            record(child, 13, protection=SKYDDAD),
        ),
    )
    assert await reader.read() == [(mother, "CHANGED", ["ADDRESSES"])]
    assert child not in numbers_in(reader.shown)
    assert await relatives(api, mother) == [(father, "M")]
    reader.cursor = None  # a reader from the beginning, filtered to relation changes
    assert await reader.read({"kinds": ["CHANGED"]}) == [(mother, "CHANGED", ["ADDRESSES"])]


async def test_a_relation_to_someone_protected_in_the_same_round_is_no_change(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    mother, father, child = number(), number(male=True), number(BORN)
    await apply(database_url, full_extract(*couple(mother, father)))
    reader = Reader(api)
    await reader.join()
    await apply(
        database_url,
        changes(
            born(child, mother, father, 10, protection=SEKRETESS),
            partial(mother, 11, relations=(relation("M", father), relation("B", child))),
        ),
    )
    assert await reader.read() == []
    assert await relatives(api, mother) == [(father, "M")]


async def test_the_fast_path_never_shows_a_protected_child(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    mother, father, child = number(), number(male=True), number(BORN)
    reader = Reader(api)
    await reader.join()
    parents = [parent_of(mother, father, child, 1), parent_of(father, mother, child, 2)]
    await apply(database_url, full_extract(*parents, record(child, 3, protection=SKYDDAD)))
    assert sorted(await reader.read()) == sorted(
        [(mother, "CREATED", None), (father, "CREATED", None)]
    )
    assert child not in numbers_in(reader.shown)
    assert numbers_in(reader.shown) == {mother, father}


async def test_a_spouse_married_and_protected_in_one_file_is_told_only_the_civil_status(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    a, b = number(), number(male=True)
    await apply(database_url, full_extract(record(a, 1), record(b, 2, names=names("Per"))))
    reader = Reader(api)
    await reader.join()
    married = CivilStatus("G", dt.date(2026, 2, 14))
    await apply(
        database_url,
        changes(
            partial(a, 10, civil_status=married, relations=(relation("M", b),)),
            partial(b, 11, civil_status=married, relations=(relation("M", a),)),
            partial(a, 12, protection=SKYDDAD),
        ),
    )
    assert await reader.read() == [(b, "CHANGED", ["CIVIL_STATUS"]), (a, "PROTECTED", None)]
    assert a not in numbers_in(reader.shown)


async def test_relatives_of_a_person_who_becomes_protected_are_told_nothing(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """The `PROTECTED` event tells receivers to purge the number wherever they hold it,
    in relatives' relations too: an event for a relative at the same moment would tie
    them to the protected person."""
    a, spouse, child = number(), number(male=True), number(dt.date(2012, 1, 1))
    await apply(
        database_url,
        full_extract(
            record(a, 1, relations=(relation("M", spouse), relation("B", child))),
            record(spouse, 2, relations=(relation("M", a), relation("B", child))),
            record(child, 3, names=names("Kim"), relations=(relation("MO", a),)),
        ),
    )
    reader = Reader(api)
    await reader.join()
    await apply(database_url, changes(partial(a, 10, protection=SKYDDAD)))
    assert await reader.read() == [(a, "PROTECTED", None)]
    assert await relatives(api, spouse) == [(child, "B")]
    assert await relatives(api, child) == []


async def test_a_protection_in_a_later_file_hides_the_relation_change_it_made_invisible(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """A reader that reads the birth in time is told RELATIONS; one that reads it only
    after the child was protected reads the feed as the register is now: the parents'
    relation change shows nothing, so it is not listed (the child's `PROTECTED` is)."""
    mother, father, child = number(), number(male=True), number(BORN)
    await apply(database_url, full_extract(*couple(mother, father)))
    early, late = Reader(api), Reader(api)
    await early.join()
    await late.join()
    birth = [born(child, mother, father, 10), parent_of(mother, father, child, 11)]
    await apply(database_url, changes(*birth, partial(father, 12, names=names("Pelle"))))
    assert await early.read() == [
        (child, "CREATED", None),
        (mother, "CHANGED", ["RELATIONS"]),
        (father, "CHANGED", ["NAMES"]),
    ]
    await apply(database_url, changes(partial(child, 20, protection=SKYDDAD)))
    assert await early.read() == [(child, "PROTECTED", None)]
    assert await late.read() == [(father, "CHANGED", ["NAMES"]), (child, "PROTECTED", None)]


async def test_a_number_change_to_a_protected_number_tells_the_relative_nothing(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """The mother's record names the child's old number; the Hänvisning then leads it to
    a protected number, and the relation is purged: she is told nothing, beside the
    `PROTECTED` for the old number her receivers may hold."""
    mother, old, new = number(), number(BORN), number(BORN)
    await apply(database_url, full_extract(record(mother, 1), record(old, 2, names=names("Kim"))))
    reader = Reader(api)
    await reader.join()
    await apply(
        database_url,
        changes(
            partial(mother, 10, relations=(relation("B", old, BORN),)),
            record(new, 11, protection=SKYDDAD),
            partial(old, 12, new_personnummer=new),
        ),
    )
    assert await reader.read() == [(old, "PROTECTED", None)]
    assert await relatives(api, mother) == []


async def test_a_protection_under_a_former_number_hides_the_relation_to_the_new_one(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    mother, old, new = number(), number(BORN), number(BORN)
    await apply(database_url, full_extract(record(mother, 1), record(old, 2, names=names("Kim"))))
    await apply(database_url, changes(partial(old, 10, new_personnummer=new)))
    reader = Reader(api)
    await reader.join()
    await apply(
        database_url,
        changes(
            partial(mother, 20, relations=(relation("B", new, BORN),)),
            partial(old, 21, protection=SEKRETESS),
        ),
    )
    assert await reader.read() == [(new, "PROTECTED", None)]
    assert await relatives(api, mother) == []


async def test_a_lifted_protection_taken_back_in_the_same_file_tells_the_relatives_nothing(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    a, spouse = number(), number(male=True)
    await apply(
        database_url,
        full_extract(record(a, 1, protection=SKYDDAD), record(spouse, 2, names=names("Per"))),
    )
    reader = Reader(api)
    await reader.join()
    lifted = record(a, 10, relations=(relation("M", spouse),))
    await apply(database_url, changes(lifted, partial(a, 11, protection=SKYDDAD)))
    assert await reader.read() == [(a, "PROTECTED", None)]
    assert await relatives(api, spouse) == []


async def test_a_lift_tells_the_relatives_their_relation_back(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """What a lift restores is seen again: the relatives are told RELATIONS."""
    a, spouse = number(), number(male=True)
    await apply(
        database_url,
        full_extract(record(a, 1, protection=SKYDDAD), record(spouse, 2, names=names("Per"))),
    )
    reader = Reader(api)
    await reader.join()
    await apply(database_url, changes(record(a, 10, relations=(relation("M", spouse),))))
    assert await reader.read() == [(a, "CREATED", None), (spouse, "CHANGED", ["RELATIONS"])]
    assert await relatives(api, spouse) == [(a, "M")]


async def test_a_relation_to_a_samordningsnummer_is_not_told_either(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """The feed never shows a samordningsnummer, in relations neither: a change to such
    a relation alone shows nothing."""
    a, spouse, coordinated = number(), number(male=True), number(coordination=True)
    await apply(database_url, full_extract(record(a, 1, relations=(relation("M", spouse),))))
    reader = Reader(api)
    await reader.join()
    kin = (relation("M", spouse), relation("B", coordinated))
    await apply(database_url, changes(partial(a, 10, relations=kin)))
    assert await reader.read() == []
    kin = (relation("M", spouse, dt.date(2011, 1, 1)), relation("B", coordinated))
    await apply(database_url, changes(partial(a, 11, relations=kin)))
    assert await reader.read() == [(a, "CHANGED", ["RELATIONS"])]


async def test_a_number_shown_only_as_a_relative_is_told_protected_when_it_comes(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """The child's number was in the mother's `relations` before the child's own record
    came, protected: receivers may hold it there, so a `PROTECTED` tells them to take
    it out; the mother is told nothing."""
    mother, child = number(), number(BORN)
    kin = (relation("B", child, BORN),)
    await apply(database_url, full_extract(record(mother, 1, relations=kin)))
    reader = Reader(api)
    await reader.join()
    assert await relatives(api, mother) == [(child, "B")]
    await apply(database_url, changes(born(child, mother, mother, 10, protection=SKYDDAD)))
    assert await reader.read() == [(child, "PROTECTED", None)]
    assert await relatives(api, mother) == []


async def test_a_number_shown_as_a_relative_is_told_when_a_hanvisning_leads_it_to_a_protected(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    mother, old, new = number(), number(BORN), number(BORN)
    kin = (relation("B", old, BORN),)
    await apply(database_url, full_extract(record(mother, 1, relations=kin)))
    reader = Reader(api)
    await reader.join()
    await apply(
        database_url,
        changes(record(new, 10, protection=SKYDDAD), partial(old, 11, new_personnummer=new)),
    )
    assert await reader.read() == [(old, "PROTECTED", None)]
    assert await relatives(api, mother) == []


async def test_a_later_file_of_a_full_delivery_tells_a_relative_shown_by_an_earlier_one(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """The fast path: the first file's mother named the child, the second brings the
    child protected."""
    mother, child = number(), number(BORN)
    reader = Reader(api)
    await reader.join()
    kin = (relation("B", child, BORN),)
    part1 = full_extract(record(mother, 1, relations=kin), files_in_delivery=2, file_no=1)
    await apply(database_url, part1)
    job = part1.delivery.job_id  # type: ignore[union-attr]
    part2 = full_extract(
        record(child, 2, protection=SKYDDAD), files_in_delivery=2, file_no=2, job_id=job
    )
    await apply(database_url, part2)
    assert await reader.read() == [(mother, "CREATED", None), (child, "PROTECTED", None)]
    assert await relatives(api, mother) == []
