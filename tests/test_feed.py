"""Polling the change feed over HTTP: pages in commit order, cursors, the head, filters."""

from __future__ import annotations

import asyncpg
import pytest

from resolvers.domain.access import Tier
from resolvers.register.rows import AddressRow
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
    assert later[1]["recordedAt"].endswith(("+01:00", "+02:00"))  # Swedish time, zoned


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
