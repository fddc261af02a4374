"""A reference for what importing Navet files does to the register, to check deliveries by.

``read`` parses a file's records with lxml into the import's ``Record`` (as the reader
hands them over); ``replay`` applies them in PostId order the way the import is meant to:

- a record with a protection mark keeps the number and the mark, nothing else;
- a total record replaces everything known of its person;
- any other record replaces each part it carries (Namn, Folkbokforing, Adresser,
  Civilstand, Avregistrering, Relationer) and leaves the rest;
- Avregistrering GN with a HanvisningsPersonNr moves the person to the new number;
- a Folkbokforing in another county (LanKod) takes the person out of the register.

``rows`` turns the result into the demo register's rows, keyed by personnummer.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from resolvers.domain.personnummer import birth_date
from resolvers.imports.records import (
    SEKRETESS,
    SKYDDAD,
    CivilStatus,
    Deregistration,
    Names,
    Record,
    Registration,
    Relation,
)
from resolvers.register.rows import AddressRow

COUNTY = "14"
PARTS = ("deregistration", "names", "registration", "addresses", "civil_status", "relations")
Element = Any  # lxml's element type


def parse(path: Path) -> Element:
    """The file's root element; ``.gz`` files are unpacked."""
    if path.suffix == ".gz":
        with gzip.open(path) as packed:
            return etree.parse(packed).getroot()
    return etree.parse(path).getroot()


def read(path: Path) -> Iterator[Record]:
    for post in parse(path).iterfind("Folkbokforingsposter/Folkbokforingspost"):
        yield record(post)


def record(post: Element) -> Record:
    case, person = post.find("Arendeuppgift"), post.find("Personpost")
    changed = case.get("andringstidpunkt")
    registration = _registration(person.find("Folkbokforing"))
    protection = SKYDDAD if post.findtext("SkyddadFolkbokforing") == "J" else None
    if post.findtext("Sekretessmarkering") == "J":
        protection = protection or SEKRETESS
    return Record(
        int(case.findtext("PostId")),
        dt.datetime.strptime(changed, "%Y%m%d%H%M%S") if changed else None,
        case.get("totalpost") == "J",
        person.findtext("PersonId/PersonNr"),
        protection,
        person.findtext("HanvisningsPersonNr"),
        _deregistration(person.find("Avregistrering")),
        _names(person.find("Namn")),
        registration,
        _addresses(person.find("Adresser"), registration),
        _civil_status(person.find("Civilstand")),
        _relations(person.find("Relationer")),
    )


def replay(records: Iterable[Record]) -> dict[str, Record]:
    state: dict[str, Record] = {}
    for r in sorted(records, key=lambda r: r.post_id):
        if r.protection:
            state[r.personnummer] = Record(r.post_id, None, True, r.personnummer, r.protection,
                                           *[None] * 7)  # fmt: skip
        elif r.total:
            state[r.personnummer] = r
        elif r.new_personnummer:
            state[r.new_personnummer] = replace(
                state.pop(r.personnummer), personnummer=r.new_personnummer
            )
        elif r.registration and r.registration.county_code not in (None, COUNTY):
            del state[r.personnummer]
        else:
            carried = {part: getattr(r, part) for part in PARTS if getattr(r, part) is not None}
            state[r.personnummer] = replace(state[r.personnummer], **carried)
    return state


def rows(state: dict[str, Record], key_codes: dict[tuple[str, str, str], str]) -> dict[str, Any]:
    """Person, address and relation rows by personnummer, as the demo register has them."""
    persons, addresses, relations = {}, {}, {}
    for number, r in state.items():
        g, c, d, n = r.registration, r.civil_status, r.deregistration, r.names
        key = (g.county_code, g.municipality_code, g.property_designation) if g else None
        names = (n.first_names, n.given_name_code, n.middle_name, n.last_name) if n else (None,) * 4
        persons[number] = (
            birth_date(number), *names,
            g.registered_on if g else None, key_codes.get(key) if key else None,
            c.code if c else None, c.since if c else None,
            d.code if d else None, d.date if d else None, r.protection,
        )  # fmt: skip
        addresses[number] = sorted(r.addresses or (), key=lambda a: a.kind)
        relations[number] = sorted((x.kind, x.personnummer, x.valid_from, x.valid_to)
                                   for x in r.relations or ())  # fmt: skip
    return {"persons": persons, "addresses": addresses, "relations": relations}


def _date(text: str | None) -> dt.date | None:
    return None if text is None else dt.datetime.strptime(text, "%Y%m%d").date()


def _deregistration(e: Element | None) -> Deregistration | None:
    if e is None:
        return None
    code, day = e.findtext("AvregistreringsorsakKod"), e.findtext("Avregistreringsdatum")
    return Deregistration(code, _date(day))


def _names(e: Element | None) -> Names | None:
    if e is None:
        return None
    code = e.findtext("Tilltalsnamnsmarkering")
    return Names(e.findtext("Fornamn"), code, e.findtext("Mellannamn"), e.findtext("Efternamn"))


def _registration(e: Element | None) -> Registration | None:
    if e is None:
        return None
    return Registration(
        _date(e.findtext("Folkbokforingsdatum")), e.findtext("LanKod"),
        e.findtext("KommunKod"), e.findtext("Fastighetsbeteckning"),
    )  # fmt: skip


def _addresses(e: Element | None, at: Registration | None) -> tuple[AddressRow, ...] | None:
    if e is None:
        return None
    found = []
    for kind, name in (("F", "Folkbokforingsadress"), ("S", "SarskildPostadress")):
        if (a := e.find(name)) is not None:
            # The county and municipality of a folkbokföringsadress are Folkbokforing's.
            county, municipality = (None, None) if kind != "F" or at is None else (
                at.county_code, at.municipality_code
            )  # fmt: skip
            found.append(AddressRow(
                kind, a.findtext("CareOf"), a.findtext("Utdelningsadress1"),
                a.findtext("Utdelningsadress2"), None, a.findtext("PostNr"), a.findtext("Postort"),
                county, municipality,
            ))  # fmt: skip
    if (a := e.find("Utlandsadress")) is not None:
        lines = [a.findtext(f"Utdelningsadress{n}") for n in (1, 2, 3)]
        found.append(AddressRow("U", None, *lines, country=a.findtext("Land")))
    return tuple(found)


def _civil_status(e: Element | None) -> CivilStatus | None:
    if e is None:
        return None
    return CivilStatus(e.findtext("CivilstandKod"), _date(e.findtext("Civilstandsdatum")))


def _relations(e: Element | None) -> tuple[Relation, ...] | None:
    if e is None:
        return None
    return tuple(_relation(r) for r in e.iterfind("Relation"))


def _relation(r: Element) -> Relation:
    since, until = r.findtext("RelationFromdatum"), r.findtext("RelationTomdatum")
    kind, number = r.findtext("Relationstyp"), r.findtext("RelationId/*")
    return Relation(kind, number, _date(since), _date(until))
