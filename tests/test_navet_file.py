"""The Navet reader's file: compression, encodings, its digest, unsafe XML, flat memory."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import psutil
import pytest

from resolvers.imports.navet import NavetFormatError, open_delivery
from tests import navet_files as nf

NAMES = nf.names("Åsa Örjan", "Ängström-Öberg", middle="Ådalen")


def names_in(path: Path) -> list[tuple[str, str | None, str]]:
    with open_delivery(path) as navet:
        return [
            (r.names.first_names, r.names.middle_name, r.names.last_name)
            for r in navet.records()
            if r.names
        ]


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
def test_the_declared_encoding_is_read(tmp_path: Path, encoding: str) -> None:
    path = nf.navet_file(tmp_path / "notice.xml", [nf.record(person=[NAMES])], encoding=encoding)
    assert "Ängström".encode(encoding) in path.read_bytes()
    assert names_in(path) == [("Åsa Örjan", "Ådalen", "Ängström-Öberg")]


def test_latin_1_bytes_without_a_declaration_are_refused_with_the_line(tmp_path: Path) -> None:
    path = nf.navet_file(
        tmp_path / "notice.xml", [nf.record(person=[NAMES])], encoding="ISO-8859-1"
    )
    path.write_bytes(path.read_bytes().split(b"?>", 1)[1])  # no declaration: UTF-8
    with pytest.raises(NavetFormatError, match=r"^notice.xml: line 3: not well-formed XML: "):
        names_in(path)


def test_gzip_is_known_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    packed = nf.navet_file(tmp_path / "notice.xml", [nf.record(person=[NAMES])], compress=True)
    plain = nf.navet_file(tmp_path / "notice.xml.gz", [nf.record(person=[NAMES])])
    assert packed.read_bytes()[:2] == b"\x1f\x8b"
    assert names_in(packed) == names_in(plain) == [("Åsa Örjan", "Ådalen", "Ängström-Öberg")]


@pytest.mark.parametrize("compress", [False, True])
def test_the_digest_is_of_the_bytes_as_stored(tmp_path: Path, compress: bool) -> None:
    path = nf.navet_file(tmp_path / "notice", [nf.record(1), nf.record(2)], compress=compress)
    path.write_bytes(path.read_bytes() + (b"" if compress else b"\n\n"))  # after the root too
    with open_delivery(path) as navet:
        records = navet.records()
        next(records)
        with pytest.raises(RuntimeError, match="once records"):
            navet.sha256  # noqa: B018 - not known before the end
        assert list(records) and navet.records_read == 2
        assert navet.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        with pytest.raises(RuntimeError, match="once"):
            list(navet.records())


def test_a_damaged_gzip_file_is_refused(tmp_path: Path) -> None:
    path = nf.navet_file(tmp_path / "notice.xml.gz", [nf.record()] * 50, compress=True)
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(NavetFormatError, match=r"^notice.xml.gz: cannot be read: "):
        names_in(path)
    path.write_bytes(b"\x1f\x8b" + bytes(40))
    with pytest.raises(NavetFormatError, match=r"^notice.xml.gz: cannot be read: "):
        names_in(path)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "<Navetavisering><Folkbokforingsposter>\n<Folkbokforingspost>\n</Folkbokforingsposter>",
            "line 3: not well-formed XML: Opening and ending tag mismatch",
        ),
        ("", "not well-formed XML: no element found"),
        ("Navetavisering", "line 1: not well-formed XML: Start tag expected, '<' not found"),
        (
            "<Navetavisering><Folkbokforingsposter>",
            "line 1: not well-formed XML: Premature end of data in tag Folkbokforingsposter line 1",
        ),
        (
            "<Register><Folkbokforingsposter/></Register>",
            "line 1: not a Navet file: the root element is 'Register', not Navetavisering",
        ),
        (
            "<Register>" + nf.record() + "</Register>",
            "line 1: not a Navet file: the root element is 'Register'",
        ),
        (
            "<Navetavisering xmlns='urn:x'><Folkbokforingsposter/></Navetavisering>",
            "line 1: not a Navet file: the root element is '{urn:x}Navetavisering'",
        ),
    ],
)
def test_what_is_not_a_navet_file_is_refused(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "notice.xml"
    path.write_text(text)
    with pytest.raises(NavetFormatError) as refused:
        names_in(path)
    assert str(refused.value).startswith(f"notice.xml: {reason}"), str(refused.value)
    assert ", column" not in str(refused.value)  # the line is named once, in front


def test_no_entity_is_expanded_and_no_dtd_allowed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("Hemlig")
    declarations = [
        f'<!DOCTYPE Navetavisering [<!ENTITY x SYSTEM "file://{secret}">]>',
        '<!DOCTYPE Navetavisering [<!ENTITY x "Hemlig">]>',
        '<!DOCTYPE Navetavisering SYSTEM "http://127.0.0.1:9/navet.dtd">',
    ]
    record = nf.record(person=[nf.names(last="Lind")]).replace("Lind", "&x;")
    for declaration in declarations:
        path = tmp_path / "notice.xml"
        path.write_text(
            f"<?xml version='1.0'?>{declaration}<Navetavisering>"
            f"<Folkbokforingsposter>{record}</Folkbokforingsposter></Navetavisering>"
        )
        with pytest.raises(NavetFormatError) as refused:
            names_in(path)
        assert (
            str(refused.value) == "notice.xml: a document type declaration (DOCTYPE) is not allowed"
        )


def test_an_undeclared_entity_is_refused(tmp_path: Path) -> None:
    record = nf.record(person=[nf.names(last="Lind")]).replace("Lind", "&x;")
    path = nf.navet_file(tmp_path / "notice.xml", [record])
    with pytest.raises(NavetFormatError, match="not well-formed XML"):
        names_in(path)


def test_a_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        open_delivery(tmp_path / "missing.xml")


def growth_while_reading(path: Path) -> int:
    """How far resident memory grew while reading every record of the file (bytes)."""
    process = psutil.Process()
    start = peak = process.memory_info().rss
    with open_delivery(path) as navet:
        for count, _ in enumerate(navet.records()):
            if count % 1000 == 0:
                peak = max(peak, process.memory_info().rss)
    return peak - start


def test_memory_stays_flat_however_many_records(tmp_path: Path) -> None:
    """Resident memory, not tracemalloc: the parsed tree is libxml2's, outside Python's
    allocator. Kept (even cleared) records would cost some 140 bytes each — 3.5 MB more
    for the larger file, 1.7 MB of it resident — and uncleared ones some 9 KB each."""
    small_file = nf.synthetic_file(tmp_path / "small.xml", 5_000)
    growth_while_reading(small_file)  # once first: what a first reading allocates for good
    small = growth_while_reading(small_file)
    large = growth_while_reading(nf.synthetic_file(tmp_path / "large.xml", 30_000))
    assert large - small < 1_000_000, (small, large)


def test_a_synthetic_file_holds_distinct_typical_persons(tmp_path: Path) -> None:
    path = nf.synthetic_file(tmp_path / "many.xml.gz", 2_000, compress=True)
    with open_delivery(path) as navet:
        assert navet.delivery is not None and navet.delivery.records_in_file == 2_000
        records = list(navet.records())
    assert len({r.personnummer for r in records}) == len({r.post_id for r in records}) == 2_000
    assert all(r.relations and len(r.relations) == 3 for r in records)
    with gzip.open(path) as unpacked:
        assert unpacked.read(5) == b"<?xml"
