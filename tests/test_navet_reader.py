"""The Navet reader: what each element of a delivery becomes, in old and new forms.

Files are written by ``tests.navet_files`` and read back through ``open_delivery``, as
the importer reads them. Refusals are in test_navet_refusals.py; the file itself
(compression, encodings, digest, memory) in test_navet_file.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from resolvers.domain.personnummer import make
from resolvers.imports.delivery import kind_of
from resolvers.imports.navet import open_delivery
from resolvers.imports.records import (
    CHANGES,
    FULL,
    SEKRETESS,
    SKYDDAD,
    CivilStatus,
    Delivery,
    Deregistration,
    Names,
    Record,
    Registration,
    Relation,
)
from resolvers.register.rows import AddressRow
from tests import navet_files as nf
from tests.navet_files import CHILD, PERSON, SPOUSE

MOTHER = nf.number(dt.date(1950, 1, 9), 42)
COORDINATION = make(dt.date(1980, 5, 17), 3, coordination=True).digits  # day 17 + 60


def read(tmp_path: Path, *records: str, **delivery: object) -> list[Record]:
    path = nf.navet_file(tmp_path / "notice.xml", records, **delivery)
    with open_delivery(path) as navet:
        return list(navet.records())


def one(tmp_path: Path, *person: str, **record: object) -> Record:
    (found,) = read(tmp_path, nf.record(person=list(person), **record))
    return found


def test_a_typical_record_becomes_every_part_of_the_register(tmp_path: Path) -> None:
    (record,) = read(tmp_path, nf.record(17, PERSON))
    assert record == Record(
        post_id=17,
        changed_at=dt.datetime(2024, 1, 5, 12, 0, 0),
        total=True,
        personnummer=PERSON,
        protection=None,
        new_personnummer=None,
        deregistration=None,
        names=Names("Anna Maria", "10", None, "Svensson"),
        registration=Registration(dt.date(2020, 3, 1), "14", "80", "LÅNGA 3"),
        addresses=(
            AddressRow(
                "F",
                line2="Storgatan 1 lgh 1102",
                postal_code="41263",
                postal_town="GÖTEBORG",
                county_code="14",
                municipality_code="80",
            ),
        ),
        civil_status=CivilStatus("G", dt.date(2010, 6, 12)),
        relations=(
            Relation("M", SPOUSE, dt.date(2010, 6, 12), None),
            Relation("B", CHILD, dt.date(2012, 8, 30), None),
            Relation("MO", MOTHER, dt.date(1980, 5, 17), None),
        ),
    )


def test_the_delivery_is_read_before_the_first_record(tmp_path: Path) -> None:
    path = nf.navet_file(
        tmp_path / "notice.xml",
        [nf.record(1), nf.record(2, SPOUSE, person=nf.typical_person(spouse=PERSON))],
        order_type="ANDRINGSAVISERING",
        files=3,
        file_no=2,
    )
    with open_delivery(path) as navet:
        assert navet.records_read == 0
        assert navet.delivery == Delivery(
            order_id=nf.ORDER_ID,
            order_type="ANDRINGSAVISERING",
            product="NAVET",
            file_name="NAVET.GRUND.XML",
            effective_date=dt.date(2024, 1, 5),
            records_in_file=2,
            records_in_delivery=2,
            files_in_delivery=3,
            file_no=2,
            job_id=4711,
            sequence_no=12,
            kind=CHANGES,
        )
        assert [record.post_id for record in navet.records()] == [1, 2]
        assert navet.records_read == 2


def test_a_file_without_aviseringsinformation_has_no_delivery(tmp_path: Path) -> None:
    path = nf.navet_file(tmp_path / "bare.xml", [nf.record(5)], with_header=False)
    with open_delivery(path) as navet:
        assert navet.delivery is None
        assert [record.post_id for record in navet.records()] == [5]


@pytest.mark.parametrize(
    ("order_type", "kind"),
    [
        ("GRUNDUTTAG", FULL),
        ("Grunduttag", FULL),
        ("GRUNDAVISERING", FULL),
        ("TOTALUTTAG", FULL),
        ("ANDRINGSAVISERING", CHANGES),
        ("AVISERING", CHANGES),
        ("", CHANGES),
    ],
)
def test_a_grunduttag_is_a_full_delivery(order_type: str, kind: str) -> None:
    assert kind_of(order_type) == kind


def test_parts_the_record_does_not_carry_are_none_and_empty_ones_are_empty(tmp_path: Path) -> None:
    bare = one(tmp_path)
    assert (bare.names, bare.registration, bare.addresses, bare.civil_status) == (None,) * 4
    assert (bare.relations, bare.deregistration, bare.new_personnummer) == (None,) * 3
    empty = one(tmp_path, nf.addresses(), nf.relations())
    assert (empty.addresses, empty.relations) == ((), ())
    blank = one(tmp_path, nf.addresses(nf.swedish_address(line2=None, postal_code=None, town=None)))
    assert blank.addresses == ()  # an address element with nothing in it is no address


@pytest.mark.parametrize(
    ("value", "total"), [("J", True), ("true", True), ("N", False), ("false", False), (None, False)]
)
def test_totalpost(tmp_path: Path, value: str | None, total: bool) -> None:
    assert one(tmp_path, total=value).total is total


def test_a_record_without_a_change_time_has_none(tmp_path: Path) -> None:
    assert one(tmp_path, changed_at=None).changed_at is None


@pytest.mark.parametrize(
    ("secrecy", "protected", "protection"),
    [
        ("N", None, None),
        ("J", None, SEKRETESS),
        (None, None, None),
        ("", None, None),
        ("N", "N", None),
        ("J", "N", SEKRETESS),
        ("N", "J", SKYDDAD),
        ("J", "J", SKYDDAD),
        (None, "J", SKYDDAD),
    ],
)
def test_protection_from_both_markings_old_and_new(
    tmp_path: Path, secrecy: str | None, protected: str | None, protection: str | None
) -> None:
    assert one(tmp_path, secrecy=secrecy, protected=protected).protection == protection


NEW, OTHER = nf.number(dt.date(1980, 5, 17), 5), nf.number(dt.date(1980, 5, 17), 9)


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        (nf.referral(NEW), NEW),  # the older form
        (nf.element("HanvisningsPersonNr", ""), None),  # nil
        (nf.referrals((NEW, None)), NEW),
        (nf.referrals((OTHER, "AS"), (NEW, "NY")), NEW),
        (nf.referrals((NEW, "NY"), (OTHER, "AS")), NEW),  # NY wins wherever it stands
        (nf.referrals((NEW, "AS"), (OTHER, "AS")), OTHER),  # no NY: the last
        (nf.referral(OTHER) + nf.referrals((NEW, "NY")), NEW),  # both forms: the newer
    ],
)
def test_a_changed_number_points_to_the_number_now_used(
    tmp_path: Path, part: str, expected: str | None
) -> None:
    assert one(tmp_path, part).new_personnummer == expected


@pytest.mark.parametrize(
    ("code", "date"),
    [("AV", dt.date(2024, 1, 1)), ("FI", None), ("UV", dt.date(2023, 1, 1)), ("AN", None)],
)
def test_deregistration(tmp_path: Path, code: str, date: dt.date | None) -> None:
    text = None if date is None else f"{date:%Y%m%d}"
    assert one(tmp_path, nf.deregistration(code, text)).deregistration == Deregistration(code, date)


def test_names_with_a_middle_name_and_without_a_given_name_code(tmp_path: Path) -> None:
    part = nf.names("Karl Johan", "Ek", code=None, middle="Lindqvist")
    assert one(tmp_path, part).names == Names("Karl Johan", None, "Lindqvist", "Ek")


def test_a_newborn_without_first_names_has_empty_ones(tmp_path: Path) -> None:
    assert one(tmp_path, nf.names(first=None, code=None, last="Ek")).names == Names(
        "", None, None, "Ek"
    )


def test_every_address_kind_with_every_line(tmp_path: Path) -> None:
    record = one(
        tmp_path,
        nf.registration(county="14", municipality="81"),
        nf.addresses(
            nf.swedish_address(
                line1="Box 5",
                line2="Kvarngatan 2",
                postal_code="43130",
                town="MÖLNDAL",
                care_of="Eva Ek",
            ),
            "<Riksnycklar><FastighetsId>1</FastighetsId></Riksnycklar>",
            "<Distrikt><Distriktskod>148001</Distriktskod></Distrikt>",
            nf.swedish_address("SarskildPostadress", "Postgatan 9", "1234", "ARVIKA"),
            nf.foreign_address("Karl Johans gate 1", "0154 Oslo", "Oslo", country="NORGE"),
        ),
    )
    assert record.addresses == (
        AddressRow("F", "Eva Ek", "Box 5", "Kvarngatan 2", None, "43130", "MÖLNDAL", "14", "81"),
        AddressRow("S", line2="Postgatan 9", postal_code="01234", postal_town="ARVIKA"),
        AddressRow(
            "U", line1="Karl Johans gate 1", line2="0154 Oslo", line3="Oslo", country="NORGE"
        ),
    )  # an xs:int postal code that lost its leading zero has it back


def test_a_registered_address_without_folkbokforing_has_no_codes(tmp_path: Path) -> None:
    (address,) = one(tmp_path, nf.addresses(nf.swedish_address())).addresses or ()
    assert (address.kind, address.county_code, address.municipality_code) == ("F", None, None)


@pytest.mark.parametrize(("code", "read"), [("Ä", "Ä"), ("A", "Ä"), ("RP", "RP"), ("OG", "OG")])
def test_civil_status(tmp_path: Path, code: str, read: str) -> None:
    assert one(tmp_path, nf.civil_status(code, None)).civil_status == CivilStatus(read, None)


def test_relations_of_every_form(tmp_path: Path) -> None:
    record = one(
        tmp_path,
        nf.relations(
            nf.relation("M", SPOUSE, "20100612", "20200101"),  # ended: divorced
            nf.relation("B", CHILD, "20120830", status="AV"),  # the child died: still a relation
            nf.relation("FA", "195001090000", id_tag="FodelsetidNr"),  # never had a number
            nf.relation("V", COORDINATION, "20200000", status="NY"),
            nf.relation("B", OTHER, status="AS"),  # not current: left out
            nf.relation("B", NEW, status="AN"),
        ),
    )
    assert record.relations == (
        Relation("M", SPOUSE, dt.date(2010, 6, 12), dt.date(2020, 1, 1)),
        Relation("B", CHILD, dt.date(2012, 8, 30), None),
        Relation("FA", "195001090000", None, None),
        Relation("V", COORDINATION, dt.date(2020, 1, 1), None),
    )


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("19850000", dt.date(1985, 1, 1)),
        ("19851200", dt.date(1985, 12, 1)),
        ("19851224", dt.date(1985, 12, 24)),
        ("00000000", None),
        ("0", None),
    ],
)
def test_incomplete_dates_read_unknown_parts_as_the_first(
    tmp_path: Path, text: str, date: dt.date | None
) -> None:
    assert one(tmp_path, nf.registration(date=text)).registration == Registration(
        date, "14", "80", "LÅNGA 3"
    )


def test_a_samordningsnummer_and_an_assigned_number_identify_the_person(tmp_path: Path) -> None:
    assert one(tmp_path, personnummer=COORDINATION).personnummer == COORDINATION
    assigned = nf.record().replace("<PersonNr>", "<TilldelatPersonNrSamordningsNr>", 1)
    assigned = assigned.replace("</PersonNr>", "</TilldelatPersonNrSamordningsNr>", 1)
    assert read(tmp_path, assigned)[0].personnummer == PERSON


UNKNOWN = "<Okand attribut='x'><PersonNr>199913139999</PersonNr><Namn>?</Namn></Okand>"


def test_unknown_and_unmapped_elements_are_read_past(tmp_path: Path) -> None:
    typical = read(tmp_path, nf.record())[0]
    person = [
        "<Fodelsedatum>19800517</Fodelsedatum>",
        *nf.typical_person()[:2],
        UNKNOWN,
        *nf.typical_person()[2:],
        "<Fodelse><HemortSverige><FodelselanKod>14</FodelselanKod>"
        "</HemortSverige></Fodelse><Invandring><Invandringsdatum>0</Invandringsdatum></Invandring>",
        "<Medborgarskap><MedborgarskapslandKod>SE</MedborgarskapslandKod></Medborgarskap>" * 2,
    ]
    history = (
        "<Historik><Folkbokforing><LanKod>XX</LanKod></Folkbokforing></Historik>"
        "<Sarlosning><Beslutsgrund>x</Beslutsgrund></Sarlosning>"
    )
    record = nf.record(
        person=person,
        person_id_extra=UNKNOWN,
        before_person=UNKNOWN,
        after_person=history + UNKNOWN,
    )
    inside = (
        record.replace("<Efternamn>", UNKNOWN + "<Efternamn>")
        .replace("<Relationstyp>", UNKNOWN + "<Relationstyp>")
        .replace("<PostNr>", UNKNOWN + "<PostNr>")
    )
    assert read(tmp_path, inside) == [typical]


def test_file_numbers_may_have_leading_zeros_and_the_date_may_be_unknown(tmp_path: Path) -> None:
    header = {"files": "002", "file_no": "002", "job_id": "00004711", "effective_date": "0"}
    path = nf.navet_file(tmp_path / "notice.xml", [nf.record()], **header)
    with open_delivery(path) as navet:
        assert navet.delivery is not None
        delivery = navet.delivery
    assert (delivery.files_in_delivery, delivery.file_no, delivery.job_id) == (2, 2, 4711)
    assert delivery.effective_date is None
