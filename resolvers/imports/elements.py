"""The parts of a ``Personpost``, each read in one pass over its children.

Every reader takes the lxml element of its part and returns the part as
``resolvers.imports.records`` declares it, or raises ``ElementError`` naming the element
at fault (``related`` reads the relations so). Children the schema does not know, or
that the register does not keep, are read past. A repeated simple element counts by its
last occurrence; a repeated address kind is refused (which of two registered addresses
would be the person's?).

A pass runs over ``element[:]``, the children as a list lxml builds in C, which is a
quarter faster than iterating the element: a full extract reads some 80 million elements.
"""

from __future__ import annotations

from lxml import etree

from resolvers.imports import values
from resolvers.imports.records import CivilStatus, Deregistration, Names, Registration
from resolvers.register.rows import AddressRow


class ElementError(Exception):
    """A known element that does not hold what the schema says; ``part`` names a child
    or attribute (``@status``) of ``element`` when that is what is missing or wrong."""

    def __init__(self, element: etree._Element, reason: str, part: str | None = None) -> None:
        super().__init__(reason)
        self.element, self.reason, self.part = element, reason, part
        self.post_id: int | None = None

    def path(self, top: etree._Element | None) -> str:
        """The element's path below ``top`` (``Personpost/Namn/Efternamn``); a repeated
        sibling by its position (``Relation[2]``)."""
        steps = [self.part] if self.part else []
        node: etree._Element | None = self.element
        while node is not None and node is not top:
            parent = node.getparent()
            step = str(node.tag)
            if parent is not None:
                same = [sibling for sibling in parent if sibling.tag == node.tag]
                step += f"[{same.index(node) + 1}]" if len(same) > 1 else ""
            steps.append(step)
            node = parent
        return "/".join(reversed(steps))


def names(element: etree._Element) -> Names:
    """``Namn``. Efternamn is required; a Namn without Fornamn is a person whose first
    names are not registered yet (a newborn's, for up to three months): ``""``."""
    first = given = middle = last = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "Fornamn":
                first = values.string(child.text, 80)
            elif tag == "Efternamn":
                last = values.string(child.text, 60)
            elif tag == "Tilltalsnamnsmarkering":
                given = values.digits(child.text, 2)
                if given is not None and given[0] == "0":
                    raise ElementError(child, "not a position code from 10 to 99")
            elif tag == "Mellannamn":
                middle = values.string(child.text, 40)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if last is None:
        raise ElementError(element, "missing or empty: every person has a last name", "Efternamn")
    return Names(first or "", given, middle, last)


def registration(element: etree._Element) -> Registration:
    """``Folkbokforing``."""
    since = county = municipality = designation = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "Folkbokforingsdatum":
                since = values.date(child.text)
            elif tag == "LanKod":
                county = values.digits(child.text, 2)
            elif tag == "KommunKod":
                municipality = values.digits(child.text, 2)
            elif tag == "Fastighetsbeteckning":
                designation = values.string(child.text, 40)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    return Registration(since, county, municipality, designation)


def addresses(element: etree._Element, registered: Registration | None) -> tuple[AddressRow, ...]:
    """``Adresser``: F from Folkbokforingsadress (with the county and municipality of
    ``Folkbokforing``), S from SarskildPostadress, U from Utlandsadress. An address
    element with nothing in it is no address."""
    rows: dict[str, AddressRow] = {}
    for child in element[:]:
        tag = child.tag
        if tag == "Folkbokforingsadress":
            kind, row = "F", swedish_address(child, "F", registered)
        elif tag == "SarskildPostadress":
            kind, row = "S", swedish_address(child, "S", None)
        elif tag == "Utlandsadress":
            kind, row = "U", foreign_address(child)
        else:
            continue
        if kind in rows:
            raise ElementError(child, "a second address of this kind")
        if row is not None:
            rows[kind] = row
    return tuple(rows.values())


def swedish_address(
    element: etree._Element, kind: str, registered: Registration | None
) -> AddressRow | None:
    """``SvenskAdressTYPE``."""
    care_of = line1 = line2 = code = town = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "Utdelningsadress2":
                line2 = values.string(child.text, 35)
            elif tag == "PostNr":
                code = values.postal_code(child.text)
            elif tag == "Postort":
                town = values.string(child.text, 27)
            elif tag == "Utdelningsadress1":
                line1 = values.string(child.text, 35)
            elif tag == "CareOf":
                care_of = values.string(child.text, 35)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if care_of is None and line1 is None and line2 is None and code is None and town is None:
        return None
    county = registered.county_code if registered else None
    municipality = registered.municipality_code if registered else None
    return AddressRow(kind, care_of, line1, line2, None, code, town, county, municipality)


def foreign_address(element: etree._Element) -> AddressRow | None:
    """``UtlandsadressTYPE``: three lines and the country."""
    lines: list[str | None] = [None, None, None]
    country = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "Land":
                country = values.string(child.text, 35)
            elif tag in _FOREIGN_LINES:
                lines[_FOREIGN_LINES[tag]] = values.string(child.text, 35)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if country is None and lines == [None, None, None]:
        return None
    return AddressRow("U", line1=lines[0], line2=lines[1], line3=lines[2], country=country)


_FOREIGN_LINES = {"Utdelningsadress1": 0, "Utdelningsadress2": 1, "Utdelningsadress3": 2}


def civil_status(element: etree._Element) -> CivilStatus:
    """``Civilstand``; a code is required (``A``, as some write Ä, reads as ``Ä``)."""
    status = since = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "CivilstandKod":
                status = values.code(child.text, _CIVIL_STATUS_READ)
            elif tag == "Civilstandsdatum":
                since = values.date(child.text)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if status is None:
        raise ElementError(element, "missing", "CivilstandKod")
    return CivilStatus("Ä" if status == "A" else status, since)


_CIVIL_STATUS_READ = values.CIVIL_STATUS | {"A"}


def deregistration(element: etree._Element) -> Deregistration:
    """``Avregistrering``; a code is required."""
    reason = date = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "AvregistreringsorsakKod":
                reason = values.code(child.text, values.DEREGISTRATION)
            elif tag == "Avregistreringsdatum":
                date = values.date(child.text)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if reason is None:
        raise ElementError(element, "missing", "AvregistreringsorsakKod")
    return Deregistration(reason, date)
