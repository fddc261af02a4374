"""The Skatteverket fallback, against the simulator served over real HTTP.

The simulator runs as a uvicorn server on a thread of its own; the API calls it with
its real client. Calls are counted at the simulator, so "no upstream call" means no
HTTP request arrived there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from resolvers.dev.skatteverket import sim_data
from resolvers.dev.skatteverket.simulator import RunningSimulator, Simulator, Tls
from resolvers.domain.access import Tier
from resolvers.domain.personnummer import Personnummer
from tests import factories
from tests.certificates import make_certificates
from tests.conftest import Api, counted
from tests.running import free_port
from tests.upstream import Upstream

TIMEOUT = 1.5  # the client's deadline in these tests: a loaded CI host once took over 0.5 s
MARGIN = 0.4  # what a failed lookup may take beyond it
COOLDOWN = 0.6
THRESHOLD = 3

LOOKUP = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    __typename
    ... on Person {
      personnummer isCoordinationNumber firstNames givenName lastName status source fetchedAt
      registeredAddress { postalTown municipalityCode }
      foreignAddress { country }
      mailingAddress { kind lines }
    }
    ... on ProtectedPerson { personnummer notice }
    ... on PersonNotFound { personnummer message }
  }
}
"""
EXTENDED_FIELDS = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    ... on Person { lastName source movedInDate keyCode civilStatus { code since }
                    deregistration { code date } }
  }
}
"""
RELATIONS_FIELDS = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    ... on Person { lastName relations { kind } spouse { kind } children { kind }
                    guardians { kind } wards { kind } }
  }
}
"""


@pytest.fixture
def settings(settings: Settings, engine: str) -> Settings:
    """The session's settings, on the engine under test."""
    return settings.model_copy(update={"engine": engine})


def fallback_settings(settings: Settings, url: str, **changes: object) -> Settings:
    return settings.model_copy(
        update={
            "skatteverket_url": url,
            "skatteverket_timeout_seconds": TIMEOUT,
            "skatteverket_failure_threshold": THRESHOLD,
            "skatteverket_cooldown_seconds": COOLDOWN,
            **changes,
        }
    )


