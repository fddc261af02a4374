"""The change feed's polling side under attack: what a follower may learn of protected
persons and samordningsnummer, odd filter input, and what one page costs the database."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.settings import Settings
from resolvers.changes import feed
from resolvers.domain.access import Tier
from resolvers.imports.records import SEKRETESS, SKYDDAD
from tests.conftest import Api
from tests.factories import number, restate
from tests.importing import apply, changes, full_extract, names, partial, record, register
from tests.test_feed import Follower, living_in

__all__ = ["register"]


def told(events: list[dict]) -> list[tuple[str, str]]:
    return [(e["kind"], e["personnummer"]) for e in events]


def numbers_in(events: list[dict]) -> set[str]:
    return {n for e in events for n in (e["personnummer"], e["previousPersonnummer"]) if n}


async def head(api: Api, follower: Follower) -> str:
    response = await api.client.post(
        "/graphql", json={"query": "{ changesHead }"},
        headers={"Authorization": f"Bearer {follower.token}"},
    )  # fmt: skip
    return str(response.json()["data"]["changesHead"])


async def test_a_person_protected_when_they_come_is_never_listed(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """No receiver can hold them: a PROTECTED event would only list a protected person's
    number (the feed from its oldest event would list every protected person loaded)."""
    shown, loaded, arrived = number(), number(), number()
    await apply(database_url, full_extract(record(shown, 1), record(loaded, 2, protection=SKYDDAD)))
    await apply(database_url, changes(record(arrived, 3, protection=SEKRETESS)))
    events = await Follower(api, Tier.RELATIONS).poll()
    assert told(events) == [("CREATED", shown)]


async def test_a_person_the_file_brings_in_and_protects_by_a_number_change_is_never_listed(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    old, new = number(dt.date(1990, 4, 4)), number(dt.date(1990, 4, 5))
    await apply(database_url, full_extract(record(number(), 1)))
    follower = Follower(api)
    await follower.poll()
    await apply(database_url, changes(
        record(old, 2), partial(old, 3, new_personnummer=new, protection=SKYDDAD),
    ))  # fmt: skip
    assert await follower.poll() == []


async def test_a_person_protected_later_keeps_no_history_in_the_feed(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """What their earlier events told — the tie from the old number to the new, a name
    change and when — is data on a protected person now; a reader still holding the old
    number is told to purge it, where the number change stood."""
    old, new = number(dt.date(1990, 4, 4)), number(dt.date(1990, 4, 5))
    await apply(database_url, full_extract(record(old, 1)))
    behind = Follower(api)
    assert told(await behind.poll()) == [("CREATED", old)]  # holds the old number
    await apply(database_url, changes(partial(old, 2, new_personnummer=new)))
    await apply(database_url, changes(record(new, 3, names=names(last="Ek"))))
    await apply(database_url, changes(record(new, 4, protection=SEKRETESS)))
    for follower in (behind, Follower(api)):  # a reader behind, one from the oldest event
        events = await follower.poll()
        assert told(events) == [("PROTECTED", old), ("PROTECTED", new)]
        assert all(e["previousPersonnummer"] is None for e in events)
        assert all((e["parts"], e["recordedAt"], e["person"]) == (None, None, None) for e in events)


async def test_a_purge_notice_in_place_of_a_number_change_is_logged_as_one(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    old, new = number(dt.date(1990, 4, 4)), number(dt.date(1990, 4, 5))
    await apply(database_url, full_extract(record(old, 1)))
    await apply(database_url, changes(partial(old, 2, new_personnummer=new)))
    await apply(database_url, changes(record(new, 3, protection=SKYDDAD)))
    request_id = f"feed-review-{number()}"
    response = await api.client.post(
        "/graphql", json={"query": "{ changes { edges { node { personnummer kind } } } }"},
        headers={"Authorization": f"Bearer {Follower(api).token}", "X-Request-ID": request_id},
    )  # fmt: skip
    assert len(response.json()["data"]["changes"]["edges"]) == 2
    rows = await register.fetch(
        "SELECT personnummer, kind FROM access_log WHERE request_id = $1", request_id
    )
    assert sorted(tuple(row) for row in rows) == sorted([(old, "PROTECTED"), (new, "PROTECTED")])


async def test_a_samordningsnummer_is_never_listed_as_where_a_number_came_from(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    coordination = number(dt.date(1990, 4, 4), coordination=True)
    personnummer = number(dt.date(1990, 4, 4))
    await apply(database_url, full_extract(record(coordination, 1)))
    await apply(database_url, changes(partial(coordination, 2, new_personnummer=personnummer)))
    events = await Follower(api).poll()
    assert told(events) == [("CREATED", personnummer)]  # new to every receiver
    assert coordination not in numbers_in(events)
    assert events[0]["person"]["personnummer"] == personnummer


async def test_a_protection_reaches_every_municipality_filter_alike(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    """Sent only to followers of where the person lived, it would tell where a
    protected person lived (with sekretessmarkering: where they still live)."""
    hidden = number()
    await apply(database_url, full_extract(record(hidden, 1, **living_in("62"))))
    start = await head(api, Follower(api))
    await apply(database_url, changes(record(hidden, 2, protection=SEKRETESS)))
    seen = {}
    for code in ("1462", "1480"):
        follower = Follower(api)
        follower.cursor = start
        seen[code] = told(await follower.poll(filter={"municipalities": [code]}))
    assert seen == {"1462": [("PROTECTED", hidden)], "1480": [("PROTECTED", hidden)]}


async def test_birth_dates_before_the_year_1000_compare_as_dates(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    await apply(database_url, full_extract(record(number(), 1)))
    assert await Follower(api).poll(filter={"bornTo": "0999-12-31"}) == []
    assert len(await Follower(api).poll(filter={"bornFrom": "0999-01-01"})) == 1


@pytest.mark.parametrize(
    "filter",
    [{"bornFrom": "2020-13-01"}, {"bornFrom": "10000-01-01"}, {"kinds": ["MOVED"]},
     {"municipalities": ["1480"] * 301}, {"municipalities": [""]}],
)  # fmt: skip
async def test_odd_filters_are_clear_errors(register: asyncpg.Pool, api: Api, filter: dict) -> None:
    body = await Follower(api).page(filter=filter)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["data"] is None or body["data"]["changes"] is None


async def test_the_same_code_many_times_and_every_date_are_a_filter_like_any(
    register: asyncpg.Pool, database_url: str, api: Api
) -> None:
    await apply(database_url, full_extract(record(number(), 1)))
    wide = {"municipalities": ["1480"] * 300, "bornFrom": "0001-01-01", "bornTo": "9999-12-31"}
    assert len(await Follower(api).poll(filter=wide)) == 1


@pytest.fixture
async def strict_app(
    settings: Settings, pool: asyncpg.Pool, engine: str
) -> AsyncIterator[Starlette]:
    """The app with a short access log timeout."""
    changed = {"access_log_timeout_seconds": 0.3, "engine": engine}
    yield create_app(settings.model_copy(update=changed), pool=pool)


async def test_a_page_the_log_cannot_take_is_not_sent(
    register: asyncpg.Pool, database_url: str, api: Api, strict_app: Starlette
) -> None:
    shown = number()
    await apply(database_url, full_extract(record(shown, 1)))
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        follower = Follower(Api(client, api.settings))
        async with register.acquire() as blocker, blocker.transaction():
            await blocker.execute("LOCK TABLE access_log IN ACCESS EXCLUSIVE MODE")
            response = await client.post(
                "/graphql", json={"query": "{ changes { edges { node { personnummer } } } }"},
                headers={"Authorization": f"Bearer {follower.token}"},
            )  # fmt: skip
        assert response.status_code == 503
        assert response.json()["errors"][0]["extensions"]["code"] == "AUDIT_UNAVAILABLE"
        assert shown not in response.text
        assert told(await follower.poll()) == [("CREATED", shown)]  # sent once logged


# A register of persons registered in Göteborg, and an event for each, many times over.
PERSONS = """
INSERT INTO person (personnummer, birth_date, first_names, last_name)
SELECT '19' || lpad(g::text, 10, '0'), '1980-01-01', 'Anna', 'Ek' FROM generate_series(1, $1) g
"""
ADDRESSES = """
INSERT INTO address (person_id, kind, county_code, municipality_code)
SELECT id, 'F', '14', '80' FROM person
"""
EVENTS = """
INSERT INTO change_event (personnummer, kind)
SELECT '19' || lpad((g % $2 + 1)::text, 10, '0'), 'CREATED' FROM generate_series(1, $1) g
"""


async def _rows_read(pool: asyncpg.Pool, filters: feed.Filters, first: int, scan: int) -> dict:
    """How many rows the page statement reads of each table, by its plan as run."""
    async with pool.acquire() as connection:
        xmin = await connection.fetchval(
            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        )
        arguments = feed.page_arguments((0, 0), filters, first, scan, xmin)
        plan = await connection.fetchval("EXPLAIN (ANALYZE, FORMAT JSON) " + feed.PAGE, *arguments)
    read: dict[str, float] = {}
    nodes = [json.loads(plan)[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if "Relation Name" in node:
            # Both are averages per loop.
            removed = node.get("Rows Removed by Filter", 0)
            rows = (node["Actual Rows"] + removed) * node["Actual Loops"]
            read[node["Relation Name"]] = read.get(node["Relation Name"], 0) + rows
    return read


@pytest.fixture
async def busy_register(register: asyncpg.Pool) -> asyncpg.Pool:
    await register.execute(PERSONS, 20_000)
    await register.execute(ADDRESSES)
    await restate(register)
    await register.execute(EVENTS, 30_000, 20_000)
    await register.execute("ANALYZE person, address, change_event, former_personnummer")
    return register


async def test_a_page_reads_the_events_it_holds_not_its_scan_bound(
    busy_register: asyncpg.Pool,
) -> None:
    read = await _rows_read(busy_register, feed.Filters(), first=10, scan=20_000)
    assert read["change_event"] <= 11  # the page and the one after: how it knows the end


async def test_a_sparse_municipality_filter_reads_one_address_per_event_not_the_register(
    busy_register: asyncpg.Pool,
) -> None:
    """Bounded by the events it looks through, whatever the register's size: no scan of
    every address in the region per page."""
    elsewhere = feed.Filters(municipalities=frozenset({"1462"}))
    read = await _rows_read(busy_register, elsewhere, first=100, scan=2_000)
    assert read["change_event"] <= 2_000
    assert read.get("address", 0) <= 2_000
