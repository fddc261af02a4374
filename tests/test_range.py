"""Listing persons by an interval of personnummer, page by page."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from tests import factories
from tests.conftest import Api

RANGE = """
query ($from: String!, $to: String!, $first: Int, $after: String) {
  personsInRange(from: $from, to: $to, first: $first, after: $after) {
    edges { cursor node { personnummer } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def persons_born(pool: asyncpg.Pool, dates: list[dt.date]) -> list[str]:
    return sorted([await factories.person(pool, born=date) for date in dates])


async def test_interval_lists_persons_in_number_order_across_pages(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    numbers = await persons_born(clean_db, [dt.date(1990, 1, day) for day in range(1, 8)])
    outside = await factories.person(clean_db, born=dt.date(1991, 1, 1))
    seen: list[str] = []
    after = None
    while True:
        body = await api.query(
            RANGE, {"from": "19900101-0000", "to": "901231-9999", "first": 3, "after": after}
        )
        page = body["data"]["personsInRange"]
        seen += [edge["node"]["personnummer"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == numbers
    assert outside not in seen


async def test_interval_bounds_are_inclusive_and_take_any_form(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    [first, middle, last] = await persons_born(
        clean_db, [dt.date(1985, 3, 1), dt.date(1985, 3, 2), dt.date(1985, 3, 3)]
    )
    body = await api.query(RANGE, {"from": f"{first[2:8]}-{first[8:]}", "to": last})
    listed = [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]]
    assert listed == [first, middle, last]


async def test_coordination_numbers_are_never_listed(api: Api, clean_db: asyncpg.Pool) -> None:
    ordinary = await factories.person(clean_db, born=dt.date(1970, 1, 5))
    coordination = factories.number(dt.date(1970, 1, 5), coordination=True)
    await factories.person(clean_db, personnummer=coordination)
    body = await api.query(RANGE, {"from": "19700101-0000", "to": "19700228-9999"})
    listed = [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]]
    assert listed == [ordinary]


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"from": "19900101-0000", "to": "19800101-0000"}, "from"),
        ({"from": "1990", "to": "19800101-0000"}, "from"),
        ({"from": "19800101-0000", "to": "19801301-0000"}, "to"),
        ({"from": "19800161-0000", "to": "19801231-0000"}, "from"),
        ({"from": "19800101-0000", "to": "19801231-0000", "first": 0}, "first"),
        ({"from": "19800101-0000", "to": "19801231-0000", "first": 501}, "first"),
        ({"from": "19800101-0000", "to": "19801231-0000", "after": "bm9wZQ=="}, "after"),
        ({"from": "19800101-0000", "to": "19801231-0000", "after": "%%%"}, "after"),
    ],
)
async def test_bad_interval_input_is_refused_with_the_argument_named(
    api: Api, clean_db: asyncpg.Pool, variables: dict, argument: str
) -> None:
    body = await api.query(RANGE, variables)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert f"`{argument}`" in error["message"]


async def test_search_cursor_is_not_accepted_by_interval(api: Api, clean_db: asyncpg.Pool) -> None:
    await factories.person(clean_db, last_name="Lind")
    search = await api.query('{ searchPersons(lastName: "Lind") { pageInfo { endCursor } } }')
    cursor = search["data"]["searchPersons"]["pageInfo"]["endCursor"]
    body = await api.query(RANGE, {"from": "190001010000", "to": "202001010000", "after": cursor})
    assert body["errors"][0]["extensions"]["argument"] == "after"


@pytest.mark.parametrize(
    ("low", "high", "read"),
    [
        ("991231-0000", "000101-9999", ("1999-12-31", "2000-01-01")),
        ("000101-0000", "991231-9999", ("2000-01-01", "1999-12-31")),
        ("19991231-0000", "000101-9999", ("1999-12-31", "2000-01-01")),
        ("991231-0000", "20000101-9999", ("1999-12-31", "2000-01-01")),
        ("241231+0000", "250101-9999", ("1924-12-31", "2025-01-01")),
    ],
)
async def test_bounds_read_in_different_centuries_are_refused_naming_both_dates(
    api: Api, clean_db: asyncpg.Pool, low: str, high: str, read: tuple[str, str]
) -> None:
    await factories.person(clean_db, born=dt.date(1999, 12, 31))
    body = await api.query(RANGE, {"from": low, "to": high})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "from"}
    assert f"`from` was read as {read[0]} and `to` as {read[1]}" in error["message"]
    assert body["data"] == {"personsInRange": None}


async def test_bounds_in_one_century_or_both_with_theirs_are_listed(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    [late, early] = [
        await factories.person(clean_db, born=born)
        for born in (dt.date(1999, 12, 31), dt.date(2000, 1, 1))
    ]
    body = await api.query(RANGE, {"from": "19991231-0000", "to": "20000101-9999"})
    listed = [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]]
    assert listed == [late, early]
    body = await api.query(RANGE, {"from": "990101-0000", "to": "991231-9999"})
    listed = [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]]
    assert listed == [late]


async def test_bounds_take_pasted_dashes_and_refuse_other_digits(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = await factories.person(clean_db, born=dt.date(1985, 3, 1))
    body = await api.query(RANGE, {"from": "850301\u20130000", "to": "19850301\u00a09999"})
    assert [edge["node"]["personnummer"] for edge in body["data"]["personsInRange"]["edges"]] == [
        pnr
    ]
    body = await api.query(RANGE, {"from": "８５0301-0000", "to": "19850301-9999"})
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "from"}
    assert "U+FF18 FULLWIDTH DIGIT EIGHT at position 1" in error["message"]
