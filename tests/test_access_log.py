"""The access log: every person shown is logged before the answer leaves, or nothing leaves."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from api.app import create_app
from api.auth import mint_dev_token
from api.settings import Settings
from resolvers.audit import access_log, log_writer
from resolvers.domain.access import Tier, Viewer
from tests import factories
from tests.conftest import Api, StatementLog, counted

LOOKUP = """
query Lookup($p: String!) {
  person(personnummer: $p) {
    __typename
    ... on Person { lastName spouse { person { lastName } } children { person { lastName } } }
    ... on ProtectedPerson { notice }
  }
}
"""

PAGE = """
query Page($first: Int) {
  personsInRange(from: "19000101-0000", to: "20991231-9999", first: $first) {
    edges { node { personnummer lastName } }
  }
}
"""

SEARCH_LOG = """
query Audit($p: String, $subject: String, $first: Int, $after: String) {
  accessLog(personnummer: $p, subject: $subject, first: $first, after: $after) {
    edges {
      node {
        kind subject organisation clientSystem tier operationName rootFields personnummer
        source requestId caseReference criteria loggedAt
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""


class Caller:
    """One official with a token of their own, sending an id with each request."""

    def __init__(self, api: Api, tier: Tier = Tier.RELATIONS, **claims: object) -> None:
        self.client = api.client
        self.subject = f"official-{uuid.uuid4().hex[:8]}"
        token = mint_dev_token(api.settings, subject=self.subject, tier=tier, **claims)
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(
        self, query: str, variables: dict | None = None, **headers: str | bytes
    ) -> tuple[httpx.Response, str]:
        request_id = uuid.uuid4().hex
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.headers, "X-Request-ID": request_id, **headers},
        )
        return response, request_id


async def logged(pool: asyncpg.Pool, request_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM access_log WHERE request_id = $1 ORDER BY personnummer", request_id
    )


@pytest.fixture
def official(api: Api) -> Caller:
    return Caller(api, organisation="Mölndals stad", client="socialtjänst-verksamhetssystem")


@pytest.fixture
async def family(clean_db: asyncpg.Pool) -> dict[str, str]:
    mother = await factories.person(clean_db, last_name="Ek", civil_status="G")
    father = await factories.person(clean_db, male=True, last_name="Ek", civil_status="G")
    child = await factories.person(clean_db, born=dt.date(2016, 2, 2), last_name="Ek")
    await factories.relate(clean_db, mother, "M", father)
    await factories.relate(clean_db, mother, "B", child)
    return {"mother": mother, "father": father, "child": child}


async def test_a_lookup_logs_the_person_and_the_related_persons_shown(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    response, request_id = await official.post(
        LOOKUP, {"p": family["mother"]}, **{"X-Case-Reference": "SOC 2026/1234"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["person"]["spouse"]["person"]["lastName"] == "Ek"
    rows = await logged(pool, request_id)
    assert sorted(row["personnummer"] for row in rows) == sorted(family.values())
    for row in rows:
        assert row["kind"] == "SEEN"
        assert row["source"] == "LOCAL"
        assert row["subject"] == official.subject
        assert row["organisation"] == "Mölndals stad"
        assert row["client"] == "socialtjänst-verksamhetssystem"
        assert row["tier"] == "RELATIONS"
        assert row["operation_name"] == "Lookup"
        assert row["root_fields"] == "person"
        assert row["case_reference"] == "SOC 2026/1234"


async def test_a_page_logs_every_person_on_it(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    response, request_id = await official.post(PAGE, {"first": 2})
    shown = [
        edge["node"]["personnummer"] for edge in response.json()["data"]["personsInRange"]["edges"]
    ]
    assert len(shown) == 2
    rows = await logged(pool, request_id)
    assert sorted(row["personnummer"] for row in rows) == sorted(shown)
    assert {row["root_fields"] for row in rows} == {"personsInRange"}


async def test_relations_the_tier_forbids_are_not_logged_as_seen(
    api: Api, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    basic = Caller(api, Tier.BASIC)
    response, request_id = await basic.post(LOOKUP, {"p": family["mother"]})
    body = response.json()
    assert body["data"]["person"]["lastName"] == "Ek"
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
    rows = await logged(pool, request_id)
    assert [(row["personnummer"], row["tier"]) for row in rows] == [(family["mother"], "BASIC")]


async def test_a_protected_person_is_logged_as_an_attempt_and_hidden_relatives_not_at_all(
    official: Caller, clean_db: asyncpg.Pool, pool: asyncpg.Pool
) -> None:
    hidden = await factories.person(clean_db, last_name="Dold", protection="SEKRETESSMARKERING")
    mother = await factories.person(clean_db, last_name="Ek")
    await factories.relate(clean_db, mother, "B", hidden)

    response, request_id = await official.post(LOOKUP, {"p": hidden})
    assert response.json()["data"]["person"]["__typename"] == "ProtectedPerson"
    rows = await logged(pool, request_id)
    assert [(row["personnummer"], row["kind"], row["source"]) for row in rows] == [
        (hidden, "PROTECTED", "LOCAL")
    ]

    response, request_id = await official.post(LOOKUP, {"p": mother})
    assert response.json()["data"]["person"]["children"] == []
    assert [row["personnummer"] for row in await logged(pool, request_id)] == [mother]


async def test_answers_without_persons_write_nothing(
    official: Caller, clean_db: asyncpg.Pool, pool: asyncpg.Pool
) -> None:
    response, request_id = await official.post(LOOKUP, {"p": factories.number()})
    assert response.json()["data"]["person"]["__typename"] == "PersonNotFound"
    assert await logged(pool, request_id) == []
    response, request_id = await official.post("{ viewer { subject } }")
    assert response.json()["data"]["viewer"]["subject"] == official.subject
    assert await logged(pool, request_id) == []


@pytest.mark.parametrize(
    "reference",
    [
        "x" * 101,
        "line\nbreak",
        "   ",
        "\u00a0\u2003".encode(),  # a no-break space and an em space
        "\u3164".encode(),  # HANGUL FILLER: a letter drawn as nothing
        "\u2800".encode(),  # BRAILLE PATTERN BLANK
        "\u0301".encode(),  # a combining accent on nothing
    ],
    ids=["too-long", "control", "blank", "unicode-spaces", "filler", "braille-blank", "mark"],
)
async def test_a_malformed_case_reference_is_refused(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool, reference: str
) -> None:
    response, request_id = await official.post(
        LOOKUP, {"p": family["mother"]}, **{"X-Case-Reference": reference}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert "Ek" not in response.text
    assert await logged(pool, request_id) == []


async def test_a_case_reference_sent_twice_is_refused(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    """Kept would be one of them, checked perhaps only that one."""
    request_id = "twice-referenced"
    response = await official.client.post(
        "/graphql",
        json={"query": LOOKUP, "variables": {"p": family["mother"]}},
        headers=[
            *official.headers.items(),
            ("X-Request-ID", request_id),
            ("X-Case-Reference", "SOC 2026/1"),
            ("X-Case-Reference", "SOC 2026/\u202e2".encode()),
        ],
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    assert await logged(pool, request_id) == []


async def test_a_case_reference_is_kept_as_the_utf8_text_it_was_sent_as(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    reference = "ÄR-2026/123 Åsa Öberg"
    response, request_id = await official.post(
        LOOKUP, {"p": family["mother"]}, **{"X-Case-Reference": reference.encode()}
    )
    assert response.status_code == 200, response.text
    assert {row["case_reference"] for row in await logged(pool, request_id)} == {reference}


@pytest.mark.parametrize(
    ("reference", "named"),
    [
        (b"\xc4R-2026/123", None),  # Latin-1, not UTF-8
        (b"\xed\xa0\x80", None),  # an encoded surrogate: not UTF-8 either
        ("SOC\u0085 2026".encode(), "U+0085"),  # a C1 control (next line)
        ("SOC 2026/\u202e321".encode(), "U+202E RIGHT-TO-LEFT OVERRIDE at position 10"),
        ("SOC \u2066x\u2069".encode(), "U+2066 LEFT-TO-RIGHT ISOLATE"),
        ("SOC\u20282026".encode(), "U+2028 LINE SEPARATOR"),
        ("SOC\u20292026".encode(), "U+2029 PARAGRAPH SEPARATOR"),
        ("SOC\u200b2026".encode(), "U+200B ZERO WIDTH SPACE"),
        ("\ufeffSOC 2026".encode(), "U+FEFF ZERO WIDTH NO-BREAK SPACE"),
        ("SOC\u00ad2026".encode(), "U+00AD SOFT HYPHEN"),
        ("SOC 2026\U000e0041".encode(), "U+E0041 TAG LATIN CAPITAL LETTER A"),
        ("SOC \ue000".encode(), "U+E000"),  # private use
    ],
)
async def test_a_case_reference_that_is_not_clean_utf8_text_is_refused(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool, reference: bytes, named: str
) -> None:
    response, request_id = await official.post(
        LOOKUP, {"p": family["mother"]}, **{"X-Case-Reference": reference}
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert (named or "not valid UTF-8") in error["message"]
    assert "Ek" not in response.text
    assert await logged(pool, request_id) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE access_request SET subject = 'someone-else'",
        "UPDATE access_person SET personnummer = NULL",
        "DELETE FROM access_request",
        "DELETE FROM access_person",
        "TRUNCATE access_request",
        "TRUNCATE access_person",
        "TRUNCATE access_request, access_person",
    ],
)
async def test_the_log_is_append_only_in_the_database(
    official: Caller, family: dict[str, str], clean_db: asyncpg.Pool, statement: str
) -> None:
    hidden = await factories.person(clean_db, last_name="Dold", protection="SEKRETESSMARKERING")
    # A record seen (kept in the request's row) and a protected hit (a row of its own).
    requests = [(await official.post(LOOKUP, {"p": p}))[1] for p in (family["mother"], hidden)]
    before = [await logged(clean_db, request_id) for request_id in requests]
    assert all(before)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
        await clean_db.execute(statement)
    assert [await logged(clean_db, request_id) for request_id in requests] == before


@pytest.fixture
async def strict_app(
    settings: Settings, pool: asyncpg.Pool, engine: str
) -> AsyncIterator[Starlette]:
    """The app as configured with a short access log timeout."""
    changes = {"access_log_timeout_seconds": 0.3, "engine": engine}
    yield create_app(settings.model_copy(update=changes), pool=pool)


async def test_no_person_data_leaves_when_the_log_cannot_be_written(
    api: Api, strict_app: Starlette, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    transport = httpx.ASGITransport(app=strict_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        caller = Caller(Api(client, api.settings))
        failures = "vastfolket_access_log_failures_total"
        before = (await client.get("/metrics")).text
        # Another session holds the log: writes wait, past the timeout.
        async with pool.acquire() as blocker, blocker.transaction():
            await blocker.execute("LOCK TABLE access_log IN ACCESS EXCLUSIVE MODE")
            response, request_id = await caller.post(LOOKUP, {"p": family["mother"]})
            assert response.status_code == 503
            body = response.json()
            assert body["errors"][0]["extensions"] == {
                "code": "AUDIT_UNAVAILABLE",
                "requestId": request_id,
            }
            assert "Ek" not in response.text and family["mother"] not in response.text
            # Answers that show no person need no log and still work.
            response, _ = await caller.post("{ viewer { tier } }")
            assert response.json() == {"data": {"viewer": {"tier": "RELATIONS"}}}
        assert await logged(pool, request_id) == []
        after = (await client.get("/metrics")).text
        assert counted(after, failures) == counted(before, failures) + 1
        response, request_id = await caller.post(LOOKUP, {"p": family["mother"]})
        assert response.json()["data"]["person"]["lastName"] == "Ek"
        assert len(await logged(pool, request_id)) == 3
        rows = "vastfolket_access_log_rows_total"
        assert counted((await client.get("/metrics")).text, rows) >= counted(after, rows) + 3


async def test_only_auditors_search_the_log(official: Caller, family: dict[str, str]) -> None:
    response, _ = await official.post(SEARCH_LOG, {"p": family["mother"]})
    body = response.json()
    assert body["data"] == {"accessLog": None}
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["errors"][0]["path"] == ["accessLog"]


async def test_auditors_find_who_saw_a_person_newest_first_and_their_search_is_logged(
    api: Api, official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    await official.post(LOOKUP, {"p": family["father"]}, **{"X-Case-Reference": "first"})
    await official.post(LOOKUP, {"p": family["father"]}, **{"X-Case-Reference": "second"})
    await official.post(LOOKUP, {"p": family["father"]}, **{"X-Case-Reference": "third"})
    auditor = Caller(api, Tier.BASIC, roles=["audit"], organisation="Revisionen")

    def page_of(response: httpx.Response) -> dict:
        body = response.json()
        assert "errors" not in body, body
        return dict(body["data"]["accessLog"])

    found = []
    after = None
    for _ in range(3):
        variables = {"p": family["father"][2:8] + "-" + family["father"][8:]}
        response, search_id = await auditor.post(
            SEARCH_LOG, {**variables, "subject": official.subject, "first": 1, "after": after}
        )
        page = page_of(response)
        found += [edge["node"] for edge in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert [entry["caseReference"] for entry in found] == ["third", "second", "first"]
    assert all(entry["personnummer"] == family["father"] for entry in found)
    assert found[0]["organisation"] == "Mölndals stad"
    assert found[0]["clientSystem"] == "socialtjänst-verksamhetssystem"
    assert (found[0]["kind"], found[0]["source"], found[0]["tier"]) == (
        "SEEN",
        "LOCAL",
        "RELATIONS",
    )
    assert found[0]["rootFields"] == ["person"] and found[0]["operationName"] == "Lookup"

    # The auditor's own searches are in the log too, with their criteria.
    response, _ = await auditor.post(SEARCH_LOG, {"subject": auditor.subject})
    searches = [edge["node"] for edge in page_of(response)["edges"]]
    assert [entry["kind"] for entry in searches] == ["AUDIT_SEARCH"] * 3
    assert searches[0]["criteria"] == {
        "personnummer": family["father"],
        "subject": official.subject,
    }
    assert searches[0]["organisation"] == "Revisionen"
    rows = await logged(pool, search_id)
    assert [(row["kind"], row["personnummer"]) for row in rows] == [
        ("AUDIT_SEARCH", family["father"])
    ]


@pytest.mark.parametrize(
    ("variables", "argument"),
    [
        ({"from": "2026-11-23T08:00:00"}, "from"),
        ({"p": "19800517-0000"}, "personnummer"),
        ({"after": "bm90LWEtY3Vyc29y"}, "after"),
        ({"first": 0}, "first"),
        ({"from": "0001-01-01T00:00:00+05:00"}, "from"),
        ({"subject": "a\u0000b"}, "subject"),
        ({"subject": "anna\u202eb"}, "subject"),
        ({"subject": ""}, "subject"),
        ({"organisation": "Mölndal\u2028"}, "organisation"),
        ({"organisation": "x" * 201}, "organisation"),
        ({"p": "１９８００５１７-２３８２"}, "personnummer"),
        ({"after": "YToxLu-8kQ=="}, "after"),
    ],
)
async def test_bad_log_criteria_are_clear_errors(api: Api, variables: dict, argument: str) -> None:
    auditor = Caller(api, roles=["audit"])
    query = """
    query ($p: String, $from: DateTime, $after: String, $first: Int = 10, $subject: String,
           $organisation: String) {
      accessLog(personnummer: $p, from: $from, after: $after, first: $first, subject: $subject,
                organisation: $organisation) {
        edges { node { personnummer } }
      }
    }
    """
    response, _ = await auditor.post(query, variables)
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["argument"] == argument


async def test_a_time_window_narrows_the_search(
    api: Api, official: Caller, family: dict[str, str]
) -> None:
    await official.post(LOOKUP, {"p": family["child"]})
    auditor = Caller(api, roles=["audit"])
    now = dt.datetime.now(dt.UTC)
    query = """
    query ($p: String, $from: DateTime, $to: DateTime) {
      accessLog(personnummer: $p, from: $from, to: $to) { edges { node { subject } } }
    }
    """
    windows = {
        "around now": (now - dt.timedelta(minutes=5), now + dt.timedelta(minutes=5)),
        "yesterday": (now - dt.timedelta(days=1, minutes=5), now - dt.timedelta(days=1)),
    }
    seen = {}
    for name, (start, end) in windows.items():
        variables = {"p": family["child"], "from": start.isoformat(), "to": end.isoformat()}
        response, _ = await auditor.post(query, variables)
        seen[name] = [
            edge["node"]["subject"] for edge in response.json()["data"]["accessLog"]["edges"]
        ]
    assert official.subject in seen["around now"]
    assert seen["yesterday"] == []


async def test_concurrent_requests_are_written_together_each_with_its_own_rows(
    api: Api, family: dict[str, str], pool: asyncpg.Pool, statement_log: StatementLog
) -> None:
    callers = [Caller(api, Tier.BASIC) for _ in range(6)]
    numbers = [family["mother"], family["father"], family["child"]] * 2
    async with pool.acquire() as blocker, blocker.transaction():
        # The first write waits for this lock; the others finish meanwhile and queue.
        await blocker.execute("LOCK TABLE access_person IN ACCESS EXCLUSIVE MODE")
        statement_log.clear()
        posted = [
            asyncio.create_task(caller.post(LOOKUP, {"p": number}))
            for caller, number in zip(callers, numbers, strict=True)
        ]
        await asyncio.sleep(0.5)
    answers = await asyncio.gather(*posted)
    writes = [sql for sql in statement_log.statements if "INSERT INTO access_person" in sql]
    assert len(writes) == 2  # the first request alone, then the five that queued behind it
    for caller, number, (response, request_id) in zip(callers, numbers, answers, strict=True):
        assert response.json()["data"]["person"]["lastName"] == "Ek"
        rows = await logged(pool, request_id)
        assert [(row["subject"], row["personnummer"]) for row in rows] == [(caller.subject, number)]


async def test_a_page_logs_its_persons_even_when_only_cursors_are_asked(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    query = """{ personsInRange(from: "19000101-0000", to: "20991231-9999", first: 2) {
        edges { cursor } pageInfo { endCursor } } }"""
    response, request_id = await official.post(query)
    assert len(response.json()["data"]["personsInRange"]["edges"]) == 2
    assert len(await logged(pool, request_id)) == 2


async def test_relatives_numbers_shown_without_their_records_are_logged(
    official: Caller, family: dict[str, str], pool: asyncpg.Pool
) -> None:
    query = """query ($p: String!) { person(personnummer: $p) {
        ... on Person { relations { kind personnummer } } } }"""
    response, request_id = await official.post(query, {"p": family["mother"]})
    assert len(response.json()["data"]["person"]["relations"]) == 2
    rows = await logged(pool, request_id)
    assert sorted(row["personnummer"] for row in rows) == sorted(family.values())


async def test_one_requests_bad_rows_do_not_cost_others_their_answers(
    official: Caller, pool: asyncpg.Pool
) -> None:
    writer = log_writer.AccessLogWriter(pool, timeout=2)
    viewer = Viewer(official.subject, Tier.BASIC)
    good, bad = access_log.AccessRecord(), access_log.AccessRecord()
    good.saw_number("198005172382")
    bad.saw_number("19800517")  # eight digits: refused before it reaches the table
    ids = [uuid.uuid4().hex for _ in range(4)]
    records = [good, bad, good, good]
    outcomes = await asyncio.gather(
        *(
            writer.write(access_log.Origin(viewer, None, "person", request_id, None), record)
            for request_id, record in zip(ids, records, strict=True)
        ),
        return_exceptions=True,
    )
    assert [isinstance(outcome, ValueError) for outcome in outcomes] == [
        False, True, False, False
    ]  # fmt: skip
    assert [len(await logged(pool, request_id)) for request_id in ids] == [1, 0, 1, 1]


async def test_auditors_page_through_one_requests_persons_and_attempts_one_by_one(
    api: Api, official: Caller, family: dict[str, str], clean_db: asyncpg.Pool
) -> None:
    hidden = await factories.person(clean_db, last_name="Dold", protection="SEKRETESSMARKERING")
    query = """query ($p: String!) {
        personsInRange(from: "19000101-0000", to: "20991231-9999", first: 10) {
            edges { node { personnummer } } }
        person(personnummer: $p) { __typename } }"""
    response, request_id = await official.post(query, {"p": hidden})
    assert response.json()["data"]["person"]["__typename"] == "ProtectedPerson"
    auditor = Caller(api, roles=["audit"])

    entries, after, more = [], None, True
    while more:
        response, _ = await auditor.post(
            SEARCH_LOG, {"subject": official.subject, "first": 1, "after": after}
        )
        page = response.json()["data"]["accessLog"]
        entries += [(edge["node"]["personnummer"], edge["node"]["kind"]) for edge in page["edges"]]
        after, more = page["pageInfo"]["endCursor"], page["pageInfo"]["hasNextPage"]
    # The attempt came after the page's persons; newest first, each entry once.
    assert entries[0] == (hidden, "PROTECTED")
    assert sorted(entries[1:]) == sorted((number, "SEEN") for number in family.values())

    # The official's own entries: the factories' numbers come round again in a long run,
    # and the log keeps what earlier tests' requests saw under them.
    mine = {"subject": official.subject}
    response, _ = await auditor.post(SEARCH_LOG, {"p": hidden, **mine})
    found = [edge["node"] for edge in response.json()["data"]["accessLog"]["edges"]]
    assert [(entry["kind"], entry["requestId"]) for entry in found] == [("PROTECTED", request_id)]
    response, _ = await auditor.post(SEARCH_LOG, {"p": family["child"], **mine})
    found = [edge["node"] for edge in response.json()["data"]["accessLog"]["edges"]]
    assert [(entry["kind"], entry["requestId"]) for entry in found] == [("SEEN", request_id)]


@pytest.mark.parametrize("seen", ["{19800517}", "{198005172382,NULL}", "{-198005172382}"])
async def test_the_table_refuses_arrays_that_are_not_personnummer(
    pool: asyncpg.Pool, seen: str
) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute(
            "INSERT INTO access_request (subject, tier, root_fields, request_id, seen) "
            "VALUES ('someone', 'BASIC', 'person', 'r-refused', $1::text::bigint[])",
            seen,
        )
