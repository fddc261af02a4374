"""Looking up one person by personnummer, in every accepted form."""

from __future__ import annotations

import datetime as dt

import asyncpg
import pytest

from resolvers.domain.access import Tier
from tests import factories
from tests.conftest import Api, StatementLog

LOOKUP = """
query ($pnr: String!) {
  person(personnummer: $pnr) {
    __typename
    ... on Person {
      personnummer personnummer10 personnummer11 personnummer13
      isCoordinationNumber gender birthDate
      firstNames givenName givenNameCode middleName lastName status source
      registeredAddress { kind line2 postalCode postalCodeFormatted postalTown
                          countyCode municipalityCode lines }
      specialPostalAddress { kind line2 postalTown }
      foreignAddress { kind line1 country }
      mailingAddress { kind lines }
    }
    ... on ProtectedPerson { personnummer notice }
    ... on PersonNotFound { personnummer message }
  }
}
"""


async def lookup(api: Api, pnr: str, tier: Tier = Tier.BASIC) -> dict:
    body = await api.query(LOOKUP, {"pnr": pnr}, tier=tier)
    assert "errors" not in body, body
    return dict(body["data"]["person"])


async def test_lookup_accepts_every_usual_form(api: Api, clean_db: asyncpg.Pool) -> None:
    pnr = await factories.person(clean_db, born=dt.date(1980, 5, 17), male=True)
    forms = [pnr, pnr[2:], f"{pnr[2:8]}-{pnr[8:]}", f"{pnr[:8]}-{pnr[8:]}", f"{pnr[2:8]} {pnr[8:]}"]
    for form in forms:
        found = await lookup(api, form)
        assert found["__typename"] == "Person", form
        assert found["personnummer"] == pnr


