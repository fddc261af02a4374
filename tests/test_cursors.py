"""Cursors are input: a forged one is a clear BAD_USER_INPUT, never an internal error."""

from __future__ import annotations

import base64

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api

FIELDS = {
    "interval": """query ($after: String) {
        personsInRange(from: "19000101-0000", to: "20991231-9999", first: 1, after: $after) {
          edges { node { lastName } } pageInfo { endCursor } } }""",
    "search": """query ($after: String) {
        searchPersons(lastName: "Cursorsson", first: 1, after: $after) {
          edges { node { lastName } } pageInfo { endCursor } } }""",
    "log": """query ($after: String) {
        accessLog(first: 1, after: $after) {
          edges { node { kind } } pageInfo { endCursor } } }""",
}
ROOT = {"interval": "personsInRange", "search": "searchPersons", "log": "accessLog"}
KIND = {"interval": "r", "search": "s", "log": "a"}


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


# Per list: positions of the right kind that no page of it ever ends with.
FORGED = {
    "interval": [
        "１９８００５１７２３８２",  # fullwidth digits, twelve of them
        "19800517238٢",
        "1980051723820",  # thirteen digits
        "-19800517238",
        "+19800517238",
        " 19800517238",
        "1980_0517238",
    ],
    "search": [
        "１",
        "²",
        "٣",
        "-1",
        "+1",
        " 1",
        "1_0",
        "01",
        "99999999999999999999",
        "9" * 5000,
        "1.5",
        "1e3",
        "21",  # above the most matches a search may have (20)
    ],
    "log": [
        "１.１",
        "1.١",
        "².1",
        "-1.1",
        "1.-1",
        "0.1",
        "1.0",
        "1",
        "1.",
        ".1",
        "1.1.1",
        "9223372036854775807.1",
        "1.9223372036854775807",
        "99999999999999999999.1",
        "01.1",
        "1_0.1",
        " 1.1",
    ],
}
# Shapes that are no cursor of any list.
JUNK = [
    "%%%",  # not base64
    "czox",  # 's:1': a name search's cursor (refused by the other lists)
    "czoxMA",  # 's:10' without its padding
    "czoxMA=",
    "cz+xMA==",  # the standard alphabet's '+' where the URL-safe one has '-'
    "czox\n",
    "ｃｚｏｘ",
    base64.urlsafe_b64encode(b"\xff\xfe\x00junk").decode(),
    base64.urlsafe_b64encode(b"s:\xc3\xa5").decode(),  # valid UTF-8, not ASCII
    cursor(""),
    cursor(":"),
    cursor("r"),
    cursor("x:1"),
]


async def ask(api: Api, name: str, after: str | None) -> dict:
    token = api.token(Tier.BASIC, roles=["audit"]) if name == "log" else api.token()
    response = await api.client.post(
        "/graphql",
        json={"query": FIELDS[name], "variables": {"after": after}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def refused(body: dict) -> None:
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}, error
    assert "`after` is not a cursor from this list" in error["message"]
    assert body["data"] is None or set(body["data"].values()) == {None}


async def test_real_cursors_still_page(api: Api, clean_db: asyncpg.Pool) -> None:
    for _ in range(3):
        await factories.person(clean_db, last_name="Cursorsson")
    for name in FIELDS:
        first = await ask(api, name, None)
        end = first["data"][ROOT[name]]["pageInfo"]["endCursor"]
        second = await ask(api, name, end)
        assert "errors" not in second, second
        assert second["data"][ROOT[name]]["edges"]


@pytest.mark.parametrize(
    ("name", "position"),
    [(name, position) for name, positions in FORGED.items() for position in positions],
)
async def test_a_forged_position_is_refused(
    api: Api, clean_db: asyncpg.Pool, name: str, position: str
) -> None:
    refused(await ask(api, name, cursor(f"{KIND[name]}:{position}")))


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("junk", JUNK)
async def test_junk_is_refused(api: Api, clean_db: asyncpg.Pool, name: str, junk: str) -> None:
    if name == "search" and junk == "czox":  # 's:1' is a search cursor: the second match
        return
    refused(await ask(api, name, junk))


async def test_another_lists_cursor_is_refused(api: Api, clean_db: asyncpg.Pool) -> None:
    for _ in range(3):
        await factories.person(clean_db, last_name="Cursorsson")
    await ask(api, "interval", None)  # so that the log has an entry
    ends = {}
    for name in FIELDS:
        ends[name] = (await ask(api, name, None))["data"][ROOT[name]]["pageInfo"]["endCursor"]
    for name in FIELDS:
        for other, end in ends.items():
            if other != name:
                refused(await ask(api, name, end))


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    name=st.sampled_from(list(FIELDS)),
    raw=st.one_of(
        st.binary(max_size=40).map(lambda data: base64.urlsafe_b64encode(data).decode()),
        st.text(max_size=30),
        st.sampled_from("rsa").flatmap(
            lambda kind: st.text(max_size=25).map(lambda rest: cursor(f"{kind}:{rest}"))
        ),
    ),
)
async def test_no_cursor_text_is_an_internal_error(
    api: Api, clean_db: asyncpg.Pool, name: str, raw: str
) -> None:
    body = await ask(api, name, raw)
    for error in body.get("errors", []):
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
