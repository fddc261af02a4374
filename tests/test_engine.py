"""The engine asks the schema's declarations, on both paths: who may read a field, what a
type discloses; and a compiled reader that fails is counted.

A small schema of its own (parking permits, each showing its holder's personnummer)
stands for a type added later, served by the real app on each engine.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import asyncpg
import httpx
import pytest
import strawberry
from strawberry.permission import PermissionExtension

from api.app import create_app
from api.settings import Settings
from resolvers.audit.access_log import AccessRecord
from resolvers.domain.access import Tier, Viewer
from schema.context import Limits
from schema.directives import Gate, TierPermission
from schema.engine import Engine, UndeclaredDisclosure, discloses
from tests import factories
from tests.conftest import Api, counted
from tests.test_access_log import Caller

OWN_ORGANISATION = "Västfolket"


class OwnOrganisation(TierPermission):
    """A condition beside the tier: what a later rule might add to a permission."""

    def allows(self, viewer: Viewer) -> bool:
        return super().allows(viewer) and viewer.organisation == OWN_ORGANISATION


class PermitRow(NamedTuple):
    holder: str
    zone: str
    fee: int
    co_holder: PermitRow | None = None

    @property
    def checked_zone(self) -> str:
        if self.zone == "broken":
            raise ValueError("a derived value that fails: a defect")
        return self.zone


def _note_permit(record: AccessRecord, permit: PermitRow) -> None:
    record.saw_number(permit.holder)


@discloses(_note_permit)
@strawberry.type(description="Boendeparkering — a parking permit; shows its holder's number.")
class Permit:
    holder: str = strawberry.field(description="The holder's personnummer.")
    zone: str = strawberry.field(description="The zone it is valid in.")
    checked_zone: str | None = strawberry.field(description="The zone, checked.")
    fee: int | None = strawberry.field(
        description="Yearly fee; for the register's own officials only.",
        extensions=[PermissionExtension([OwnOrganisation(Tier.BASIC)])],
    )
    co_holder: Permit | None = strawberry.field(description="A second holder's permit.")


PERMITS: list[PermitRow] = []


@strawberry.type(description="Parking permits.")
class PermitQuery:
    @strawberry.field(description="Every permit.")
    def permits(self) -> list[Permit]:
        return PERMITS  # type: ignore[return-value]  # rows are read as permits


SCHEMA = strawberry.Schema(query=PermitQuery)


@pytest.fixture
def permits() -> list[PermitRow]:
    first, second, third = (factories.number() for _ in range(3))
    PERMITS[:] = [
        PermitRow(first, "A", 700, co_holder=PermitRow(second, "A", 0)),
        PermitRow(third, "B", 350),
    ]
    return PERMITS


async def serving(settings: Settings, pool: asyncpg.Pool, engine: str) -> AsyncIterator[Api]:
    app = create_app(settings.model_copy(update={"engine": engine}), pool=pool, schema=SCHEMA)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Api(client, settings)


@pytest.fixture
async def api(settings: Settings, clean_db: asyncpg.Pool, engine: str) -> AsyncIterator[Api]:
    async for api in serving(settings, clean_db, engine):
        yield api


async def seen(pool: asyncpg.Pool, request_id: str) -> list[str]:
    numbers = await pool.fetchval(
        "SELECT seen FROM access_request WHERE request_id = $1", request_id
    )
    return sorted(str(number) for number in numbers or [])


async def test_a_new_type_that_shows_a_number_is_logged_by_both_engines(
    api: Api, clean_db: asyncpg.Pool, permits: list[PermitRow]
) -> None:
    # Permits are completed on graphql-core's path (below a resolver) and, the co-holder,
    # inside a compiled reader: each is in the log.
    caller = Caller(api, Tier.BASIC)
    query = "{ permits { holder zone coHolder { holder zone } } }"
    response, request_id = await caller.post(query)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["permits"][0]["coHolder"]["zone"] == "A"
    assert await seen(clean_db, request_id) == sorted(
        [permits[0].holder, permits[0].co_holder.holder, permits[1].holder]  # type: ignore[union-attr]
    )


async def test_a_condition_in_a_permission_holds_on_both_engines(
    api: Api, permits: list[PermitRow]
) -> None:
    query = "{ permits { zone fee } }"
    outsider = Caller(api, Tier.RELATIONS, organisation="Mölndals stad")
    body = (await outsider.post(query))[0].json()
    assert [permit["fee"] for permit in body["data"]["permits"]] == [None, None]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
    insider = Caller(api, Tier.BASIC, organisation=OWN_ORGANISATION)
    body = (await insider.post(query))[0].json()
    assert body == {"data": {"permits": [{"zone": "A", "fee": 700}, {"zone": "B", "fee": 350}]}}


def test_a_permission_may_not_decide_outside_allows() -> None:
    with pytest.raises(TypeError, match="allows"):

        class Sneaky(Gate):
            def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
                return source is not None


@strawberry.type(description="A type added without saying what it discloses.")
class Undeclared:
    personnummer: str = strawberry.field(description="Someone's number.")


@strawberry.type(description="Root.")
class UndeclaredQuery:
    @strawberry.field(description="One.")
    def one(self) -> Undeclared:
        return Undeclared(personnummer="191212121212")


def test_a_type_showing_a_personnummer_must_declare_what_it_discloses() -> None:
    with pytest.raises(UndeclaredDisclosure, match="Undeclared shows a personnummer"):
        Engine(strawberry.Schema(query=UndeclaredQuery), Limits())


@pytest.fixture
async def fast_api(settings: Settings, clean_db: asyncpg.Pool) -> AsyncIterator[Api]:
    async for api in serving(settings, clean_db, "fast"):  # compiled readers are its own
        yield api


async def test_a_failing_compiled_reader_is_counted_and_logged(
    fast_api: Api, permits: list[PermitRow], caplog: pytest.LogCaptureFixture
) -> None:
    permits.append(PermitRow(factories.number(), "broken", 0))
    sample = 'vastfolket_compiled_reader_failures_total{reason="error",type="Permit"}'
    before = counted((await fast_api.client.get("/metrics")).text, sample)
    with caplog.at_level(logging.DEBUG, logger="vastfolket.engine"):
        body = await fast_api.query("{ permits { holder checkedZone } }", tier=Tier.BASIC)
    # The general path answered: the good permits in full, the broken one's field an error.
    assert [permit["checkedZone"] for permit in body["data"]["permits"]] == ["A", "B", None]
    assert [error["extensions"]["code"] for error in body["errors"]] == ["INTERNAL_SERVER_ERROR"]
    after = counted((await fast_api.client.get("/metrics")).text, sample)
    assert after == before + 1
    failures = [r for r in caplog.records if r.name == "vastfolket.engine"]
    assert [(r.levelno, r.getMessage()) for r in failures] == [
        (logging.DEBUG, "a compiled reader of Permit failed")
    ]
    assert failures[0].exc_info and "a defect" in str(failures[0].exc_info[1])


async def test_a_field_that_fails_is_an_error_at_that_field_on_both_engines(
    api: Api, permits: list[PermitRow]
) -> None:
    # Read directly, the failing value once failed its whole object, and the non-null
    # list above it: the answer had no data at all.
    permits.append(PermitRow(factories.number(), "broken", 0))
    body = await api.query("{ permits { zone checkedZone } }", tier=Tier.BASIC)
    assert body["data"]["permits"][2] == {"zone": "broken", "checkedZone": None}
    assert [error["path"] for error in body["errors"]] == [["permits", 2, "checkedZone"]]


async def test_a_plan_made_for_an_allowed_caller_does_not_serve_one_refused(
    api: Api, permits: list[PermitRow]
) -> None:
    # Same tier, same text: the plan shared between requests must not carry the insider's
    # permission over to the outsider.
    query = "{ permits { zone fee } }"
    insider = Caller(api, Tier.BASIC, organisation=OWN_ORGANISATION)
    assert (await insider.post(query))[0].json()["data"]["permits"][0]["fee"] == 700
    outsider = Caller(api, Tier.BASIC, organisation="Mölndals stad")
    body = (await outsider.post(query))[0].json()
    assert [permit["fee"] for permit in body["data"]["permits"]] == [None, None]
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
