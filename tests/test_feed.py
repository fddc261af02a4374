"""Polling the change feed over HTTP: pages in commit order, cursors, the head, filters."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from resolvers.domain.access import Tier
from resolvers.domain.personnummer import make
from resolvers.imports.records import SEKRETESS, SKYDDAD
from resolvers.register.rows import AddressRow
from schema.changes import feed as feed_fields
from tests.conftest import Api
from tests.factories import number
from tests.importing import apply, changes, full_extract, names, record, register, registered

__all__ = ["register"]

PAGE = """
query Page($after: String, $first: Int!, $filter: ChangeFilter) {
  changes(after: $after, first: $first, filter: $filter) {
    edges { cursor node { cursor personnummer kind parts previousPersonnummer recordedAt
            appliedAt person { personnummer lastName registeredAddress { municipalityCode } } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def living_in(municipality: str) -> dict:
    """A record's registration and registered address in a municipality of county 14."""
    address = AddressRow(
        "F", line2="Torget 1", postal_code="44130", postal_town="ALINGSÅS",
        county_code="14", municipality_code=municipality,
    )  # fmt: skip
    return {"registration": registered(municipality), "addresses": (address,)}


class Follower:
    """An integrated system polling the feed with its own token and cursor."""

    def __init__(self, api: Api, tier: Tier = Tier.BASIC, roles: tuple[str, ...] = ("feed",)):
        self.api = api
        self.token = api.token(tier, roles=list(roles))
        self.cursor: str | None = None

    async def page(self, first: int = 100, filter: dict | None = None) -> dict:
        response = await self.api.client.post(
            "/graphql",
            json={"query": PAGE, "variables": {"after": self.cursor, "first": first,
                                               "filter": filter}},
            headers={"Authorization": f"Bearer {self.token}"},
        )  # fmt: skip
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def poll(self, first: int = 100, filter: dict | None = None) -> list[dict]:
        """Every event readable now, page by page, the cursor kept."""
        events: list[dict] = []
        while True:
            body = await self.page(first, filter)
            assert "errors" not in body, body
            connection = body["data"]["changes"]
            events += [edge["node"] for edge in connection["edges"]]
            self.cursor = connection["pageInfo"]["endCursor"]
            if not connection["pageInfo"]["hasNextPage"]:
                return events


async def test_a_follower_reads_every_event_once_in_commit_order(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    a, b, c = number(), number(), number()
    await apply(database_url, full_extract(record(a, 1), record(b, 2)))
    follower = Follower(api)
    first = await follower.poll(first=1)
    assert [(e["personnummer"], e["kind"]) for e in first] == [(a, "CREATED"), (b, "CREATED")]
    assert first[0]["person"]["lastName"] == "Svensson"
    assert await follower.poll() == []  # nothing new: an empty page, the cursor kept

    await apply(database_url, changes(record(c, 3), record(a, 4, names=names(last="Ek"))))
    later = await follower.poll()
    assert [(e["personnummer"], e["kind"], e["parts"]) for e in later] == [
        (c, "CREATED", None),
        (a, "CHANGED", ["NAMES"]),
    ]
    assert later[1]["person"]["lastName"] == "Ek"
    # Navet's ändringstidpunkt is Swedish time: 2026-03-02T08:30 (CET) is 07:30 UTC.
    assert later[1]["recordedAt"] == "2026-03-02T07:30:00+00:00"


def reader_failures(metrics: str) -> float:
    """Compiled readers that failed, of any type and for any reason, as /metrics counts."""
    return sum(
        float(line.split()[-1]) for line in metrics.splitlines()
        if line.startswith("vastfolket_compiled_reader_failures_total{")
    )  # fmt: skip


async def test_a_page_with_cursors_and_persons_is_read_without_falling_back(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    # The cursors are read-ahead leaves: the fast engine's compiled readers answer them
    # (and so the whole page), rather than failing on each page and taking the slow path.
    # Numbers of their own (not the factories' shared sequence, which the other tests'
    # access-log expectations depend on).
    numbers = [make(dt.date(1923, 7, day), 2).digits for day in range(1, 6)]
    await apply(database_url, full_extract(*(record(n, post) for post, n in enumerate(numbers, 1))))
    query = """{ changes(first: 10) { edges { cursor node { cursor personnummer kind
                 person { lastName } } } pageInfo { endCursor } } }"""
    before = reader_failures((await api.client.get("/metrics")).text)
    headers = {"Authorization": f"Bearer {Follower(api).token}"}
    response = await api.client.post("/graphql", json={"query": query}, headers=headers)
    edges = response.json()["data"]["changes"]["edges"]
    assert [edge["cursor"] for edge in edges] == [edge["node"]["cursor"] for edge in edges]
    assert len(edges) == 5 and all(edge["node"]["person"]["lastName"] for edge in edges)
    assert reader_failures((await api.client.get("/metrics")).text) == before


async def test_the_feed_needs_the_feed_role(register: asyncpg.Pool, api: Api) -> None:
    body = await Follower(api, roles=()).page()
    assert body["data"]["changes"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("cursor", ["abc", "Yzox", "cjox", "YzoxLjIuMw==", "YzowMS4y", "YzotMS4y"])
async def test_a_cursor_not_from_the_feed_is_refused(
    register: asyncpg.Pool, api: Api, cursor: str
) -> None:
    follower = Follower(api)
    follower.cursor = cursor
    body = await follower.page()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_municipality_filter_sends_moves_out_and_nothing_of_others(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    stays, leaves, elsewhere = number(), number(), number()
    await apply(database_url, full_extract(
        record(stays, 1), record(leaves, 2), record(elsewhere, 3, **living_in("89")),
    ))  # fmt: skip
    follower = Follower(api)
    only = {"municipalities": ["1480"]}
    created = await follower.poll(filter=only)
    assert [e["personnummer"] for e in created] == [stays, leaves]
    await apply(database_url, changes(
        record(leaves, 4, **living_in("89")),
        record(elsewhere, 5, names=names(last="Ek"), **living_in("89")),
    ))  # fmt: skip
    moved = await follower.poll(filter=only)
    assert [e["personnummer"] for e in moved] == [leaves]


INSERT_EVENT = "INSERT INTO change_event (personnummer, kind) VALUES ($1, 'CREATED')"


async def test_a_late_commit_is_delivered_after_never_skipped_and_once(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    follower = Follower(api)
    early, late = await asyncpg.connect(database_url), await asyncpg.connect(database_url)
    first, second = number(), number()
    try:
        slow = early.transaction()
        await slow.start()
        await early.execute(INSERT_EVENT, first)  # takes its position first, commits last
        async with late.transaction():
            await late.execute(INSERT_EVENT, second)
        assert await follower.poll() == []  # held back behind the open transaction
        await slow.commit()
        assert [e["personnummer"] for e in await follower.poll()] == [first, second]
        assert await follower.poll() == []
    finally:
        await early.close()
        await late.close()


async def test_a_system_starting_from_the_head_gets_only_what_follows(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    old, new = number(), number()
    await apply(database_url, full_extract(record(old, 1)))
    follower = Follower(api)
    body = await api.client.post(
        "/graphql", json={"query": "{ changesHead }"},
        headers={"Authorization": f"Bearer {follower.token}"},
    )  # fmt: skip
    follower.cursor = body.json()["data"]["changesHead"]
    assert await follower.poll() == []
    await apply(database_url, changes(record(new, 2)))
    assert [e["personnummer"] for e in await follower.poll()] == [new]


async def test_kinds_and_birth_dates_narrow_the_feed(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    child, adult = number(dt.date(2019, 4, 2)), number(dt.date(1950, 1, 9))
    await apply(database_url, full_extract(record(child, 1), record(adult, 2)))
    await apply(database_url, changes(
        record(child, 3, names=names(last="Ek")), record(adult, 4, names=names(last="Ek")),
    ))  # fmt: skip
    born = {"bornFrom": "2010-01-01", "bornTo": "2026-12-31"}
    assert [(e["personnummer"], e["kind"]) for e in await Follower(api).poll(filter=born)] == [
        (child, "CREATED"), (child, "CHANGED"),
    ]  # fmt: skip
    changed = {"kinds": ["CHANGED"]}
    assert [e["personnummer"] for e in await Follower(api).poll(filter=changed)] == [child, adult]


async def test_a_sparse_filter_moves_on_through_what_it_leaves_out(
    register: asyncpg.Pool, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed_fields, "SCAN_PER_PAGE", 10)
    await register.executemany(INSERT_EVENT, [(number(),) for _ in range(35)])
    follower = Follower(api)
    pages = 0
    while True:
        body = await follower.page(filter={"kinds": ["PROTECTED"]})
        connection = body["data"]["changes"]
        assert connection["edges"] == []  # nothing of the persons passed over
        follower.cursor = connection["pageInfo"]["endCursor"]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert pages == 4  # 10 events looked through per page, then the rest


async def test_a_protected_person_is_never_shown_and_the_event_says_purge(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    hidden = number()
    await apply(database_url, full_extract(record(hidden, 1)))
    await apply(database_url, changes(record(hidden, 2, protection=SKYDDAD)))
    events = await Follower(api, Tier.RELATIONS).poll()
    # What the earlier events told of them is data on a protected person now: not listed.
    assert [(e["kind"], e["person"]) for e in events] == [("PROTECTED", None)]
    protected = events[0]
    assert (protected["personnummer"], protected["recordedAt"], protected["parts"]) == (
        hidden, None, None,
    )  # fmt: skip


async def test_every_event_a_page_shows_is_logged_before_it_leaves(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    shown, hidden = number(), number()
    await apply(database_url, full_extract(record(shown, 1), record(hidden, 2)))
    await apply(database_url, changes(record(hidden, 3, protection=SEKRETESS)))
    request_id = f"feed-{number()}"
    response = await api.client.post(
        "/graphql", json={"query": "{ changes { edges { node { personnummer kind } } } }"},
        headers={"Authorization": f"Bearer {Follower(api).token}", "X-Request-ID": request_id},
    )  # fmt: skip
    assert len(response.json()["data"]["changes"]["edges"]) == 2
    rows = await register.fetch(
        "SELECT personnummer, kind FROM access_log WHERE request_id = $1", request_id
    )
    assert sorted((r["personnummer"], r["kind"]) for r in rows) == sorted(
        [(shown, "SEEN"), (hidden, "PROTECTED")]
    )


async def test_a_cursor_older_than_the_retention_is_refused_never_jumped(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    await apply(database_url, full_extract(record(number(), 1)))
    follower = Follower(api)
    await follower.poll()
    behind = follower.cursor
    await apply(database_url, changes(record(number(), 2), record(number(), 3)))
    await register.execute("UPDATE change_event SET applied_at = now() - interval '100 days'")
    # The next import prunes what is past the retention (90 days), a transaction at a time.
    await apply(database_url, changes(record(number(), 4)))
    assert await register.fetchval("SELECT count(*) FROM change_event") == 1
    follower.cursor = behind
    body = await follower.page()
    assert body["data"]["changes"] is None
    assert body["errors"][0]["extensions"]["code"] == "CURSOR_EXPIRED"
    fresh = Follower(api)
    assert len(await fresh.poll()) == 1  # from the oldest event kept


@pytest.mark.parametrize("first", [0, 1001])
async def test_pages_hold_1_to_1000_events(register: asyncpg.Pool, api: Api, first: int) -> None:
    body = await Follower(api).page(first=first)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    "filter",
    [{"kinds": []}, {"municipalities": ["14800"]}, {"municipalities": ["١٤٨٠"]},
     {"bornFrom": "2020-01-01", "bornTo": "2019-01-01"}],
)  # fmt: skip
async def test_a_bad_filter_is_a_clear_error(
    register: asyncpg.Pool, api: Api, filter: dict
) -> None:
    body = await Follower(api).page(filter=filter)
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "filter"}


async def test_aliases_of_sparse_pages_add_up_to_the_cost_limit(
    register: asyncpg.Pool, api: Api
) -> None:
    page = 'changes(first: 1, filter: {municipalities: ["9999"]}) { pageInfo { endCursor } }'
    follower = Follower(api)

    async def ask(aliases: int) -> dict:
        query = "{ " + " ".join(f"p{n}: {page}" for n in range(aliases)) + " }"
        response = await api.client.post(
            "/graphql", json={"query": query},
            headers={"Authorization": f"Bearer {follower.token}"},
        )  # fmt: skip
        return dict(response.json())

    assert "errors" not in await ask(10)
    refused = await ask(50)  # fifty scans of up to 20 000 events each, at once
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert refused["errors"][0]["extensions"]["limit"] == "cost"
