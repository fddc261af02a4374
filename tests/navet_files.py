"""Navet delivery files for tests: valid ``Navetavisering`` XML, built from keyword arguments.

A record is XML text: ``record(post_id, personnummer, person=[...])`` with the
``Personpost`` parts after ``PersonId`` built by ``names``, ``registration``,
``addresses`` (of ``swedish_address`` / ``foreign_address``), ``civil_status``,
``relations`` (of ``relation``), ``deregistration`` and ``referral``; without
``person=`` a typical person (names, registered address, civil status, three
relations). ``navet_file(path, [record(...), ...])`` writes the file around them;
``synthetic_file(path, n)`` writes ``n`` distinct typical persons without holding them.
Every argument that is None leaves its element out.
"""

from __future__ import annotations

import datetime as dt
import gzip
import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from resolvers.domain.personnummer import make

ORDER_ID = "SKV000000000001234"  # BestallningsId: 18 characters
Text = str | None  # None: the element is left out


def number(birth_date: dt.date = dt.date(1980, 5, 17), serial: int = 1) -> str:
    """A valid personnummer: the serial-th birth number of that day (1–999)."""
    return make(birth_date, serial).digits


PERSON = number()
SPOUSE = number(dt.date(1979, 3, 2), 7)
CHILD = number(dt.date(2012, 8, 30), 24)


def element(tag: str, text: object, **attributes: object) -> str:
    """``<tag>text</tag>``, or nothing when the text is None."""
    if text is None:
        return ""
    shown = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items())
    return f"<{tag}{shown}>{escape(str(text))}</{tag}>"


def group(tag: str, *parts: str, **attributes: object) -> str:
    shown = "".join(f" {name}={quoteattr(str(value))}" for name, value in attributes.items())
    return f"<{tag}{shown}>{''.join(parts)}</{tag}>"


def names(
    first: Text = "Anna Maria", last: Text = "Svensson", code: Text = "10", middle: Text = None
) -> str:
    return group(
        "Namn",
        element("Tilltalsnamnsmarkering", code),
        element("Fornamn", first),
        element("Mellannamn", middle),
        element("Efternamn", last),
    )


def registration(
    date: Text = "20200301",
    county: Text = "14",
    municipality: Text = "80",
    property_designation: Text = "LÅNGA 3",
) -> str:
    return group(
        "Folkbokforing",
        element("Folkbokforingsdatum", date),
        element("LanKod", county),
        element("KommunKod", municipality),
        element("Fastighetsbeteckning", property_designation),
    )


def swedish_address(
    tag: str = "Folkbokforingsadress",
    line2: Text = "Storgatan 1 lgh 1102",
    postal_code: Text = "41263",
    town: Text = "GÖTEBORG",
    care_of: Text = None,
    line1: Text = None,
) -> str:
    """A ``SvenskAdressTYPE``: Folkbokforingsadress, or ``SarskildPostadress`` by tag."""
    return group(
        tag,
        element("CareOf", care_of),
        element("Utdelningsadress1", line1),
        element("Utdelningsadress2", line2),
        element("PostNr", postal_code),
        element("Postort", town),
    )


def foreign_address(*lines: str, country: Text = "NORGE") -> str:
    parts = [element(f"Utdelningsadress{index}", line) for index, line in enumerate(lines, 1)]
    return group("Utlandsadress", *parts, element("Land", country))


def addresses(*kinds: str) -> str:
    """``Adresser`` holding the given addresses (none: the person has no address)."""
    return group("Adresser", *kinds)


def civil_status(code: Text = "G", date: Text = "20100612") -> str:
    return group("Civilstand", element("CivilstandKod", code), element("Civilstandsdatum", date))


def relation(
    kind: str,
    personnummer: str,
    valid_from: Text = None,
    valid_to: Text = None,
    *,
    status: Text = None,
    id_tag: str = "PersonNr",
) -> str:
    """One ``Relation``; ``id_tag="FodelsetidNr"`` for a person who never had a number."""
    attributes = {} if status is None else {"status": status}
    return group(
        "Relation",
        group("RelationId", element(id_tag, personnummer)),
        element("Relationstyp", kind),
        element("RelationFromdatum", valid_from),
        element("RelationTomdatum", valid_to),
        **attributes,
    )


def relations(*items: str) -> str:
    return group("Relationer", *items)


def deregistration(code: Text = "AV", date: Text = "20240101") -> str:
    return group(
        "Avregistrering",
        element("AvregistreringsorsakKod", code),
        element("Avregistreringsdatum", date),
    )


def referral(personnummer: str) -> str:
    """The older form of a changed number: ``HanvisningsPersonNr`` in ``Personpost``."""
    return element("HanvisningsPersonNr", personnummer)


def referrals(*numbers: tuple[str, Text]) -> str:
    """The newer form: ``Hanvisningar`` of (number, status) pairs."""
    items = [
        group("Hanvisning", element("HanvisningsPersonNr", n), **({"status": s} if s else {}))
        for n, s in numbers
    ]
    return group("Hanvisningar", *items)