async def test_person_record_has_derived_identity_names_and_address(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = await factories.person(
        clean_db, born=dt.date(1980, 5, 17), male=True, first_names="Karl Johan Erik",
        given_name_code="20", middle_name="Berg", last_name="Lind",
    )  # fmt: skip
    found = await lookup(api, pnr)
    assert found["personnummer10"] == pnr[2:]
    assert found["personnummer11"] == f"{pnr[2:8]}-{pnr[8:]}"
    assert found["personnummer13"] == f"{pnr[:8]}-{pnr[8:]}"
    assert found["gender"] == "MALE"
    assert found["birthDate"] == "1980-05-17"
    assert found["isCoordinationNumber"] is False
    assert found["givenName"] == "Johan"
    assert (found["middleName"], found["lastName"]) == ("Berg", "Lind")
    assert found["status"] == "REGISTERED"
    assert found["source"] == "LOCAL"
    address = found["registeredAddress"]
    assert address["kind"] == "REGISTERED"
    assert address["postalCodeFormatted"] == "412 63"
    assert address["municipalityCode"] == "1480"
    assert address["lines"] == ["Storgatan 1", "412 63 GÖTEBORG"]
    assert found["mailingAddress"]["kind"] == "REGISTERED"
    assert found["specialPostalAddress"] is None


async def test_mailing_address_prefers_special_postal_address(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = await factories.person(clean_db)
    await factories.add_address(
        clean_db, pnr, "S", care_of="Eva Ek", line2="Box 12", postal_code="43122",
        postal_town="MÖLNDAL",
    )  # fmt: skip
    found = await lookup(api, pnr)
    assert found["specialPostalAddress"]["postalTown"] == "MÖLNDAL"
    assert found["mailingAddress"] == {
        "kind": "SPECIAL_POSTAL",
        "lines": ["c/o Eva Ek", "Box 12", "431 22 MÖLNDAL"],
    }


async def test_mailing_address_falls_back_to_foreign_address(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = await factories.person(clean_db, address={}, deregistration=("UV", dt.date(2020, 1, 1)))
    await factories.add_address(clean_db, pnr, "U", line1="Karl Johans gate 1", country="NORGE")
    found = await lookup(api, pnr)
    assert found["status"] == "EMIGRATED"
    assert found["registeredAddress"] is None
    assert found["mailingAddress"] == {"kind": "FOREIGN", "lines": ["Karl Johans gate 1", "NORGE"]}


async def test_deceased_person_has_no_mailing_address_but_keeps_their_addresses(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    """Letters should not go to a dead person; what is registered is still shown."""
    pnr = await factories.person(clean_db, deregistration=("AV", dt.date(2024, 2, 1)))
    await factories.add_address(
        clean_db, pnr, "S", line2="Box 12", postal_code="43122", postal_town="MÖLNDAL"
    )
    for tier in Tier:  # BASIC reads no deregistration code: the status decides
        found = await lookup(api, pnr, tier)
        assert found["status"] == "DECEASED"
        assert found["mailingAddress"] is None
        assert found["registeredAddress"]["lines"] == ["Storgatan 1", "412 63 GÖTEBORG"]
        assert found["specialPostalAddress"]["postalTown"] == "MÖLNDAL"


async def test_unknown_number_is_not_found(api: Api, clean_db: asyncpg.Pool) -> None:
    pnr = factories.number()
    found = await lookup(api, pnr)
    assert found == {
        "__typename": "PersonNotFound",
        "personnummer": pnr,
        "message": found["message"],
    }


async def test_coordination_number_is_never_answered_from_the_local_register(
    api: Api, clean_db: asyncpg.Pool
) -> None:
    pnr = factories.number(coordination=True)
    await factories.person(clean_db, personnummer=pnr)
    found = await lookup(api, pnr)
    assert found["__typename"] == "PersonNotFound"
    assert "Skatteverket" in found["message"]


async def test_hundred_year_old_is_written_with_plus(api: Api, clean_db: asyncpg.Pool) -> None:
    pnr = await factories.person(clean_db, born=dt.date(1920, 2, 3))
    found = await lookup(api, f"{pnr[2:8]}+{pnr[8:]}")
    assert found["personnummer"] == pnr
    assert found["personnummer11"] == f"{pnr[2:8]}+{pnr[8:]}"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("12345", "10 or 12 digits"),
        ("19801317-1234", "not a valid birth date"),
        ("abc", "unexpected character U+0061 LATIN SMALL LETTER A at position 1"),
        ("", "10 or 12 digits"),
    ],
)
async def test_bad_number_is_a_clear_input_error(
    api: Api, clean_db: asyncpg.Pool, text: str, complaint: str
) -> None:
    body = await api.query(LOOKUP, {"pnr": text})
    assert body["data"] == {"person": None}
    [error] = body["errors"]
    assert error["path"] == ["person"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert complaint in error["message"]


async def test_wrong_check_digit_is_named(api: Api, clean_db: asyncpg.Pool) -> None:
    pnr = factories.number()
    wrong = pnr[:11] + str((int(pnr[11]) + 1) % 10)
    body = await api.query(LOOKUP, {"pnr": wrong})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "check digit" in error["message"]


RELATED_ADDRESS_LOOKUP = """
query ($p: String!) {
  person(personnummer: $p) {
    ... on Person { spouse { person { ...Where } } }
  }
}
fragment Where on Person { lastName registeredAddress { postalTown } }
"""
RELATED_ADDRESS_PAGE = """
{ personsInRange(from: "19000101-0000", to: "20991231-9999") {
    edges { node { personnummer relations { person { mailingAddress { lines } } } } }
} }
"""
RELATED_NAMES_LOOKUP = """
query ($p: String!) {
  person(personnummer: $p) { ... on Person { spouse { person { lastName } } } }
}
"""


async def test_related_persons_addresses_are_read_when_asked_and_only_then(
    api: Api, clean_db: asyncpg.Pool, statement_log: StatementLog
) -> None:
    wife = await factories.person(clean_db, last_name="Ek", civil_status="G")
    husband = await factories.person(
        clean_db,
        male=True,
        last_name="Al",
        civil_status="G",
        address={"line2": "Ringvägen 2", "postal_code": "43130", "postal_town": "MÖLNDAL"},
    )
    await factories.relate(clean_db, wife, "M", husband)

    body = await api.query(RELATED_ADDRESS_LOOKUP, {"p": wife})
    spouse = body["data"]["person"]["spouse"]["person"]
    assert spouse == {"lastName": "Al", "registeredAddress": {"postalTown": "MÖLNDAL"}}

    body = await api.query(RELATED_ADDRESS_PAGE)
    lines = {
        edge["node"]["personnummer"]: edge["node"]["relations"][0]["person"]["mailingAddress"]
        for edge in body["data"]["personsInRange"]["edges"]
    }
    assert lines[wife] == {"lines": ["Ringvägen 2", "431 30 MÖLNDAL"]}
    assert lines[husband] == {"lines": ["Storgatan 1", "412 63 GÖTEBORG"]}

    statement_log.clear()
    body = await api.query(RELATED_NAMES_LOOKUP, {"p": wife})
    assert body["data"]["person"]["spouse"]["person"] == {"lastName": "Al"}
    assert "rp_F" not in statement_log.statements[0]  # no address join for the spouse
