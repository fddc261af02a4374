"""Register codes and their meanings, as Skatteverket's distribution service delivers them."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

CIVIL_STATUS = {
    "OG": ("UNMARRIED", "ogift"),
    "G": ("MARRIED", "gift"),
    "Ä": ("WIDOWED", "änka/änkling"),
    "S": ("DIVORCED", "skild"),
    "RP": ("REGISTERED_PARTNER", "registrerad partner"),
    "SP": ("DIVORCED_PARTNER", "skild partner"),
    "EP": ("SURVIVING_PARTNER", "efterlevande partner"),
}


class Meaning(NamedTuple):
    """What a code means: in Swedish, as officials read it, and in English."""

    swedish: str
    english: str


# Avregistreringsorsak: the importer, the Skatteverket contract and the schema's
# description read the codes from here (the SQL CHECK on person lists them too, held
# equal by tests/test_codes.py).
DEREGISTRATION = {
    "AV": Meaning("avliden", "deceased"),
    "UV": Meaning("utvandrad", "emigrated"),
    "GN": Meaning("gammalt nummer", "old personnummer"),
    # In Navet's schema (AvregistreringsorsakKod) without a published meaning; read as
    # the "other reason" of the older one-letter code O (DOMAIN.md).
    "AN": Meaning("annan orsak", "other reason"),
    "GS": Meaning("gammalt samordningsnummer", "old samordningsnummer"),
    "AS": Meaning("annullerat samordningsnummer", "annulled samordningsnummer"),
    "OB": Meaning("obehörigt (saknas)", "missing"),
    "TA": Meaning("tekniskt avregistrerad", "technical"),
    "FI": Meaning("falsk identitet", "false identity"),
}

# A person's status, as every tier may know it (the deregistration code itself is an
# EXTENDED detail). The SQL function person_status() in the migrations is the same rule
# for the register's rows; tests/test_status.py holds the two equal.
REGISTERED, COORDINATION_NUMBER = "REGISTERED", "COORDINATION_NUMBER"
DECEASED, EMIGRATED, DEREGISTERED = "DECEASED", "EMIGRATED", "DEREGISTERED"
STATUS_BY_DEREGISTRATION = {"AV": DECEASED, "UV": EMIGRATED}


def person_status(is_coordination_number: bool, deregistration_code: str | None) -> str:
    """Deregistered (deceased, emigrated, otherwise) first; else a samordningsnummer holder,
    who is not and never was folkbokförd; else registered."""
    if deregistration_code is not None:
        return STATUS_BY_DEREGISTRATION.get(deregistration_code, DEREGISTERED)
    return COORDINATION_NUMBER if is_coordination_number else REGISTERED


RELATION_KIND = {
    "B": "CHILD",
    "MO": "MOTHER",
    "FA": "FATHER",
    "F": "PARENT",
    "V": "GUARDIAN",
    "VF": "WARD",
    "M": "SPOUSE",
    "P": "REGISTERED_PARTNER",
}

_NAME_PARTS = re.compile(r"[^\s-]+")


def given_name(first_names: str, code: str | None) -> str | None:
    """The tilltalsnamn marked by a two-digit position code.

    ``20`` is the second first name; ``12`` the first and second together (a
    hyphenated name counts as two). No code, or one pointing past the names: None.
    """
    if code == "10":  # the first name: four persons in five
        first = _NAME_PARTS.search(first_names)
        return None if first is None else first.group()
    return _given_name(first_names, code)


@lru_cache(maxsize=8192)  # the other codes: name/code pairs repeat
def _given_name(first_names: str, code: str | None) -> str | None:
    if not code or len(code) != 2 or not code.isdigit() or code[0] == "0":
        return None
    parts = list(_NAME_PARTS.finditer(first_names))
    start, end = int(code[0]), int(code[1]) or int(code[0])
    if end < start or end > len(parts):
        return None
    return first_names[parts[start - 1].start() : parts[end - 1].end()]
