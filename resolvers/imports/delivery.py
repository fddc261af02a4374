"""``Aviseringsinformation/Filinformation`` into a ``Delivery``: which delivery, which file.

Medieleverantor and Mediemottagare (who sent it, to whom) are read past: the register
keys a file by its delivery (BestallningsId, JobbId, FilNr), not by its parties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from lxml import etree

from resolvers.imports import values
from resolvers.imports.elements import ElementError
from resolvers.imports.records import CHANGES, FULL, Delivery

T = TypeVar("T")


def read_delivery(information: etree._Element) -> Delivery:
    about = _only(information, "Filinformation")
    order_id = _field(about, "BestallningsId", _exactly, 18)
    order_type = _field(about, "Bestallningstyp", _string, 20)
    product = _field(about, "Produkt", _exactly, 5)
    file = _only(about, "Utfil")
    files = _field(file, "AntalFiler", values.natural, 1, 999)
    return Delivery(
        order_id=order_id,
        order_type=order_type,
        product=product,
        file_name=_field(file, "Filnamn", _string, 40),
        effective_date=_field(file, "Effektueringsdatum", values.date),
        records_in_file=_field(file, "AntalPoster", values.natural, 0, 99_999_999),
        records_in_delivery=_field(file, "AntalPosterTotalt", values.natural, 0, 99_999_999),
        files_in_delivery=files,
        file_no=_field(file, "FilNr", values.natural, 1, files),
        job_id=_field(file, "JobbId", values.natural, 1, 99_999_999),
        sequence_no=_field(file, "LopNr", values.natural, 0, 99_999, required=False),
        kind=kind_of(order_type),
    )


def kind_of(order_type: str) -> str:
    """FULL for a grunduttag, else CHANGES. Skatteverket does not publish Bestallningstyp's
    values: a type naming GRUND (grunduttag, grundavisering) or UTTAG counts as a full
    extract — a guess the importer's ``--full`` overrides."""
    folded = order_type.casefold()
    return FULL if "grund" in folded or "uttag" in folded else CHANGES


def _only(element: etree._Element, tag: str) -> etree._Element:
    found = [child for child in element if child.tag == tag]
    if not found:
        raise ElementError(element, "missing", tag)
    if len(found) > 1:
        raise ElementError(found[1], "appears more than once")
    return found[0]


def _field(
    element: etree._Element,
    tag: str,
    reader: Callable[..., T | None],
    *args: object,
    required: bool = True,
) -> T:
    found = [child for child in element if child.tag == tag]
    if len(found) > 1:
        raise ElementError(found[1], "appears more than once")
    if not found:
        if required:
            raise ElementError(element, "missing", tag)
        return None  # type: ignore[return-value]
    try:  # an empty required element: its reader says so (only a date may be none)
        return reader(found[0].text, *args)  # type: ignore[return-value]
    except ValueError as error:
        raise ElementError(found[0], str(error)) from None


def _string(text: str | None, limit: int) -> str:
    return values.required(values.string(text, limit))


def _exactly(text: str | None, length: int) -> str:
    value = _string(text, length)
    if len(value) != length:
        raise ValueError(f"not {length} characters")
    return value
