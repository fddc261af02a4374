"""The simulator's own register: persons the local register does not hold.

Coordination-number holders (people working or studying here without being
registered as residents), persons registered elsewhere in Sweden, an emigrated and a
deceased one, and two protected persons (one per kind of number). Deterministic: the
same seed gives the same persons with the same valid numbers (Luhn check digits,
samordningsnummer with day + 60), whatever the date.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from resolvers.development import SIMULATOR, require
from resolvers.domain.personnummer import birth_date, make
from resolvers.skatteverket.contract import Person

if TYPE_CHECKING:
    from faker import Faker

# (Faker locale, country as Skatteverket writes it) for coordination-number holders.
ABROAD = (
    ("pl_PL", "POLEN"),
    ("de_DE", "TYSKLAND"),
    ("fi_FI", "FINLAND"),
    ("en_GB", "STORBRITANNIEN"),
    ("lt_LT", "LITAUEN"),
)
# (county, municipality, postal town, first two digits of its postal codes), all
# outside Västra Götaland (county 14).
ELSEWHERE = (
    ("01", "80", "STOCKHOLM", "11"),
    ("03", "80", "UPPSALA", "75"),
    ("05", "80", "LINKÖPING", "58"),
    ("12", "80", "MALMÖ", "21"),
    ("12", "81", "LUND", "22"),
    ("18", "80", "ÖREBRO", "70"),
    ("24", "80", "UMEÅ", "90"),
)
EMPLOYERS = ("Volvo Cars AB", "Sahlgrenska Universitetssjukhuset", "Göteborgs universitet")
CIVIL_STATUSES = ("OG", "OG", "G", "G", "S", "Ä")

# Kinds of example numbers, as ``examples`` names them.
COORDINATION = "coordination_number"
OUTSIDE_REGION = "outside_region"
EMIGRATED = "emigrated"
DECEASED = "deceased"
ANNULLED = "annulled_coordination_number"
PROTECTED = "protected"
PROTECTED_COORDINATION = "protected_coordination_number"


@dataclass
class SimulatedRegister:
    persons: dict[str, Person] = field(default_factory=dict)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, kind: str, data: dict[str, Any]) -> str:
        person = Person.model_validate(data)  # the contract itself checks what is served
        self.persons[person.personnummer] = person
        self.examples.setdefault(kind, []).append(person.personnummer)
        return person.personnummer


class _Draw:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used: set[str] = set()

    def number(self, born_from: int, born_to: int, male: bool, coordination: bool) -> str:
        while True:
            born = dt.date(born_from, 1, 1) + dt.timedelta(
                days=self.rng.randrange((dt.date(born_to, 12, 31) - dt.date(born_from, 1, 1)).days)
            )
            serial = self.rng.randrange(1, 500) * 2 - male
            digits = make(born, serial, coordination=coordination).digits
            if digits not in self.used:
                self.used.add(digits)
                return digits

    def date(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randrange(max(1, (end - start).days)))


def _faker(locale: str) -> Faker:
    """Faker, which only development installs have: the simulator is a development tool."""
    return require("faker", SIMULATOR).Faker(locale)


def _foreign(fake: Faker, country: str) -> dict[str, str]:
    return {
        "utdelningsadress1": fake.street_address()[:35],
        "utdelningsadress2": f"{fake.postcode()} {fake.city()}"[:35],
        "land": country,
    }


def _coordination_holder(draw: _Draw, index: int, *, protected: bool = False) -> dict[str, Any]:
    locale, country = ABROAD[index % len(ABROAD)]
    fake = _faker(locale)
    fake.seed_instance(draw.rng.randrange(1 << 30))
    male = draw.rng.random() < 0.5
    number = draw.number(1965, 2003, male, coordination=True)
    if protected:
        return {"personnummer": number, "skyddad": True}
    data: dict[str, Any] = {
        "personnummer": number,
        "fornamn": (fake.first_name_male() if male else fake.first_name_female())[:80],
        "tilltalsnamnsmarkering": "10",
        "efternamn": fake.last_name()[:60],
        "utlandsadress": _foreign(fake, country),
    }
    if index % 3 == 0:  # working here: letters go to the employer
        data["sarskildPostadress"] = {
            "coAdress": EMPLOYERS[index % len(EMPLOYERS)],
            "utdelningsadress2": f"Box {100 + index}",
            "postnummer": f"405{30 + index % 60:02d}",
            "postort": "GÖTEBORG",
        }
    return data


def _resident_elsewhere(draw: _Draw, fake: Faker, index: int) -> dict[str, Any]:
    county, municipality, town, prefix = ELSEWHERE[index % len(ELSEWHERE)]
    male = draw.rng.random() < 0.5
    number = draw.number(1940, 2000, male, coordination=False)
    born = birth_date(number)
    first = [fake.first_name_male() if male else fake.first_name_female() for _ in range(2)]
    status = draw.rng.choice(CIVIL_STATUSES)
    adult = dt.date(born.year + 20, 1, 1)
    data: dict[str, Any] = {
        "personnummer": number,
        "fornamn": " ".join(first[: 1 + index % 2]),  # two first names for odd indexes
        "tilltalsnamnsmarkering": {0: None, 3: "20"}.get(index % 4, "10"),
        "efternamn": fake.last_name(),
        "folkbokforingsadress": {
            "utdelningsadress2": f"{fake.street_name()} {draw.rng.randrange(1, 80)}"[:35],
            "postnummer": f"{prefix}{draw.rng.randrange(100, 1000)}",
            "postort": town,
            "lanskod": county,
            "kommunkod": municipality,
        },
        "flyttdatum": draw.date(max(born, dt.date(1995, 1, 1)), dt.date(2024, 12, 31)),
        "civilstand": {
            "kod": status,
            "datum": None if status == "OG" else draw.date(adult, dt.date(2024, 6, 30)),
        },
    }
    if index % 10 == 5:
        data["mellannamn"] = fake.last_name()[:40]
    return data


def build(seed: int = 1, outside_region: int = 200, coordination: int = 20) -> SimulatedRegister:
    """The simulator's register: ``coordination`` + ``outside_region`` persons, and more."""
    draw = _Draw(seed)
    fake = _faker("sv_SE")
    fake.seed_instance(seed)
    register = SimulatedRegister()
    for index in range(coordination):
        register.add(COORDINATION, _coordination_holder(draw, index))
    for index in range(outside_region):
        register.add(OUTSIDE_REGION, _resident_elsewhere(draw, fake, index))

    emigrated = _resident_elsewhere(draw, fake, 0)
    emigrated.pop("folkbokforingsadress")
    emigrated["utlandsadress"] = {
        "utdelningsadress1": "Karl Johans gate 12",
        "utdelningsadress2": "0154 OSLO",
        "land": "NORGE",
    }
    emigrated["avregistrering"] = {"kod": "UV", "datum": "2021-08-15"}
    register.add(EMIGRATED, emigrated)

    deceased = _resident_elsewhere(draw, fake, 1)
    deceased["avregistrering"] = {"kod": "AV", "datum": "2023-02-03"}
    register.add(DECEASED, deceased)

    annulled = _coordination_holder(draw, coordination)
    annulled["avregistrering"] = {"kod": "AS", "datum": "2022-11-30"}
    register.add(ANNULLED, annulled)

    number = draw.number(1940, 2005, draw.rng.random() < 0.5, coordination=False)
    register.add(PROTECTED, {"personnummer": number, "skyddad": True})
    register.add(
        PROTECTED_COORDINATION, _coordination_holder(draw, coordination + 1, protected=True)
    )
    return register
