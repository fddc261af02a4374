"""The demo register as Navet files: valid, deterministic, every change there, and read
back by the Navet reader as written. What importing them gives: tests/test_demo_import.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from resolvers.dev.demo.navet import (
    DemoDeliveries,
    deliveries,
    extract_only,
    key_code_rows,
    write_deliveries,
)
from resolvers.dev.demo.navet_xml import write_file
from resolvers.dev.demo.scenario import NoOneFor
from resolvers.domain.personnummer import make
from resolvers.imports.navet import open_delivery
from resolvers.imports.records import FULL, SEKRETESS, SKYDDAD, Delivery, Names, Record

PERSONS, SEED, TODAY = 2000, 7, dt.date(2025, 6, 1)  # a Sunday: the notices end on Friday
SCHEMA = Path(__file__).parent / "data" / "navetavisering-demo.xsd"
PARTS = ("deregistration", "names", "registration", "addresses", "civil_status", "relations")


def read(path: Path) -> list[Record]:
    """The file's records, as the Navet reader hands them to the importer."""
    with open_delivery(path) as navet:
        return list(navet.records())


def delivery(path: Path) -> Delivery:
    with open_delivery(path) as navet:
        assert navet.delivery is not None
        return navet.delivery


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_deliveries(PERSONS, SEED, TODAY, tmp_path_factory.mktemp("navet"))


@pytest.fixture(scope="module")
def planned() -> DemoDeliveries:
    return deliveries(PERSONS, SEED, TODAY)


@pytest.fixture(scope="module")
def extract(files: list[Path]) -> dict[str, Record]:
    return {r.personnummer: r for r in read(files[0])}


@pytest.fixture(scope="module")
def notices(files: list[Path]) -> list[Record]:
    return [r for path in files[1:] for r in read(path)]


def test_every_file_is_valid_against_the_schema(files: list[Path]) -> None:
    schema = etree.XMLSchema(etree.parse(SCHEMA))
    for path in files:
        assert schema.validate(etree.parse(path)), (path.name, schema.error_log)
        assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')


def test_an_extract_then_a_notice_each_working_day(files: list[Path]) -> None:
    heads = [delivery(path) for path in files]
    assert [h.order_type for h in heads] == ["GRUNDUTTAG"] + ["ANDRINGSAVISERING"] * 4
    assert [h.kind for h in heads] == [FULL] + ["CHANGES"] * 4
    days = [h.effective_date for h in heads]
    assert days == [dt.date(2025, 5, d) for d in (26, 27, 28, 29, 30)]
    for path, head in zip(files, heads, strict=True):
        count = len(read(path))
        assert (head.records_in_file, head.records_in_delivery) == (count, count)
        assert (head.file_name, head.files_in_delivery, head.file_no) == (path.name, 1, 1)
        assert len(head.order_id) == 18 and head.product == "NAVET"
    assert len({(h.order_id, h.job_id, h.file_no) for h in heads}) == len(files)


def test_post_ids_increase_across_the_files(files: list[Path]) -> None:
    ids = [r.post_id for path in files for r in read(path)]
    assert ids == list(range(1, len(ids) + 1))


def test_the_extract_has_only_total_records(extract: dict[str, Record]) -> None:
    assert all(r.total for r in extract.values())
    assert len(extract) == PERSONS  # one born since, one gone from the county since


