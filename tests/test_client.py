"""The typed client against the live API over HTTP: lookups answer the union's members
as pydantic models, tiers and protection hold, the API's errors arrive as exceptions
carrying their codes (with what data did arrive), and pages follow their cursors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from vastfolket_client import (
    GetPersonWithRelations,
    Person,
    PersonDetails,
    PersonNotFound,
    PersonWithRelations,
    ProtectedPerson,
    Relation,
    enums,
)
from vastfolket_client.errors import (
    BadUserInput,
    Forbidden,
    InvalidOperation,
    Unauthenticated,
    Unavailable,
    UpstreamUnavailable,
)

from resolvers.dev.skatteverket import sim_data
from resolvers.dev.skatteverket.simulator import RunningSimulator
from resolvers.domain.access import Tier
from resolvers.imports.records import SEKRETESS
from tests.importing import relation
from tests.subscribing import ROLE, Served, fresh_numbers, owner, serving
from tests.typed_client import TRUSTED, Sent, connect, imported, persisted, person
from tests.upstream import Upstream

__all__ = ["owner"]  # a fixture of tests/subscribing.py


@pytest.fixture(scope="module")
def served(
    server_uri: str,
    engine: str,
    tmp_path_factory: pytest.TempPathFactory,
    simulator: RunningSimulator,
) -> Iterator[Served]:
    with serving(
        server_uri,
        engine,
        tmp_path_factory,
        "vastfolket_client",
        VASTFOLKET_SKATTEVERKET_URL=simulator.url,
        **TRUSTED,
    ) as running:
        yield running


async def test_every_tier_looks_a_person_up_as_a_typed_person(served: Served) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number, "Åsa", "Öberg"))
    async with connect(served, tier=Tier.BASIC) as client:
        found = await client.person(personnummer=number[2:8] + "-" + number[8:])
    assert isinstance(found, Person) and not isinstance(found, PersonDetails)
    assert (found.personnummer, found.first_names, found.last_name) == (number, "Åsa", "Öberg")
    assert found.status is enums.Status.REGISTERED and found.source is enums.Source.LOCAL
    assert found.registered_address is not None
    assert found.registered_address.postal_town == "GÖTEBORG"
    assert found.mailing_address is not None and found.mailing_address.lines


async def test_the_server_runs_the_clients_documents_and_refuses_any_other(
    served: Served,
) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number, last="Ek"))
    async with connect(served, tier=Tier.BASIC) as client:
        assert isinstance(await client.person(personnummer=number), Person)
    ad_hoc = "query ($p: String!) { person(personnummer: $p) { __typename } }"
    headers = {"Authorization": f"Bearer {served.token('ad-hoc', tier=Tier.BASIC)}"}
    async with httpx.AsyncClient(base_url=served.server.base) as raw:
        answer = await raw.post(
            "/graphql", json={"query": ad_hoc, "variables": {"p": number}}, headers=headers
        )
    assert answer.status_code == 403, answer.text
    assert answer.json()["errors"][0]["extensions"]["code"] == "DOCUMENT_NOT_TRUSTED"


async def test_a_document_the_server_does_not_trust_raises_invalid_operation(
    served: Served,
) -> None:
    """A client built with a document the server's manifest lacks (deployed before its
    manifest): the same family as a client of another schema, its code kept."""
    async with connect(served, tier=Tier.BASIC) as client:
        answer = await client.execute("query Newer { viewer { subject } }", "Newer")
        with pytest.raises(InvalidOperation) as raised:
            client.get_data(answer)
    assert (raised.value.code, raised.value.status_code) == ("DOCUMENT_NOT_TRUSTED", 403)


async def test_relations_asked_by_a_basic_caller_raise_forbidden_with_the_rest_kept(
    served: Served,
) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number, last="Ek"))
    async with connect(served, tier=Tier.BASIC) as client:
        with pytest.raises(Forbidden) as raised:
            await client.person_with_relations(personnummer=number)
    error = raised.value
    assert error.code == "FORBIDDEN" and {e.code for e in error.errors} == {"FORBIDDEN"}
    paths = {tuple(e.path or ()) for e in error.errors}
    assert {("person", "movedInDate"), ("person", "civilStatus"), ("person", "relations")} <= paths
    answered = error.partial(GetPersonWithRelations).person
    assert isinstance(answered, PersonWithRelations)
    assert answered.last_name == "Ek" and answered.relations is None
    assert answered.civil_status is None


async def test_an_extended_caller_sees_details_but_is_refused_relations(served: Served) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number))
    async with connect(served, tier=Tier.EXTENDED) as client:
        details = await client.person_details(personnummer=number)
        with pytest.raises(Forbidden) as raised:
            await client.person_with_relations(personnummer=number)
    assert isinstance(details, PersonDetails) and details.civil_status is not None
    assert details.civil_status.kind is enums.CivilStatusKind.UNMARRIED
    assert [e.path for e in raised.value.errors] == [["person", "relations"]]


async def test_a_relations_caller_sees_relations_and_never_a_protected_one(
    served: Served,
) -> None:
    parent, child, hidden = fresh_numbers(3)
    await imported(
        served,
        person(child, "Lisa", relations=(relation("MO", parent),)),
        person(hidden, protection=SEKRETESS, relations=(relation("MO", parent),)),
        person(parent, relations=(relation("B", child), relation("B", hidden))),
    )
    async with connect(served, tier=Tier.RELATIONS) as client:
        found = await client.person_with_relations(personnummer=parent)
    assert isinstance(found, PersonWithRelations) and found.relations is not None
    [kin] = found.relations
    assert isinstance(kin, Relation) and kin.kind is enums.RelationKind.CHILD
    assert kin.personnummer == child
    assert kin.person is not None and kin.person.given_name == "Lisa"


async def test_a_protected_person_is_a_typed_notice_and_nothing_else(served: Served) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number, protection=SEKRETESS))
    async with connect(served, tier=Tier.RELATIONS) as client:
        found = await client.person_with_relations(personnummer=number)
        listed = await client.persons_in_range(from_=number, to=number)
    assert isinstance(found, ProtectedPerson) and not isinstance(found, Person)
    assert set(found.model_dump(exclude={"typename__"})) == {"personnummer", "notice"}
    assert found.personnummer == number
    assert listed.edges == []


async def test_a_samordningsnummer_is_answered_by_skatteverket(
    served: Served, upstream: Upstream
) -> None:
    number = upstream.number(sim_data.COORDINATION)
    async with connect(served, tier=Tier.EXTENDED) as client:
        found = await client.person_details(personnummer=number)
    assert isinstance(found, PersonDetails) and found.is_coordination_number
    assert found.source is enums.Source.SKATTEVERKET
    assert found.status is enums.Status.COORDINATION_NUMBER
    assert isinstance(found.fetched_at, dt.datetime) and found.key_code is None


async def test_a_number_no_one_has_is_person_not_found(served: Served) -> None:
    async with connect(served) as client:
        found = await client.person(personnummer="19121212-1212")
    assert isinstance(found, PersonNotFound) and found.personnummer == "191212121212"


async def test_a_bad_number_raises_bad_user_input_naming_the_argument(served: Served) -> None:
    async with connect(served) as client:
        with pytest.raises(BadUserInput) as raised:
            await client.person(personnummer="800517-12３4")
    error = raised.value
    assert (error.code, error.argument, error.path) == (
        "BAD_USER_INPUT",
        "personnummer",
        ["person"],
    )
    assert "U+FF13" in error.message and "position" in error.message
    assert not (error.data or {}).get("person")  # null, or the whole data (a non-null root)


async def test_skatteverket_down_fails_that_lookup_as_upstream_unavailable(
    served: Served, upstream: Upstream
) -> None:
    upstream.knobs(error_rate=1)
    async with connect(served) as client:
        with pytest.raises(UpstreamUnavailable) as raised:
            await client.person(personnummer=upstream.number(sim_data.OUTSIDE_REGION, 1))
    assert raised.value.code == "UPSTREAM_UNAVAILABLE" and raised.value.path == ["person"]


async def test_an_access_log_that_cannot_be_written_raises_unavailable_with_retry_after(
    served: Served, owner: asyncpg.Connection
) -> None:
    (number,) = fresh_numbers(1)
    await imported(served, person(number))
    await owner.execute(f"REVOKE INSERT ON access_request FROM {ROLE}")
    try:
        async with connect(served) as client:
            with pytest.raises(Unavailable) as raised:
                await client.person(personnummer=number)
    finally:
        await owner.execute(f"GRANT INSERT ON access_request TO {ROLE}")
    error = raised.value
    assert (error.code, error.status_code, error.data) == ("AUDIT_UNAVAILABLE", 503, None)
    assert error.retry_after is not None and error.retry_after > 0
    assert number not in str(error)


async def test_without_a_token_the_client_raises_unauthenticated(served: Served) -> None:
    async with connect(served) as client:
        del client.headers["Authorization"]
        with pytest.raises(Unauthenticated) as raised:
            await client.viewer()
    assert raised.value.status_code == 401 and raised.value.code == "UNAUTHENTICATED"


async def test_an_interval_is_read_page_by_page_with_its_cursors(served: Served) -> None:
    numbers = fresh_numbers(5)
    await imported(served, *(person(number) for number in numbers))
    seen, pages, after = [], [], None
    async with connect(served, tier=Tier.BASIC) as client:
        while True:
            page = await client.persons_in_range(
                from_=numbers[0], to=numbers[-1], first=2, after=after
            )
            seen += [edge.node.personnummer for edge in page.edges]
            pages.append(page.page_info.has_next_page)
            after = page.page_info.end_cursor
            if not page.page_info.has_next_page:
                break
    assert seen == sorted(numbers) and pages == [True, True, False]


async def test_a_name_search_is_read_page_by_page_with_its_cursors(served: Served) -> None:
    numbers = fresh_numbers(3)
    await imported(served, *(person(number, last="Fjällgren") for number in numbers))
    async with connect(served, tier=Tier.BASIC) as client:
        first = await client.search_persons(last_name="Fjallgren", first=2)
        rest = await client.search_persons(
            last_name="Fjallgren", first=2, after=first.page_info.end_cursor
        )
    assert first.page_info.has_next_page and not rest.page_info.has_next_page
    found = [edge.node for edge in first.edges + rest.edges]
    assert all(isinstance(node, Person) and node.last_name == "Fjällgren" for node in found)
    assert sorted(node.personnummer for node in found) == sorted(numbers)


async def test_what_arrives_at_the_server_is_in_the_persisted_documents_manifest(
    served: Served,
) -> None:
    """The manifest's ids are those of the texts the client sends, byte for byte."""
    sent = Sent()
    async with sent.client() as http, connect(served, http_client=http) as client:
        await client.person(personnummer="19121212-1212")
        await client.viewer()
        await client.persons_in_range(from_="19800101-0000", to="19800102-9999")
    assert [name for name, _ in sent.operations] == ["GetPerson", "GetViewer", "GetPersonsInRange"]
    assert sent.ids() <= persisted()
