"""``Relationer``: the persons a record's person is related to, read as ``elements`` reads
the other parts (one pass over each element's children, ``ElementError`` at fault).

A relation names another person: never the record's own number (a relation to oneself
is malformed, as is a Hänvisning to the record's own number: ``OWN_NUMBER``).
"""

from __future__ import annotations

from lxml import etree

from resolvers.imports import values
from resolvers.imports.elements import ElementError
from resolvers.imports.records import Relation

# A relation whose status says it is no longer one (see docs/imports.md): left out.
NOT_CURRENT = frozenset({"AS", "AN"})
# Where another person's number belongs (a relative, the number now used): never the
# record's own.
OWN_NUMBER = "the record's own number"


def relations(element: etree._Element, own: str) -> tuple[Relation, ...]:
    """``Relationer``: every current ``Relation`` of the person numbered ``own``."""
    found = []
    for child in element[:]:
        if child.tag == "Relation":
            relation = _relation(child, own)
            if relation is not None:
                found.append(relation)
    return tuple(found)


def _relation(element: etree._Element, own: str) -> Relation | None:
    status = element.get("status")
    if status is not None and status not in values.RELATION_STATUS:
        raise ElementError(element, f"{values.shown(status)} is not a relation status", "@status")
    kind = number = valid_from = valid_to = None
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "RelationId":
                number = related_number(child, own)
            elif tag == "Relationstyp":
                kind = values.code(child.text, values.RELATION)
            elif tag == "RelationFromdatum":
                valid_from = values.date(child.text)
            elif tag == "RelationTomdatum":
                valid_to = values.date(child.text)
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    if number is None:
        raise ElementError(element, "missing", "RelationId")
    if kind is None:
        raise ElementError(element, "missing", "Relationstyp")
    return None if status in NOT_CURRENT else Relation(kind, number, valid_from, valid_to)


def related_number(element: etree._Element, own: str) -> str:
    """``RelationId``: PersonNr, or FodelsetidNr for a person who never had a number;
    not ``own``, the number of the record's person (a relation to oneself)."""
    child = element
    try:
        for child in element[:]:
            tag = child.tag
            if tag == "PersonNr":
                number = values.personnummer(child.text)
            elif tag == "FodelsetidNr":
                number = values.birth_time_number(child.text)
            else:
                continue
            if number == own:
                raise ElementError(child, OWN_NUMBER)
            return number
    except ValueError as error:
        raise ElementError(child, str(error)) from None
    raise ElementError(element, "missing", "PersonNr")