def typical_person(spouse: str = SPOUSE, child: str = CHILD, mother: Text = None) -> list[str]:
    return [
        names(),
        registration(),
        addresses(swedish_address()),
        civil_status(),
        relations(
            relation("M", spouse, "20100612"),
            relation("B", child, "20120830"),
            relation("MO", mother or number(dt.date(1950, 1, 9), 42), "19800517"),
        ),
    ]


def record(
    post_id: int | Text = 1,
    personnummer: str = PERSON,
    *,
    person: Sequence[str] | None = None,
    total: Text = "J",
    changed_at: Text = "20240105120000",
    secrecy: Text = "N",
    protected: Text = None,
    person_id_extra: str = "",
    before_person: str = "",
    after_person: str = "",
) -> str:
    """One ``Folkbokforingspost``. ``secrecy``/``protected`` are Sekretessmarkering and
    SkyddadFolkbokforing (None: absent); ``*_extra`` and ``*_person`` put raw XML in."""
    case = {"andringstidpunkt": changed_at, "totalpost": total}
    return group(
        "Folkbokforingspost",
        element("Sekretessmarkering", secrecy),
        element("SkyddadFolkbokforing", protected),
        group(
            "Arendeuppgift",
            element("PostId", post_id),
            element("Arendetyp", "AVISERING"),
            **{name: value for name, value in case.items() if value is not None},
        ),
        before_person,
        group(
            "Personpost",
            group("PersonId", element("PersonNr", personnummer), person_id_extra),
            *(typical_person() if person is None else person),
        ),
        after_person,
    )


def header(
    records: int,
    *,
    # Bestallningstyp: kind FULL for a grunduttag, CHANGES for anything without GRUND/UTTAG.
    order_type: str = "GRUNDUTTAG",
    order_id: str = ORDER_ID,
    product: str = "NAVET",
    file_name: str = "NAVET.GRUND.XML",
    effective_date: Text = "20240105",
    records_total: int | None = None,
    files: int = 1,
    file_no: int = 1,
    job_id: int = 4711,
    sequence_no: int | None = 12,
) -> str:
    """``Aviseringsinformation`` for a file of ``records`` records."""
    return group(
        "Aviseringsinformation",
        group(
            "Medieleverantor",
            element("OrgNr", "162021004748"),
            element("Organisationsnamn", "Skatteverket"),
        ),
        group("Mediemottagare", element("KundNr", "00001480"), element("OrgNr", "212000134200")),
        group(
            "Filinformation",
            element("BestallningsId", order_id),
            element("Bestallningstyp", order_type),
            element("Produkt", product),
            group(
                "Utfil",
                element("Filnamn", file_name),
                element("Effektueringsdatum", effective_date),
                element("AntalPoster", records),
                element("AntalPosterTotalt", records if records_total is None else records_total),
                element("AntalFiler", files),
                element("FilNr", file_no),
                element("JobbId", job_id),
                element("LopNr", sequence_no),
            ),
        ),
    )


def navet_file(
    path: Path,
    records: Sequence[str] = (),
    *,
    encoding: str = "UTF-8",
    compress: bool = False,
    with_header: bool = True,
    count: int | None = None,
    **delivery: object,
) -> Path:
    """Write a delivery file of these records; ``count`` is what AntalPoster says (by
    default the number of records); ``delivery`` goes to ``header``."""
    head = header(len(records) if count is None else count, **delivery) if with_header else ""
    return write(path, [head, *records], encoding=encoding, compress=compress)


def write(
    path: Path, parts: Iterable[str], *, encoding: str = "UTF-8", compress: bool = False
) -> Path:
    """The file around the given header and records, streamed to disk."""
    with gzip.open(path, "wb") if compress else path.open("wb") as out:
        out.write(f'<?xml version="1.0" encoding="{encoding}"?>\n<Navetavisering>'.encode(encoding))
        parts = iter(parts)
        out.write(next(parts, "").encode(encoding))
        out.write(b"<Folkbokforingsposter>\n")
        for part in parts:
            out.write(part.encode(encoding) + b"\n")
        out.write(b"</Folkbokforingsposter></Navetavisering>\n")
    return path


def synthetic_records(count: int) -> Iterator[str]:
    """``count`` typical persons with distinct numbers and PostIds, one by one (quickly:
    one record's text, with the number and PostId put in)."""
    template = record(0, "{number}").replace("<PostId>0<", "<PostId>{post_id}<")
    days = (dt.date(1940, 1, 1) + dt.timedelta(days=n) for n in itertools.count())
    serials = ((day, serial) for day in days for serial in range(1, 1000, 3))
    for post_id, (day, serial) in enumerate(itertools.islice(serials, count), 1):
        yield template.format(number=number(day, serial), post_id=post_id)


def synthetic_file(path: Path, count: int, *, compress: bool = False) -> Path:
    """A delivery of ``count`` typical persons (see ``synthetic_records``)."""
    return write(
        path, itertools.chain([header(count)], synthetic_records(count)), compress=compress
    )
