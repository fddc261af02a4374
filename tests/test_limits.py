"""Query limits: refused before anything runs, with QUERY_TOO_COMPLEX; everyday queries pass."""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.graphiql import _QUERY as GRAPHIQL_QUERY
from api.settings import Settings
from resolvers.domain.access import Tier
from tests import factories
from tests.bench.workloads import OURS_PAGE, OURS_PERSON, OURS_SEARCH
from tests.conftest import Api, StatementLog

EVERYONE = {"from": "19000101-0000", "to": "20991231-9999"}
PERSON_FIELDS = """
    personnummer personnummer11 firstNames givenName middleName lastName gender birthDate
    status source movedInDate keyCode
    registeredAddress { careOf line1 line2 postalCode postalTown municipalityCode lines }
    specialPostalAddress { lines } foreignAddress { lines country } mailingAddress { lines }
    civilStatus { code kind meaning since } deregistration { code meaning date }
"""
RELATED = f"person {{ {PERSON_FIELDS} }}"
# A full page of everything a screen shows: each person in full, with every relation and
# the related persons in full.
FULL_PAGE = f"""query Page($from: String!, $to: String!, $first: Int!) {{
  personsInRange(from: $from, to: $to, first: $first) {{
    edges {{ cursor node {{
      {PERSON_FIELDS}
      relations {{ kind code personnummer since until {RELATED} }}
      spouse {{ personnummer person {{ givenName lastName }} }}
      children {{ personnummer }} guardians {{ personnummer }} wards {{ personnummer }}
    }} }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}"""
TWO_HOPS = """query Page($first: Int) {
  personsInRange(from: "19000101-0000", to: "20991231-9999", first: $first) {
    edges { node { relations { person { relations { person { personnummer } } } } } }
  }
}"""


def refusal(body: dict, limit: str) -> dict:
    """The refusal for ``limit`` (a query may be over several limits; each is reported)."""
    assert body["data"] is None, body
    assert {error["extensions"]["code"] for error in body["errors"]} == {"QUERY_TOO_COMPLEX"}
    [error] = [error for error in body["errors"] if error["extensions"]["limit"] == limit]
    return dict(error)


def nested_relations(hops: int) -> str:
    inner = "personnummer"
    for _ in range(hops):
        inner = f"relations {{ person {{ {inner} }} }}"
    return f'{{ person(personnummer: "191212121212") {{ ... on Person {{ {inner} }} }} }}'


@pytest.fixture
async def page_of_families(clean_db: asyncpg.Pool) -> asyncpg.Pool:
    """500 persons in 250 married couples; every fifth couple has a child."""
    for index in range(250):
        born = dt.date(1960, 1, 1) + dt.timedelta(days=index)
        wife = await factories.person(clean_db, born=born, last_name="Lund", civil_status="G")
        husband = await factories.person(clean_db, born=born, male=True, last_name="Lund")
        await factories.relate(clean_db, wife, "M", husband)
    return clean_db


async def test_everyday_queries_pass(api: Api, clean_db: asyncpg.Pool) -> None:
    """The benchmark's workloads and GraphiQL's opening query are far from any limit."""
    number = await factories.person(clean_db, last_name="Berg")
    for query, variables in (
        (OURS_PERSON, {"p": number}),
        (OURS_PAGE, EVERYONE),
        (OURS_SEARCH, {"l": "Berg", "f": None}),
        (GRAPHIQL_QUERY % number, {}),
        (FULL_PAGE, {**EVERYONE, "first": 100}),
    ):
        body = await api.query(query, variables, tier=Tier.RELATIONS)
        assert "errors" not in body, body["errors"]


async def test_a_full_page_of_500_persons_with_relations_passes(
    api: Api, page_of_families: asyncpg.Pool
) -> None:
    body = await api.query(FULL_PAGE, {**EVERYONE, "first": 500}, tier=Tier.RELATIONS)
    assert "errors" not in body, body["errors"][:1]
    edges = body["data"]["personsInRange"]["edges"]
    assert len(edges) == 500
    assert all(edge["node"]["spouse"]["person"]["lastName"] == "Lund" for edge in edges)


async def test_a_query_too_deep_is_refused_before_it_runs(
    api: Api, clean_db: asyncpg.Pool, statement_log: StatementLog
) -> None:
    assert "errors" not in await api.query(nested_relations(4))  # 10 fields deep: the limit
    statement_log.clear()
    error = refusal(await api.query(nested_relations(5)), "depth")
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX", "limit": "depth", "maximum": 10, "actual": 12
    }  # fmt: skip
    assert "12 fields deep" in error["message"]
    assert len(statement_log) == 0