async def serving(settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[Api]:
    """The real app, started (its lifespan makes the client) and called over ASGI."""
    app = create_app(settings, pool=pool)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Api(client, settings)


@pytest.fixture
async def api(settings: Settings, clean_db: asyncpg.Pool, upstream: Upstream) -> AsyncIterator[Api]:
    async for api in serving(fallback_settings(settings, upstream.url), clean_db):
        yield api


async def person(api: Api, pnr: str, tier: Tier = Tier.BASIC) -> dict:
    body = await api.query(LOOKUP, {"pnr": pnr}, tier=tier)
    assert "errors" not in body, body
    return dict(body["data"]["person"])


async def unavailable(api: Api, pnr: str) -> tuple[dict, float]:
    """A lookup that must fail upstream: its one error, and how long it took."""
    started = time.monotonic()
    body = await api.query(LOOKUP, {"pnr": pnr})
    elapsed = time.monotonic() - started
    assert body["data"] == {"person": None}, body
    [error] = body["errors"]
    assert error["path"] == ["person"]
    assert error["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"
    return error, elapsed


async def test_person_registered_elsewhere_is_found_at_skatteverket(
    api: Api, upstream: Upstream
) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION)
    expected = upstream.persons[pnr]
    before = dt.datetime.now(dt.UTC)
    found = await person(api, Personnummer(pnr).short())
    assert found["__typename"] == "Person"
    assert found["personnummer"] == pnr
    assert found["source"] == "SKATTEVERKET"
    assert (found["firstNames"], found["lastName"]) == (expected.first_names, expected.last_name)
    assert found["status"] == "REGISTERED"
    assert found["registeredAddress"]["municipalityCode"][:2] != "14"  # not Västra Götaland
    assert found["mailingAddress"]["kind"] == "REGISTERED"
    fetched = dt.datetime.fromisoformat(found["fetchedAt"])
    assert before - dt.timedelta(seconds=1) <= fetched <= dt.datetime.now(dt.UTC)
    assert upstream.calls(pnr) == 1


async def test_local_person_has_no_fetch_time_and_costs_no_call(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    pnr = await factories.person(clean_db, last_name="Lokal")
    found = await person(api, pnr)
    assert (found["source"], found["fetchedAt"], found["lastName"]) == ("LOCAL", None, "Lokal")
    assert upstream.calls() == 0


async def test_unknown_number_is_not_found_at_skatteverket_either(
    api: Api, upstream: Upstream
) -> None:
    pnr = factories.number(dt.date(1991, 9, 9))
    found = await person(api, pnr)
    assert found["__typename"] == "PersonNotFound"
    assert "Skatteverket" in found["message"]
    assert upstream.calls(pnr) == 1


@pytest.mark.parametrize("kind", [sim_data.PROTECTED, sim_data.PROTECTED_COORDINATION])
async def test_person_protected_at_skatteverket_is_only_a_notice(
    api: Api, upstream: Upstream, kind: str
) -> None:
    pnr = upstream.number(kind)
    body = await api.query(
        RELATIONS_FIELDS.replace("lastName", "lastName firstNames"), {"pnr": pnr}
    )
    assert body == {"data": {"person": {}}}  # not a Person: no field of one answers
    found = await person(api, pnr, Tier.RELATIONS)
    assert found == {
        "__typename": "ProtectedPerson",
        "personnummer": pnr,
        "notice": found["notice"],
    }
    assert "skyddade" in found["notice"]


async def test_coordination_number_is_answered_by_skatteverket_not_the_local_copy(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    pnr = upstream.number(sim_data.COORDINATION)
    await factories.person(clean_db, personnummer=pnr, last_name="Lokalkopia")
    found = await person(api, pnr)
    assert found["isCoordinationNumber"] is True
    assert found["source"] == "SKATTEVERKET"
    assert found["lastName"] == upstream.persons[pnr].last_name != "Lokalkopia"
    assert found["registeredAddress"] is None  # never registered as a resident
    assert found["foreignAddress"]["country"]
    assert upstream.calls(pnr) == 1


async def test_coordination_numbers_are_never_listed(api: Api, upstream: Upstream) -> None:
    pnr = upstream.number(sim_data.COORDINATION)
    body = await api.query(
        "query ($p: String!) { personsInRange(from: $p, to: $p) { edges { node { lastName } } } }",
        {"p": pnr},
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert upstream.calls() == 0


async def test_locally_protected_persons_are_never_sent_upstream(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    """Not even a samordningsnummer: the protection in the register is checked first."""
    numbers = [
        upstream.number(sim_data.OUTSIDE_REGION, 1),
        upstream.number(sim_data.COORDINATION, 1),
    ]
    for pnr in numbers:
        await factories.person(clean_db, personnummer=pnr, protection="SKYDDAD_FOLKBOKFORING")
        found = await person(api, pnr, Tier.RELATIONS)
        assert found["__typename"] == "ProtectedPerson"
    assert upstream.calls() == 0


async def test_second_lookup_is_answered_from_the_cache(api: Api, upstream: Upstream) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION, 2)
    first = await person(api, pnr)
    again = await person(api, pnr)
    assert again == first  # fetchedAt included: the answer is the one fetched first
    assert upstream.calls(pnr) == 1
    not_there = factories.number(dt.date(1990, 2, 2))
    for _ in range(2):
        assert (await person(api, not_there))["__typename"] == "PersonNotFound"
    assert upstream.calls(not_there) == 1


async def test_tiers_apply_to_skatteverket_persons(api: Api, upstream: Upstream) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION, 3)
    expected = upstream.persons[pnr]
    assert expected.civil_status is not None and expected.moved_in_date is not None

    basic = await api.query(EXTENDED_FIELDS, {"pnr": pnr}, tier=Tier.BASIC)
    assert basic["data"]["person"] == {
        "lastName": expected.last_name, "source": "SKATTEVERKET", "movedInDate": None,
        "keyCode": None, "civilStatus": None, "deregistration": None,
    }  # fmt: skip
    forbidden = {tuple(e["path"]) for e in basic["errors"]}
    assert forbidden == {("person", f) for f in ("movedInDate", "keyCode", "civilStatus",
                                                   "deregistration")}  # fmt: skip
    assert {e["extensions"]["code"] for e in basic["errors"]} == {"FORBIDDEN"}

    extended = await api.query(EXTENDED_FIELDS, {"pnr": pnr}, tier=Tier.EXTENDED)
    assert "errors" not in extended
    shown = extended["data"]["person"]
    assert shown["movedInDate"] == expected.moved_in_date.isoformat()
    assert shown["civilStatus"]["code"] == expected.civil_status.code
    assert shown["keyCode"] is None  # a municipality's own code: Skatteverket has none

    related = await api.query(RELATIONS_FIELDS, {"pnr": pnr}, tier=Tier.EXTENDED)
    assert {tuple(e["path"]) for e in related["errors"]} == {
        ("person", f) for f in ("relations", "spouse", "children", "guardians", "wards")
    }
    full = await api.query(RELATIONS_FIELDS, {"pnr": pnr}, tier=Tier.RELATIONS)
    assert full == {
        "data": {
            "person": {
                "lastName": expected.last_name, "relations": [], "spouse": None,
                "children": [], "guardians": [], "wards": [],
            }
        }
    }  # fmt: skip
    assert upstream.calls(pnr) == 1  # one call served every tier


async def test_deregistered_persons_keep_their_status(api: Api, upstream: Upstream) -> None:
    emigrated = await person(api, upstream.number(sim_data.EMIGRATED))
    assert emigrated["status"] == "EMIGRATED"
    assert emigrated["mailingAddress"]["kind"] == "FOREIGN"
    assert (await person(api, upstream.number(sim_data.DECEASED)))["status"] == "DECEASED"
    annulled = await person(api, upstream.number(sim_data.ANNULLED))
    assert annulled["status"] == "DEREGISTERED"


async def test_coordination_number_holder_is_not_registered(api: Api, upstream: Upstream) -> None:
    """Not folkbokförd, and never was: REGISTERED would say otherwise."""
    for index in range(3):
        found = await person(api, upstream.number(sim_data.COORDINATION, index))
        assert (found["isCoordinationNumber"], found["status"]) == (True, "COORDINATION_NUMBER")


async def test_deceased_person_from_skatteverket_has_no_mailing_address(
    api: Api, upstream: Upstream
) -> None:
    """The same rule as for the register's own: no letters to the dead, addresses shown."""
    pnr = upstream.number(sim_data.DECEASED)
    registered = upstream.persons[pnr].registered_address
    assert registered is not None
    found = await person(api, pnr)
    assert found["status"] == "DECEASED"
    assert found["registeredAddress"]["postalTown"] == registered.postal_town
    assert found["mailingAddress"] is None


async def test_slow_skatteverket_fails_the_lookup_in_time_and_nothing_else(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    local = await factories.person(clean_db, last_name="Lokal")
    upstream.knobs(latency_ms=3000)
    slow = unavailable(api, upstream.number(sim_data.OUTSIDE_REGION, 4))

    async def local_lookup() -> tuple[dict, float]:
        await asyncio.sleep(0.05)  # while the fallback is waiting
        started = time.monotonic()
        return await person(api, local), time.monotonic() - started

    (error, elapsed), (found, local_elapsed) = await asyncio.gather(slow, local_lookup())
    assert TIMEOUT <= elapsed < TIMEOUT + MARGIN
    assert "Skatteverket" in error["message"]
    assert found["lastName"] == "Lokal"
    assert local_elapsed < TIMEOUT


async def test_unanswered_lookup_times_out(api: Api, upstream: Upstream) -> None:
    upstream.knobs(timeout_rate=1, hang_seconds=5)
    pnr = upstream.number(sim_data.COORDINATION, 2)
    _, elapsed = await unavailable(api, pnr)
    assert elapsed < TIMEOUT + MARGIN
    assert upstream.calls(pnr) == 1  # a timeout is not retried: the deadline is spent


async def test_failing_skatteverket_opens_the_circuit_then_recovers(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION, 5)
    upstream.knobs(error_rate=1)
    for _ in range(THRESHOLD):
        await unavailable(api, pnr)
    assert upstream.calls(pnr) == THRESHOLD  # an error answer is not retried

    # Open: refused at once, without a call, saying when to try again.
    error, elapsed = await unavailable(api, pnr)
    assert elapsed < TIMEOUT / 2
    assert 0 < error["extensions"]["retryAfterSeconds"] <= COOLDOWN
    assert upstream.calls(pnr) == THRESHOLD
    local = await factories.person(clean_db)
    assert (await person(api, local))["source"] == "LOCAL"  # the register still answers

    # After the cool-down one trial goes through; it succeeds and the circuit closes.
    upstream.knobs(error_rate=0)
    await asyncio.sleep(COOLDOWN)
    assert (await person(api, pnr))["source"] == "SKATTEVERKET"
    other = upstream.number(sim_data.OUTSIDE_REGION, 6)
    assert (await person(api, other))["source"] == "SKATTEVERKET"
    assert upstream.calls() == THRESHOLD + 2


async def test_failed_trial_reopens_the_circuit(api: Api, upstream: Upstream) -> None:
    pnr = upstream.number(sim_data.OUTSIDE_REGION, 7)
    upstream.knobs(error_rate=1)
    for _ in range(THRESHOLD):
        await unavailable(api, pnr)
    await asyncio.sleep(COOLDOWN)
    await unavailable(api, pnr)  # the trial call fails…
    assert upstream.calls(pnr) == THRESHOLD + 1
    await unavailable(api, pnr)  # …so the next lookup is refused without a call
    assert upstream.calls(pnr) == THRESHOLD + 1


async def test_unreachable_skatteverket_is_unavailable_not_an_internal_error(
    settings: Settings, clean_db: asyncpg.Pool
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async for api in serving(fallback_settings(settings, nowhere), clean_db):
        error, elapsed = await unavailable(api, factories.number(dt.date(1985, 1, 1)))
        assert "connect" in error["message"]
        assert elapsed < TIMEOUT


async def test_an_unreachable_skatteverket_is_logged_in_one_line_per_lookup(
    settings: Settings, clean_db: asyncpg.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async for api in serving(fallback_settings(settings, nowhere), clean_db):
        with caplog.at_level(logging.INFO, logger="vastfolket"):
            await unavailable(api, factories.number(dt.date(1985, 1, 1)))
    [line] = [r for r in caplog.records if r.name == "vastfolket.skatteverket"]
    assert line.levelname == "WARNING" and line.exc_info is None
    assert "connection_error" in line.getMessage() and "ConnectError" in line.getMessage()


async def test_without_skatteverket_a_missing_person_is_simply_not_found(
    settings: Settings, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    async for api in serving(settings, clean_db):
        found = await person(api, upstream.number(sim_data.OUTSIDE_REGION))
        assert found["__typename"] == "PersonNotFound"
        coordination = await person(api, upstream.number(sim_data.COORDINATION))
        assert "not connected" in coordination["message"]
    assert upstream.calls() == 0


async def test_every_upstream_call_is_counted_in_the_metrics(api: Api, upstream: Upstream) -> None:
    found = 'vastfolket_skatteverket_calls_total{outcome="found"}'
    hits = 'vastfolket_skatteverket_skipped_total{reason="cache_hit"}'
    before = (await api.client.get("/metrics")).text
    pnr = upstream.number(sim_data.OUTSIDE_REGION, 8)
    await person(api, pnr)
    await person(api, pnr)
    response = await api.client.get("/metrics")  # no token needed
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert counted(response.text, found) == counted(before, found) + 1
    assert counted(response.text, hits) == counted(before, hits) + 1


async def test_mutual_tls_presents_the_client_certificate(
    settings: Settings, clean_db: asyncpg.Pool, tmp_path: Path
) -> None:
    """A simulator that demands client certificates answers only a client that has one."""
    certificates = make_certificates(tmp_path)
    tls = Tls(str(certificates.server_cert), str(certificates.server_key), str(certificates.ca))
    with RunningSimulator(Simulator(), tls=tls) as secured:
        pnr = secured.simulator.register.examples[sim_data.COORDINATION][0]
        with_certificate = fallback_settings(
            settings, secured.url,
            skatteverket_client_cert=certificates.client_cert,
            skatteverket_client_key=certificates.client_key,
            skatteverket_ca_bundle=certificates.ca,
        )  # fmt: skip
        async for api in serving(with_certificate, clean_db):
            assert (await person(api, pnr))["source"] == "SKATTEVERKET"
        without = fallback_settings(settings, secured.url, skatteverket_ca_bundle=certificates.ca)
        async for api in serving(without, clean_db):
            await unavailable(api, pnr)
        assert secured.simulator.calls[pnr] == 1


async def test_upstream_answers_are_in_the_access_log_with_their_source(
    api: Api, clean_db: asyncpg.Pool, upstream: Upstream
) -> None:
    found = upstream.number(sim_data.COORDINATION, 2)
    protected = upstream.number(sim_data.PROTECTED)
    missing = factories.number(dt.date(1992, 3, 3))
    local = await factories.person(clean_db, last_name="Lokal")
    run = uuid.uuid4().hex[:8]  # the log keeps earlier runs' rows: this run's ids are its own
    for pnr in (found, protected, missing, local):
        response = await api.client.post(
            "/graphql",
            json={"query": LOOKUP, "variables": {"pnr": pnr}},
            headers={
                "Authorization": f"Bearer {api.token(Tier.BASIC)}",
                "X-Request-ID": f"upstream-{run}-{pnr}",
            },
        )
        assert response.status_code == 200
    rows = await clean_db.fetch(
        "SELECT request_id, personnummer, kind, source FROM access_log "
        "WHERE request_id = ANY($1::text[]) ORDER BY request, id",
        [f"upstream-{run}-{pnr}" for pnr in (found, protected, missing, local)],
    )
    assert [tuple(row) for row in rows] == [
        (f"upstream-{run}-{found}", found, "SEEN", "SKATTEVERKET"),
        (f"upstream-{run}-{protected}", protected, "PROTECTED", "SKATTEVERKET"),
        (f"upstream-{run}-{missing}", missing, "NOT_FOUND", "SKATTEVERKET"),
        (f"upstream-{run}-{local}", local, "SEEN", "LOCAL"),
    ]