def test_the_notices_carry_every_kind_of_change(
    extract: dict[str, Record], notices: list[Record]
) -> None:
    def parts(r: Record) -> set[str]:
        return {part for part in PARTS if getattr(r, part) is not None}

    partial = [r for r in notices if not r.total and not r.protection and not r.new_personnummer]
    moves = [r for r in partial if parts(r) == {"registration", "addresses"}]
    assert {r.registration.county_code for r in moves} == {"14", "13"}  # type: ignore[union-attr]
    deregistered = {r.deregistration.code: r for r in partial if r.deregistration}
    assert deregistered.keys() == {"AV", "UV"} and deregistered["AV"].deregistration.date
    assert [a.kind for a in deregistered["UV"].addresses or ()] == ["U"]
    wed = [r for r in partial if r.civil_status and r.civil_status.code == "G"]
    assert len(wed) == 2 and all(
        ("M", other.personnummer) in {(x.kind, x.personnummer) for x in one.relations or ()}
        for one, other in (wed, wed[::-1])
    )  # fmt: skip
    born = [r for r in notices if r.total and r.personnummer not in extract]
    child = next(r for r in born if {x.kind for x in r.relations or ()} >= {"V"})
    parents = [r for r in partial if parts(r) == {"relations"} and any(
        (x.kind, x.personnummer) == ("VF", child.personnummer) for x in r.relations or ()
    )]  # fmt: skip
    assert len(parents) == 2 and all(
        ("B", child.personnummer) in {(x.kind, x.personnummer) for x in r.relations or ()}
        for r in parents
    )  # fmt: skip
    hidden = [r for r in notices if r.protection]
    assert len(hidden) == 1 and not parts(hidden[0]) and not hidden[0].total
    assert hidden[0].protection == SKYDDAD and extract[hidden[0].personnummer].protection is None
    lifted = [r for r in notices if r.total and extract.get(r.personnummer, r).protection]
    assert len(lifted) == 1 and lifted[0].protection is None and lifted[0].names
    assert extract[lifted[0].personnummer].protection == SEKRETESS
    assert not parts(extract[lifted[0].personnummer])
    (gone,) = [r for r in notices if r.new_personnummer]
    assert gone.deregistration.code == "GN" and gone.personnummer in extract  # type: ignore[union-attr]
    renumbered = [r for r in born if r.personnummer == gone.new_personnummer]
    assert len(renumbered) == 1 and renumbered[0].post_id > gone.post_id


def test_the_same_arguments_write_the_same_bytes(files: list[Path], tmp_path: Path) -> None:
    again = write_deliveries(PERSONS, SEED, TODAY, tmp_path)
    assert [p.name for p in again] == [p.name for p in files]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, files, strict=True))
    other = write_deliveries(PERSONS, SEED + 1, TODAY, tmp_path / "other")
    assert other[0].read_bytes() != files[0].read_bytes()


def test_gzipped_files_hold_the_same_records(
    files: list[Path], planned: DemoDeliveries, tmp_path: Path
) -> None:
    packed = planned.write(tmp_path, gzip=True)
    assert [p.name for p in packed] == [f"{p.name}.gz" for p in files]
    again = planned.write(tmp_path / "again", gzip=True)
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, packed, strict=True))
    for plain, gz in zip(files, packed, strict=True):
        assert list(read(gz)) == list(read(plain))


def test_a_large_extract_is_split_into_files(planned: DemoDeliveries, tmp_path: Path) -> None:
    split = planned.write(tmp_path, records_per_file=750)
    heads = [delivery(path) for path in split[:3]]
    assert [(h.file_no, h.files_in_delivery, h.records_in_file) for h in heads] == [
        (1, 3, 750), (2, 3, 750), (3, 3, 500),
    ]  # fmt: skip
    assert {h.records_in_delivery for h in heads} == {PERSONS}
    assert len({h.order_id for h in heads}) == 1 and len(split) == 3 + 4
    whole = planned.write(tmp_path / "whole")
    assert [r for path in split[:3] for r in read(path)] == read(whole[0])


def test_a_register_too_small_for_the_changes_comes_as_the_extract_alone(
    tmp_path: Path,
) -> None:
    (extract,) = extract_only(40, SEED, TODAY).write(tmp_path)
    head = delivery(extract)
    friday = dt.date(2025, 5, 30)
    assert (head.kind, head.effective_date, head.records_in_file) == (FULL, friday, 40)
    assert all(r.total for r in read(extract))


def test_each_property_has_one_key_code(planned: DemoDeliveries) -> None:
    found = key_code_rows(PERSONS, SEED, TODAY)
    assert found == planned.key_code_rows()
    assert len({row[:3] for row in found}) == len(found)
    assert all(len(key) == 6 and len(place) <= 40 for _, _, place, key in found)


def test_text_is_escaped(files: list[Path], tmp_path: Path) -> None:
    names = Names("Anna & <Lisa>", None, None, 'O\'Hara "Ek"')
    number = make(dt.date(1980, 1, 1), 123).digits
    record = Record(1, None, True, number, None, None, None, names, *[None] * 4)
    path = tmp_path / "escaped.xml"
    write_file(path, replace(delivery(files[1]), records_in_file=1), [("X", record)])
    (parsed,) = read(path)
    assert parsed.names == names


def test_a_register_too_small_for_every_change_is_refused() -> None:
    with pytest.raises(NoOneFor):
        deliveries(30, SEED, TODAY)