async def test_depth_through_fragments_counts(api: Api) -> None:
    query = (
        '{ person(personnummer: "191212121212") { ...A } }'
        "fragment A on Person { relations { person { ...B } } }"
        "fragment B on Person { relations { person { ...C } } }"
        "fragment C on Person { relations { person { ...D } } }"
        "fragment D on Person { relations { person { relations { person { lastName } } } } }"
    )
    refusal(await api.query(query), "depth")


async def test_too_many_aliases_are_refused(api: Api) -> None:
    def lookups(count: int) -> str:
        return "{" + " ".join(f"p{i}: viewer {{ subject }}" for i in range(count)) + "}"

    body = await api.query(lookups(50))
    assert len(body["data"]) == 50
    error = refusal(await api.query(lookups(51)), "aliases")
    assert error["extensions"]["actual"] == 51


async def test_aliases_inside_introspection_count(api: Api) -> None:
    fields = " ".join(f"t{i}: types {{ name }}" for i in range(60))
    refusal(await api.query(f"{{ __schema {{ {fields} }} }}"), "aliases")


async def test_aliases_in_a_fragment_count_each_time_it_is_spread(api: Api) -> None:
    fragment = "fragment V on Query { " + " ".join(f"v{i}: viewer {{ tier }}" for i in range(10))
    spreads = " ".join(f"a{i}: viewer {{ subject }} ...V" for i in range(3))
    body = await api.query(f"{{ {spreads} }} {fragment} }}")
    assert body["data"] is not None  # 3 + 10 aliases: the fragment's are merged
    query = "{ ...V ...W } " + fragment + "} fragment W on Query { ...V ...V ...V ...V ...V }"
    refusal(await api.query(query), "aliases")


async def test_a_long_query_is_refused_unread(api: Api) -> None:
    fields = " ".join(["subject"] * 2100)
    error = refusal(await api.query(f"{{ viewer {{ {fields} }} }}"), "tokens")
    assert error["extensions"]["maximum"] == 2000
    comments = "# a comment\n" * 2100
    refusal(await api.query(comments + "{ viewer { subject } }"), "tokens")
    nested = "{ viewer " * 1500 + "}" * 1500
    refusal(await api.query(nested), "depth")  # the parser stops before reading it all


async def test_the_cost_counts_page_sizes_through_nested_lists(api: Api) -> None:
    literal = TWO_HOPS.replace("query Page($first: Int) ", "").replace("$first", "500")
    error = refusal(await api.query(literal), "cost")
    # 500 persons x 8 relations x 8 relations, each a relation and a person, and the rest.
    assert error["extensions"]["actual"] == 73_001
    assert "73001 objects" in error["message"]
    smaller = literal.replace("first: 500", "first: 100")
    assert "errors" not in await api.query(smaller)


async def test_a_page_size_from_a_variable_is_counted_at_request_time(api: Api) -> None:
    refusal(await api.query(TWO_HOPS, {"first": 500}), "cost")
    assert "errors" not in await api.query(TWO_HOPS, {"first": 100})
    assert "errors" not in await api.query(TWO_HOPS, {})  # the argument's default: 50
    # A page size the resolver refuses costs nothing: its own error says what is wrong.
    for refused in (None, 0, 501):
        [error] = (await api.query(TWO_HOPS, {"first": refused}))["errors"]
        assert error["extensions"]["code"] != "QUERY_TOO_COMPLEX"
    defaulted = TWO_HOPS.replace("$first: Int)", "$first: Int = 400)")
    refusal(await api.query(defaulted), "cost")
    assert "errors" not in await api.query(defaulted, {"first": 20})


async def seconds(request: Callable[[int], Awaitable[object]], times: int = 5) -> float:
    """The median time of a request, sent each time with a text the server has not seen."""
    spent = []
    for attempt in range(times):
        started = time.perf_counter()
        await request(attempt)
        spent.append(time.perf_counter() - started)
    return statistics.median(spent)


@pytest.fixture
async def plain_lookup(api: Api, clean_db: asyncpg.Pool) -> Callable[[int], Awaitable[object]]:
    """A lookup whose text is new to the server: parsed, validated and run."""
    number = await factories.person(clean_db, last_name="Berg")

    async def lookup(attempt: int) -> None:
        body = await api.query(f"{OURS_PERSON}\n# {attempt} {time.time()}", {"p": number})
        assert body["data"]["person"]["lastName"] == "Berg", body

    await lookup(-1)  # the first request warms what every later one shares
    return lookup


