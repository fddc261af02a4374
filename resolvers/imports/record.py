"""One ``Folkbokforingspost`` into one ``Record``.

The record's and the Personpost's children are found in one pass each (a known part
twice is refused), then read part by part: ``Arendeuppgift`` first, so that an error
further on can name the record's PostId.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lxml import etree

from resolvers.imports import elements, related, values
from resolvers.imports.elements import ElementError
from resolvers.imports.records import SEKRETESS, SKYDDAD, Record

# Personpost's parts, by where they sit in the list a pass fills.
_PARTS = (
    "PersonId", "HanvisningsPersonNr", "Hanvisningar", "Avregistrering", "Namn",
    "Folkbokforing", "Adresser", "Civilstand", "Relationer",
)  # fmt: skip
_SLOT = {tag: slot for slot, tag in enumerate(_PARTS)}
_RECORD_SLOT = {"Sekretessmarkering": 0, "SkyddadFolkbokforing": 1, "Arendeuppgift": 2,
                "Personpost": 3}  # fmt: skip


def read_record(post: etree._Element) -> Record:
    (secrecy, protected, case, person), twice = _children(post, _RECORD_SLOT, 4)
    if case is None:
        raise ElementError(post, "missing: a record without a PostId is refused", "Arendeuppgift")
    post_id, changed_at, total = _case(case)
    try:
        if twice is not None:
            raise ElementError(twice, "appears more than once")
        if person is None:
            raise ElementError(post, "missing", "Personpost")
        return Record(post_id, changed_at, total, *_person(person, _protection(secrecy, protected)))
    except ElementError as error:
        error.post_id = post_id
        raise


def _children(
    element: etree._Element, slots: dict[str, int], size: int
) -> tuple[list[etree._Element | None], etree._Element | None]:
    """The known children by slot, in one pass, and the first known one that repeats."""
    found: list[etree._Element | None] = [None] * size
    twice = None
    for child in element[:]:
        slot = slots.get(child.tag)
        if slot is not None:
            if found[slot] is not None and twice is None:
                twice = child
            found[slot] = child
    return found, twice


def _case(case: etree._Element) -> tuple[int, dt.datetime | None, bool]:
    """``Arendeuppgift``: PostId (required: the importer orders and deduplicates by it),
    ``@andringstidpunkt`` and ``@totalpost``."""
    post_id = None
    for child in case[:]:
        if child.tag == "PostId":
            text = (child.text or "").strip()
            if not text:
                raise ElementError(child, "empty: a record without a PostId is refused")
            if len(text) > 16 or not (text.isascii() and text.isdigit()):
                raise ElementError(child, "not a number of up to 16 digits")
            post_id = int(text)
    if post_id is None:
        raise ElementError(case, "missing: a record without a PostId is refused", "PostId")
    try:
        changed_at = values.timestamp(case.get("andringstidpunkt"))
    except ValueError as error:
        raise _with_post_id(ElementError(case, str(error), "@andringstidpunkt"), post_id) from None
    try:
        total = values.total(case.get("totalpost"))
    except ValueError as error:
        raise _with_post_id(ElementError(case, str(error), "@totalpost"), post_id) from None
    return post_id, changed_at, total


def _with_post_id(error: ElementError, post_id: int) -> ElementError:
    error.post_id = post_id
    return error


def _protection(secrecy: etree._Element | None, protected: etree._Element | None) -> str | None:
    """SKYDDAD when SkyddadFolkbokforing is J, else SEKRETESS when Sekretessmarkering is J."""
    if protected is not None and _flag(protected):
        return SKYDDAD
    if secrecy is not None and _flag(secrecy):
        return SEKRETESS
    return None


def _flag(element: etree._Element) -> bool:
    try:
        return values.flag(element.text)
    except ValueError as error:
        raise ElementError(element, str(error)) from None


def _person(person: etree._Element, protection: str | None) -> tuple[Any, ...]:
    """The Record's fields from ``personnummer`` on."""
    parts, twice = _children(person, _SLOT, len(_PARTS))
    if twice is not None:
        raise ElementError(twice, "appears more than once")
    number, old, new, leaving, name, registered, where, civil, kin = parts
    if number is None:
        raise ElementError(person, "missing", "PersonId")
    registration = None if registered is None else elements.registration(registered)
    own = _person_id(number)
    return (
        own,
        protection,
        _referral(old, new, own),
        None if leaving is None else elements.deregistration(leaving),
        None if name is None else elements.names(name),
        registration,
        None if where is None else elements.addresses(where, registration),
        None if civil is None else elements.civil_status(civil),
        None if kin is None else related.relations(kin, own),
    )


def _person_id(element: etree._Element) -> str:
    """``PersonId``: PersonNr, or TilldelatPersonNrSamordningsNr; anything else in it
    (newer deliveries put references to earlier identities there) is read past."""
    found = None
    for child in element[:]:
        if child.tag == "PersonNr" or (child.tag == "TilldelatPersonNrSamordningsNr" and not found):
            found = child
    if found is None:
        raise ElementError(element, "missing", "PersonNr")
    return _number(found)


def _number(element: etree._Element, own: str | None = None) -> str:
    """A personnummer; not ``own``, when given (the record's own number)."""
    try:
        number = values.personnummer(element.text)
    except ValueError as error:
        raise ElementError(element, str(error)) from None
    if number == own:
        raise ElementError(element, related.OWN_NUMBER)
    return number


def _referral(old: etree._Element | None, new: etree._Element | None, own: str) -> str | None:
    """The number now used: the newer ``Hanvisningar`` when present, of its Hanvisning
    the last with status NY, else the last; else the older ``HanvisningsPersonNr``.
    A referral to ``own``, the record's own number, is refused."""
    if new is None:
        return None if old is None or not (old.text or "").strip() else _number(old, own)
    chosen = latest = None
    for referral in new:
        if referral.tag != "Hanvisning":
            continue
        status = referral.get("status")
        if status is not None and status not in values.REFERRAL_STATUS:
            raise ElementError(referral, f"{values.shown(status)} is neither NY nor AS", "@status")
        number = next((c for c in referral if c.tag == "HanvisningsPersonNr"), None)
        if number is None:
            raise ElementError(referral, "missing", "HanvisningsPersonNr")
        latest = _number(number, own)
        chosen = latest if status == "NY" else chosen
    return chosen or latest
