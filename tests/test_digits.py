"""Numbers are read in ASCII digits only, through every way in.

A personnummer in another script's digits (fullwidth, Arabic-Indic, …) is another text
for the same person: it would miss the register and its protection check, be sent to
Skatteverket (a new billable call for each variant, past the cache) and then be refused
by the access log. Calls are counted at the simulator: "never sent" means no HTTP
request arrived there.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import AsyncIterator

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.settings import Settings
from resolvers.dev.skatteverket import sim_data
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from tests import factories
from tests.conftest import Api
from tests.test_personnummer import UNICODE_DIGITS, in_script
from tests.test_skatteverket import LOOKUP, fallback_settings, serving
from tests.upstream import Upstream


@pytest.fixture
async def api(
    settings: Settings, clean_db: asyncpg.Pool, upstream: Upstream, engine: str
) -> AsyncIterator[Api]:
    async for api in serving(fallback_settings(settings, upstream.url, engine=engine), clean_db):
        yield api


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RANGE = """
query ($from: String!, $to: String!) {
  personsInRange(from: $from, to: $to) { edges { node { personnummer lastName } } }
}
"""
LOG = """
query ($p: String) { accessLog(personnummer: $p) { edges { node { personnummer } } } }
"""


@pytest.fixture
async def numbers(clean_db: asyncpg.Pool, upstream: Upstream) -> dict[str, str]:
    """Numbers Skatteverket knows; the first is also in the register, protected there."""
    protected = upstream.number(sim_data.OUTSIDE_REGION, 1)
    await factories.person(
        clean_db, personnummer=protected, last_name="Hemligsson", protection="SEKRETESSMARKERING"
    )
    return {
        "locally protected": protected,
        "at Skatteverket": upstream.number(sim_data.OUTSIDE_REGION, 2),
        "samordningsnummer": upstream.number(sim_data.COORDINATION),
        "protected at Skatteverket": upstream.number(sim_data.PROTECTED),
    }


def refused(body: dict, argument: str, digit: str) -> None:
    assert body["data"] is None or set(body["data"].values()) == {None}, body
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert f"U+{ord(digit):04X} {unicodedata.name(digit)}" in error["message"]
    assert "Hemligsson" not in str(body)


@PROPERTY
@given(
    digit=st.sampled_from(UNICODE_DIGITS),
    kind=st.sampled_from(
        ["locally protected", "at Skatteverket", "samordningsnummer", "protected at Skatteverket"]
    ),
    form=st.sampled_from(["digits", "long", "short"]),
    everywhere=st.booleans(),
)
async def test_numbers_in_other_scripts_are_refused_and_never_sent_upstream(
    api: Api,
    upstream: Upstream,
    numbers: dict[str, str],
    digit: str,
    kind: str,
    form: str,
    everywhere: bool,
) -> None:
    number = Personnummer(numbers[kind])
    text = {"digits": number.digits, "long": number.long, "short": number.short()}[form]
    # The whole number in the digit's script, or only its last digit.
    foreign = in_script(text, digit) if everywhere else text[:-1] + in_script(text[-1], digit)
    shown = foreign[0] if everywhere else foreign[-1]

    refused(await api.query(LOOKUP, {"pnr": foreign}), "personnummer", shown)
    refused(await api.query(RANGE, {"from": foreign, "to": number.digits}), "from", shown)
    audit = {"Authorization": f"Bearer {api.token(Tier.BASIC, roles=['audit'])}"}
    response = await api.client.post(
        "/graphql", json={"query": LOG, "variables": {"p": foreign}}, headers=audit
    )
    assert response.status_code == 200, response.text
    refused(response.json(), "personnummer", shown)
    assert upstream.calls() == 0


async def test_the_same_numbers_in_ascii_digits_are_answered(
    api: Api,
    upstream: Upstream,
    numbers: dict[str, str],
) -> None:
    """The property above is not vacuous: written in 0-9, each number is looked up."""
    found = [(await api.query(LOOKUP, {"pnr": pnr}))["data"]["person"] for pnr in numbers.values()]
    assert [person["__typename"] for person in found] == [
        "ProtectedPerson", "Person", "Person", "ProtectedPerson",
    ]  # fmt: skip
    assert upstream.calls() == 3  # the locally protected person is never sent


def test_the_simulator_takes_only_ascii_digits(upstream: Upstream) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION)
    assert upstream.http.get(f"/personer/{pnr}").status_code == 200
    for digit in ("１", "٣", "߁", "𝟗"):
        response = upstream.http.get(f"/personer/{in_script(pnr, digit)}")
        assert response.status_code == 400, response.text
    assert upstream.calls(pnr) == 1


async def test_pasted_separators_find_the_person(
    api: Api,
    clean_db: asyncpg.Pool,
) -> None:
    pnr = await factories.person(clean_db, born=dt.date(1980, 5, 17), last_name="Klistrad")
    short = Personnummer(pnr).short()
    for separator in ("\u2013", "\u2014", "\u2212", "\u2011", "\u00a0", "\u202f"):
        body = await api.query(LOOKUP, {"pnr": short.replace("-", separator)})
        assert body["data"]["person"]["lastName"] == "Klistrad", (separator, body)