async def test_a_query_of_too_many_selections_is_refused_before_validation(
    api: Api, plain_lookup: Callable[[int], Awaitable[object]]
) -> None:
    """6 KB repeating one field: graphql-core's validation of it alone took most of a
    second (it compares fields of one name pairwise); refused, it costs a lookup's time."""
    repeated = "{ " + "viewer { subject } " * 300 + "}"

    async def send(attempt: int) -> None:
        error = refusal(await api.query(f"{repeated}\n# {attempt} {time.time()}"), "selections")
        assert error["extensions"] == {
            "code": "QUERY_TOO_COMPLEX", "limit": "selections", "maximum": 300, "actual": 600
        }  # fmt: skip

    assert await seconds(send) < 20 * await seconds(plain_lookup)


async def test_fields_repeated_at_one_level_are_refused_after_few_comparisons(
    api: Api, plain_lookup: Callable[[int], Awaitable[object]]
) -> None:
    """Within the selections limit, repeating a field (or spreading many fragments) at
    one level still made validation compare each with each: a budget stops it early."""
    repeated = "{ " + "viewer { subject } " * 150 + "}"
    fragments = "{ viewer { " + " ".join(f"...F{i}" for i in range(140)) + " } } "
    fragments += " ".join(f"fragment F{i} on Viewer {{ subject }}" for i in range(140))
    for query in (repeated, fragments):

        async def send(attempt: int, query: str = query) -> None:
            error = refusal(await api.query(f"{query}\n# {attempt} {time.time()}"), "comparisons")
            assert error["extensions"]["maximum"] == 10_000

        assert await seconds(send) < 20 * await seconds(plain_lookup)
    # A field named twice at a level, or in fragments that overlap, is no repetition.
    overlapping = (
        "{ viewer { subject ...A ...B } viewer { tier } } "
        "fragment A on Viewer { subject tier } fragment B on Viewer { subject roles }"
    )
    assert "errors" not in await api.query(overlapping)


async def test_a_fragment_spread_over_and_over_is_read_once(
    api: Api, plain_lookup: Callable[[int], Awaitable[object]], clean_db: asyncpg.Pool
) -> None:
    """Twenty fragments each spreading the next twice: 2**20 spreads in 600 characters,
    merged by GraphQL into one field; walking them all took seconds per request."""
    number = await factories.person(clean_db, last_name="Ek")
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(20))
    query = (
        f'{{ person(personnummer: "{number}") {{ ... on Person {{ lastName }} }} ...F0 }} '
        f"{chain} fragment F20 on Query {{ __typename }}"
    )

    async def send(attempt: int) -> None:
        body = await api.query(f"{query}\n# {attempt} {time.time()}")
        assert body == {"data": {"person": {"lastName": "Ek"}, "__typename": "Query"}}

    assert await seconds(send) < 20 * await seconds(plain_lookup)


async def test_a_page_size_counts_as_graphql_core_coerces_it(api: Api) -> None:
    """What the resolver will read is what counts, however the variable is written."""
    # 500.0 (or 5e2) is an Int to graphql-core: the resolver reads pages of 500.
    refusal(await api.query(TWO_HOPS, {"first": 500.0}), "cost")
    refusal(await api.query(TWO_HOPS, {"first": 5e2}), "cost")
    assert "errors" not in await api.query(TWO_HOPS, {"first": 100.0})
    # A string is no Int: refused by the variable's coercion, before anything is read.
    [error] = (await api.query(TWO_HOPS, {"first": "500"}))["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    # An absent variable takes its own default, else the argument's.
    defaulted = TWO_HOPS.replace("$first: Int)", "$first: Int = 500)")
    refusal(await api.query(defaulted, {}), "cost")
    aliased = (
        "query Page($first: Int) { "
        + " ".join(f"p{i}: " + TWO_HOPS.split("{", 1)[1].rsplit("}", 1)[0] for i in range(8))
        + " }"
    )
    refusal(await api.query(aliased, {}), "cost")  # 8 pages of the default 50, two hops


async def test_a_page_size_over_the_maximum_gets_the_page_size_error(api: Api) -> None:
    """Not a cost refusal: the caller learns what to change."""
    body = await api.query(
        TWO_HOPS.replace("query Page($first: Int) ", "").replace("$first", "5000")
    )
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}


