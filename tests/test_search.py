"""Name search: tolerant matching, ranking, filters, paging and refusal of fishing."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from tests import factories
from tests.conftest import Api

SEARCH = """
query ($last: String!, $firstName: String, $from: Int, $to: Int, $town: String,
       $first: Int, $after: String) {
  searchPersons(lastName: $last, firstName: $firstName, birthYearFrom: $from,
                birthYearTo: $to, postalTown: $town, first: $first, after: $after) {
    edges { cursor node { personnummer firstNames lastName } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def names(api: Api, **variables: object) -> list[tuple[str, str]]:
    body = await api.query(SEARCH, variables)
    assert "errors" not in body, body
    edges = body["data"]["searchPersons"]["edges"]
    return [(edge["node"]["firstNames"], edge["node"]["lastName"]) for edge in edges]


async def test_search_ignores_case_and_missing_diacritics(api: Api, clean_db: asyncpg.Pool) -> None:
    await factories.person(clean_db, first_names="Åsa", last_name="Öberg")
    await factories.person(clean_db, first_names="Åke", last_name="Lind")
    assert await names(api, last="oberg", firstName="Asa") == [("Åsa", "Öberg")]
    assert await names(api, last="ÖBERG") == [("Åsa", "Öberg")]


async def test_search_tolerates_small_misspellings_and_ranks_exact_first(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    await factories.person(clean_db, first_names="Eva", last_name="Andersson")
    await factories.person(clean_db, first_names="Bo", last_name="Anderson")
    await factories.person(clean_db, first_names="Ulf", last_name="Karlsson")
    assert await names(api, last="Andersson") == [("Eva", "Andersson"), ("Bo", "Anderson")]
    assert await names(api, last="Andresson") != []
    assert await names(api, last="Anderson") == [("Bo", "Anderson"), ("Eva", "Andersson")]


async def test_exact_last_name_ranks_before_a_closer_first_name(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    await factories.person(clean_db, first_names="Anna", last_name="Anderson")
    await factories.person(clean_db, first_names="Hanna", last_name="Andersson")
    assert await names(api, last="Andersson", firstName="Anna") == [
        ("Hanna", "Andersson"),
        ("Anna", "Anderson"),
    ]


async def test_exact_first_name_ranks_before_similarity_first_place_first(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    """Folded exact matches, then similarity: neither last name is Öberg, and Åsa is the
    name Åsa Åberg's first names begin with, only the second of Fanny Åsa Berg's."""
    await factories.person(clean_db, first_names="Fanny Åsa", last_name="Berg")
    await factories.person(clean_db, first_names="Åsa Eva", last_name="Åberg")
    expected = [("Åsa Eva", "Åberg"), ("Fanny Åsa", "Berg")]
    assert await names(api, last="Öberg", firstName="Åsa") == expected
    assert await names(api, last=" oberg ", firstName="  asa ") == expected
    await factories.person(clean_db, first_names="Fanny Åsa", last_name="Öberg")
    assert await names(api, last="Öberg", firstName="Åsa") == [("Fanny Åsa", "Öberg"), *expected]


async def test_first_name_matches_any_of_several_first_names(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    await factories.person(clean_db, first_names="Anna Karin Maria", last_name="Holm")
    await factories.person(clean_db, first_names="Sara", last_name="Holm")
    assert await names(api, last="Holm", firstName="Maria") == [("Anna Karin Maria", "Holm")]


async def test_birth_years_and_postal_town_narrow_the_search(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    await factories.person(clean_db, first_names="Old", last_name="Ek", born=dt.date(1950, 1, 1))
    await factories.person(clean_db, first_names="Young", last_name="Ek", born=dt.date(2001, 1, 1))
    await factories.person(
        clean_db,
        first_names="Moln",
        last_name="Ek",
        born=dt.date(2001, 6, 1),
        address={"line2": "Kvarnbygatan 1", "postal_code": "43130", "postal_town": "MÖLNDAL"},
    )
    assert {n for n, _ in await names(api, last="Ek", **{"from": 2000})} == {"Young", "Moln"}
    assert await names(api, last="Ek", to=1960) == [("Old", "Ek")]
    assert await names(api, last="Ek", town="molndal") == [("Moln", "Ek")]
    # As pasted: spaces around, a no-break space or two between words count as one.
    for town in (" molndal ", "molndal\u00a0", "  MÖLNDAL"):
        assert await names(api, last="Ek", town=town) == [("Moln", "Ek")]


async def test_search_pages_through_ranked_results(api: Api, clean_db: asyncpg.Pool) -> None:
    for index in range(5):
        await factories.person(clean_db, first_names=f"Person{'x' * index}", last_name="Strand")
    seen, after = [], None
    while True:
        body = await api.query(SEARCH, {"last": "Strand", "first": 2, "after": after})
        page = body["data"]["searchPersons"]
        seen += [edge["node"]["personnummer"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 5


async def test_too_many_matches_are_refused(api: Api, clean_db: asyncpg.Pool) -> None:
    """The test settings allow 20 matches; 21 Johanssons is fishing."""
    for _ in range(21):
        await factories.person(clean_db, last_name="Johansson")
    body = await api.query(SEARCH, {"last": "Johansson"})
    [error] = body["errors"]
    assert error["extensions"] == {
        "code": "BAD_USER_INPUT",
        "reason": "TOO_MANY_MATCHES",
        "limit": 20,
    }
    assert "narrow" in error["message"]
    assert body["data"] == {"searchPersons": None}


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"last": "A"}, "lastName"),
        ({"last": "  "}, "lastName"),
        ({"last": "An*"}, "lastName"),
        ({"last": "Ek%"}, "lastName"),
        ({"last": "x" * 61}, "lastName"),
        ({"last": "E\u0000k"}, "lastName"),
        ({"last": "Lind\u200bqvist"}, "lastName"),
        ({"last": "Lind\u202eqvist"}, "lastName"),
        ({"last": "Lindqvist", "firstName": "Åsa\u0085"}, "firstName"),
        ({"last": "Lindqvist", "town": "Göteborg\u2028"}, "postalTown"),
        ({"last": "Ek", "after": "czrvvJE="}, "after"),  # s:１
        ({"last": "Ek", "town": "G"}, "postalTown"),
        ({"last": "Ek", "from": 1700}, "birthYearFrom"),
        ({"last": "Ek", "from": 2000, "to": 1990}, "birthYearFrom"),
        ({"last": "Ek", "first": 1000}, "first"),
        ({"last": "Ek", "after": "cjoxOTgw"}, "after"),
    ],
)
async def test_too_broad_or_bad_search_input_is_refused(
    api: Api, clean_db: asyncpg.Pool, variables: dict, argument: str
) -> None:
    body = await api.query(SEARCH, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument
