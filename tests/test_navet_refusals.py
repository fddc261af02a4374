"""What the Navet reader refuses, and how it says so: a ``NavetFormatError`` naming the
file, the record's place in it, its PostId, the element's path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from resolvers.imports.navet import NavetFormatError, open_delivery
from tests import navet_files as nf
from tests.navet_files import CHILD, SPOUSE

BAD_CHECK_DIGIT = nf.PERSON[:-1] + str((int(nf.PERSON[-1]) + 1) % 10)


def refusal(tmp_path: Path, *records: str, **delivery: object) -> NavetFormatError:
    path = nf.navet_file(tmp_path / "notice.xml", records, **delivery)
    with pytest.raises(NavetFormatError) as refused, open_delivery(path) as navet:
        list(navet.records())
    return refused.value


def test_the_message_names_file_record_post_id_path_and_reason(tmp_path: Path) -> None:
    error = refusal(tmp_path, nf.record(1), nf.record(1234, person=[nf.names(last="x" * 61)]))
    assert str(error) == (
        "notice.xml: record 2 (PostId 1234): Personpost/Namn/Efternamn: longer than 60 characters"
    )
    assert (error.file, error.record, error.post_id) == ("notice.xml", 2, 1234)
    assert (error.path, error.reason) == ("Personpost/Namn/Efternamn", "longer than 60 characters")


def relation(kind: str = "B", number: str = CHILD, **kwargs: object) -> str:
    return nf.relations(nf.relation("M", SPOUSE), nf.relation(kind, number, **kwargs))


CASES = [
    # Lengths.
    (nf.names(first="x" * 81), "Personpost/Namn/Fornamn", "longer than 80 characters"),
    (nf.names(middle="x" * 41), "Personpost/Namn/Mellannamn", "longer than 40 characters"),
    (
        nf.addresses(nf.swedish_address(line2="x" * 36)),
        "Personpost/Adresser/Folkbokforingsadress/Utdelningsadress2",
        "longer than 35 characters",
    ),
    (
        nf.addresses(nf.swedish_address(care_of="x" * 36)),
        "Personpost/Adresser/Folkbokforingsadress/CareOf",
        "longer than 35 characters",
    ),
    (
        nf.addresses(nf.swedish_address("SarskildPostadress", town="x" * 28)),
        "Personpost/Adresser/SarskildPostadress/Postort",
        "longer than 27 characters",
    ),
    (
        nf.addresses(nf.foreign_address("a", "b", "x" * 36)),
        "Personpost/Adresser/Utlandsadress/Utdelningsadress3",
        "longer than 35 characters",
    ),
    (
        nf.addresses(nf.foreign_address(country="x" * 36)),
        "Personpost/Adresser/Utlandsadress/Land",
        "longer than 35 characters",
    ),
    (
        nf.registration(property_designation="x" * 41),
        "Personpost/Folkbokforing/Fastighetsbeteckning",
        "longer than 40 characters",
    ),
    # Clean text.
    (
        nf.names(last="Ek\u202egren"),
        "Personpost/Namn/Efternamn",
        "holds U+202E RIGHT-TO-LEFT OVERRIDE at position 3",
    ),
    (nf.names(first="Eva\tLena"), "Personpost/Namn/Fornamn", "holds U+0009"),
    # Digits and codes.
    (nf.names(code="05"), "Personpost/Namn/Tilltalsnamnsmarkering", "not a position code"),
    (nf.names(code="1"), "Personpost/Namn/Tilltalsnamnsmarkering", "not 2 digits"),
    (
        nf.addresses(nf.swedish_address(postal_code="4126A")),
        "Personpost/Adresser/Folkbokforingsadress/PostNr",
        "not a postal code of up to 5 digits",
    ),
    (
        nf.addresses(nf.swedish_address(postal_code="412634")),
        "Personpost/Adresser/Folkbokforingsadress/PostNr",
        "not a postal code of up to 5 digits",
    ),
    (
        nf.addresses(nf.swedish_address(postal_code="４１２６３")),  # fullwidth digits
        "Personpost/Adresser/Folkbokforingsadress/PostNr",
        "not a postal code of up to 5 digits",
    ),
    (nf.registration(county="1"), "Personpost/Folkbokforing/LanKod", "not 2 digits"),
    (nf.registration(municipality="8O"), "Personpost/Folkbokforing/KommunKod", "not 2 digits"),
    (nf.civil_status("X"), "Personpost/Civilstand/CivilstandKod", "'X' is not one of"),
    (nf.civil_status(None), "Personpost/Civilstand/CivilstandKod", "missing"),
    (
        nf.deregistration("XX"),
        "Personpost/Avregistrering/AvregistreringsorsakKod",
        "'XX' is not one of AN AS AV FI GN GS OB TA UV",
    ),
    (nf.deregistration(None), "Personpost/Avregistrering/AvregistreringsorsakKod", "missing"),
    (relation("Q"), "Personpost/Relationer/Relation[2]/Relationstyp", "'Q' is not one of"),
    (relation(status="ZZ"), "Personpost/Relationer/Relation[2]/@status", "not a relation status"),
    (
        relation(number=BAD_CHECK_DIGIT),
        "Personpost/Relationer/Relation[2]/RelationId/PersonNr",
        "the check digit is wrong",
    ),
    (
        relation("B", "19851340000", id_tag="FodelsetidNr"),
        "Personpost/Relationer/Relation[2]/RelationId/FodelsetidNr",
        "not 12 digits",
    ),
    (
        relation("B", "198513400000", id_tag="FodelsetidNr"),
        "Personpost/Relationer/Relation[2]/RelationId/FodelsetidNr",
        "not a date that exists",
    ),
    (
        nf.relations("<Relation><Relationstyp>B</Relationstyp></Relation>"),
        "Personpost/Relationer/Relation/RelationId",
        "missing",
    ),
    # Dates.
    (
        nf.registration(date="19851340"),
        "Personpost/Folkbokforing/Folkbokforingsdatum",
        "not a date that exists",
    ),
    (
        nf.registration(date="19850230"),
        "Personpost/Folkbokforing/Folkbokforingsdatum",
        "not a date that exists",
    ),
    (
        nf.registration(date="19850012"),
        "Personpost/Folkbokforing/Folkbokforingsdatum",
        "a day without a month",
    ),
    (
        nf.civil_status("G", "1985"),
        "Personpost/Civilstand/Civilstandsdatum",
        "not a date of 8 digits",
    ),
    (
        nf.deregistration("AV", "2024-01-01"),
        "Personpost/Avregistrering/Avregistreringsdatum",
        "not a date of 8 digits",
    ),
    # Numbers and structure.
    (nf.referral(BAD_CHECK_DIGIT), "Personpost/HanvisningsPersonNr", "the check digit is wrong"),
    (
        nf.referrals((SPOUSE, "XX")),
        "Personpost/Hanvisningar/Hanvisning/@status",
        "neither NY nor AS",
    ),
    (
        nf.referrals(("1980051700", None)),
        "Personpost/Hanvisningar/Hanvisning/HanvisningsPersonNr",
        "not 12 digits",
    ),
    (nf.names(last=None), "Personpost/Namn/Efternamn", "missing or empty"),
    (nf.names() + nf.names(), "Personpost/Namn[2]", "appears more than once"),
    (
        nf.addresses(nf.swedish_address(), nf.swedish_address()),
        "Personpost/Adresser/Folkbokforingsadress[2]",
        "a second address of this kind",
    ),
]


@pytest.mark.parametrize(("part", "path", "reason"), CASES)
def test_a_malformed_known_element_is_refused_where_it_is(
    tmp_path: Path, part: str, path: str, reason: str
) -> None:
    error = refusal(tmp_path, nf.record(1), nf.record(77, person=[part]))
    assert (error.record, error.post_id, error.path) == (2, 77, path)
    assert reason in error.reason, error.reason
    assert nf.PERSON not in str(error) and CHILD not in str(error)  # no person data in logs


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (BAD_CHECK_DIGIT, "not a personnummer: the check digit is wrong"),
        ("198002300018", "not a personnummer: no such birth date"),
        ("8005170017", "not 12 digits"),
        ("", "empty"),
    ],
)
def test_the_person_s_number_is_checked(tmp_path: Path, number: str, reason: str) -> None:
    error = refusal(tmp_path, nf.record(3, number))
    assert (error.path, error.reason, error.post_id) == ("Personpost/PersonId/PersonNr", reason, 3)


@pytest.mark.parametrize(
    ("record", "path", "reason"),
    [
        (nf.record(secrecy="X"), "Sekretessmarkering", "'X' is neither J nor N"),
        (nf.record(protected="ja"), "SkyddadFolkbokforing", "'ja' is neither J nor N"),
        (nf.record(total="maybe"), "Arendeuppgift/@totalpost", "'maybe' is none of J N true false"),
        (
            nf.record(changed_at="2024"),
            "Arendeuppgift/@andringstidpunkt",
            "not a time of 14 digits",
        ),
        (
            nf.record(changed_at="20241301120000"),
            "Arendeuppgift/@andringstidpunkt",
            "not a time that exists",
        ),
        (
            nf.record(person_id_extra="").replace(
                "<PersonId><PersonNr>198005170017</PersonNr>", "<PersonId>"
            ),
            "Personpost/PersonId/PersonNr",
            "missing",
        ),
        (nf.record().replace("Personpost>", "Okand>"), "Personpost", "missing"),
        (
            nf.record().replace(
                "<Sekretessmarkering>N</Sekretessmarkering>",
                "<Sekretessmarkering>N</Sekretessmarkering>" * 2,
            ),
            "Sekretessmarkering[2]",
            "appears more than once",
        ),
    ],
)
def test_record_level_elements_are_checked_and_name_the_post_id(
    tmp_path: Path, record: str, path: str, reason: str
) -> None:
    error = refusal(tmp_path, record)
    assert (error.record, error.post_id, error.path) == (1, 1, path)
    assert reason in error.reason, error.reason


@pytest.mark.parametrize(
    ("post_id", "path", "reason"),
    [
        (None, "Arendeuppgift/PostId", "missing"),
        ("", "Arendeuppgift/PostId", "empty"),
        ("12a", "Arendeuppgift/PostId", "not a number of up to 16 digits"),
        ("1" * 17, "Arendeuppgift/PostId", "not a number of up to 16 digits"),
    ],
)
def test_a_record_without_a_post_id_is_refused(
    tmp_path: Path, post_id: str | None, path: str, reason: str
) -> None:
    error = refusal(tmp_path, nf.record(post_id))
    assert (error.record, error.post_id, error.path) == (1, None, path)
    assert error.reason.startswith(reason)
    assert "PostId " not in str(error).split(": ")[1]  # "record 1", no PostId to name
    case = nf.record().replace("Arendeuppgift", "Okand")
    assert refusal(tmp_path, case).path == "Arendeuppgift"


@pytest.mark.parametrize(
    ("header", "path", "reason"),
    [
        ({"order_id": "SKV00000000000123"}, "BestallningsId", "not 18 characters"),
        ({"order_id": "SKV0000000000012345"}, "BestallningsId", "longer than 18 characters"),
        ({"product": "NAV"}, "Produkt", "not 5 characters"),
        ({"order_type": "G" * 21}, "Bestallningstyp", "longer than 20 characters"),
        ({"files": 2, "file_no": 3}, "Utfil/FilNr", "not a whole number from 1 to 2"),
        ({"files": 0}, "Utfil/AntalFiler", "not a whole number from 1 to 999"),
        ({"job_id": 0}, "Utfil/JobbId", "not a whole number from 1 to 99999999"),
        ({"effective_date": "20241399"}, "Utfil/Effektueringsdatum", "not a date that exists"),
        ({"file_name": ""}, "Utfil/Filnamn", "empty"),
        ({"sequence_no": "-1"}, "Utfil/LopNr", "not a whole number from 0 to 99999"),
    ],
)
def test_the_file_information_is_checked(
    tmp_path: Path, header: dict[str, object], path: str, reason: str
) -> None:
    error = refusal(tmp_path, nf.record(), **header)
    assert error.path == f"Aviseringsinformation/Filinformation/{path}"
    assert (error.record, error.reason) == (None, reason)
    assert str(error) == f"notice.xml: {error.path}: {reason}"


def test_the_file_must_hold_as_many_records_as_it_says(tmp_path: Path) -> None:
    married = nf.record(2, SPOUSE, person=nf.typical_person(spouse=nf.PERSON))
    error = refusal(tmp_path, nf.record(1), married, count=3)
    assert str(error) == "notice.xml: Utfil/AntalPoster says 3 records, the file holds 2"
    assert str(refusal(tmp_path, nf.record(1), count=0)).endswith(
        "says 0 records, the file holds 1"
    )


def test_records_out_of_place_are_refused(tmp_path: Path) -> None:
    nested = nf.record(1, after_person=nf.record(2))
    assert "Folkbokforingspost outside Folkbokforingsposter" in str(refusal(tmp_path, nested))
    late = nf.header(1)
    assert "record 2: Aviseringsinformation among the records" in str(
        refusal(tmp_path, nf.record(1), late)
    )


def test_no_person_data_in_a_message(tmp_path: Path) -> None:
    error = refusal(tmp_path, nf.record(person=[nf.names(first="Åsa" * 30)]))
    assert "Åsa" not in str(error)