async def test_each_operation_of_a_document_is_measured_on_its_own(api: Api) -> None:
    document = "query Small { viewer { subject } } " + nested_relations(5).replace(
        "{ person", "query Deep { person", 1
    )
    small = await api.client.post(
        "/graphql",
        json={"query": document, "operationName": "Small"},
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"},
    )
    assert small.json() == {"data": {"viewer": {"subject": "tester"}}}
    deep = await api.client.post(
        "/graphql",
        json={"query": document, "operationName": "Deep"},
        headers={"Authorization": f"Bearer {api.token(Tier.BASIC)}"},
    )
    refusal(deep.json(), "depth")


@pytest.fixture
async def strict_api(settings: Settings, pool: asyncpg.Pool, engine: str) -> AsyncIterator[Api]:
    strict = settings.model_copy(
        update={
            "engine": engine,
            "max_query_depth": 3,
            "max_query_aliases": 1,
            "max_query_cost": 10,
            "max_body_bytes": 2048,
        }
    )
    app: Starlette = create_app(strict, pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, strict)


async def test_limits_are_settings(strict_api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    refusal(await strict_api.query(nested_relations(1)), "depth")
    refusal(await strict_api.query("{ a: viewer { subject } b: viewer { subject } }"), "aliases")
    page = '{ personsInRange(from: "1900", to: "2099", first: 10) { edges { cursor } } }'
    refusal(await strict_api.query(page), "cost")
    padded = "{ viewer { subject } }" + " " * 2048
    long_get = await strict_api.client.get("/graphql", params={"query": padded})
    assert long_get.status_code == 413
    assert long_get.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    monkeypatch.setenv("VASTFOLKET_MAX_QUERY_DEPTH", "7")
    monkeypatch.setenv("VASTFOLKET_MAX_QUERY_SELECTIONS", "40")
    monkeypatch.setenv("VASTFOLKET_MAX_BODY_BYTES", "2048")
    from_environment = Settings()
    assert from_environment.limits().max_depth == 7
    assert from_environment.limits().max_selections == 40
    assert from_environment.max_body_bytes == 2048


async def test_a_body_over_the_limit_is_refused_before_it_is_read(api: Api) -> None:
    padding = " " * 70_000
    declared = await api.client.post(
        "/graphql",
        content=f'{{"query": "{{ viewer {{ subject }} }}{padding}"}}',
        headers={
            "Authorization": f"Bearer {api.token(Tier.BASIC)}",
            "Content-Type": "application/json",
        },
    )
    assert declared.status_code == 413
    assert declared.json() == {
        "errors": [
            {
                "message": "The request body (or query string) is larger than 65536 bytes.",
                "extensions": {"code": "PAYLOAD_TOO_LARGE"},
            }
        ]
    }
    assert declared.headers["x-request-id"]
    # Without a token too: the size is checked first.
    assert (await api.client.post("/graphql", content=padding)).status_code == 413


async def test_a_streamed_body_is_counted_as_it_arrives(api: Api) -> None:
    sent: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ viewer { subject } }", "pad": "'
        for _ in range(100):
            sent.append(1)
            yield b"x" * 4096
        yield b'"}'

    response = await api.client.post(
        "/graphql",
        content=chunks(),
        headers={
            "Authorization": f"Bearer {api.token(Tier.BASIC)}",
            "Content-Type": "application/json",
        },
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE"}
    small = await api.client.post(
        "/graphql",
        content=b'{"query": "{ viewer { subject } }"}',
        headers={
            "Authorization": f"Bearer {api.token(Tier.BASIC)}",
            "Content-Type": "application/json",
        },
    )
    assert small.json() == {"data": {"viewer": {"subject": "tester"}}}


async def test_a_count_beyond_json_numbers_is_refused_as_a_limit(api: Api) -> None:
    """Sixty-six fragments each spreading the next twice: about 2**65 objects and aliases
    in 800 tokens. The refusal must still be encodable: it was a 500."""
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 66))
    for first in (
        "fragment F0 on Query { viewer { subject } }",
        "fragment F0 on Query { a: viewer { subject } }",
    ):
        response = await api.post(f"{{ ...F65 }} {first} {chain}")
        assert response.status_code == 200, response.text
        errors = response.json()["errors"]
        assert {error["extensions"]["code"] for error in errors} == {"QUERY_TOO_COMPLEX"}
        assert all(error["extensions"]["actual"] <= 2**53 - 1 for error in errors)
