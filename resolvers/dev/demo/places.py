"""Where people live: towns, key code areas, street addresses, other and foreign addresses."""

from __future__ import annotations

import random
from collections.abc import Sequence

from resolvers.dev.demo.model import Area, Row, address_row
from resolvers.register.rows import AddressRow

AREA_COUNT = 980
APARTMENT_SHARE, CARE_OF_SHARE = 0.15, 0.01

TOWNS = (  # municipality code, postal town, postal code range, share of households
    ("80", "GÖTEBORG", 41101, 41879, 56), ("80", "VÄSTRA FRÖLUNDA", 42100, 42179, 12),
    ("80", "HISINGS BACKA", 42200, 42259, 6), ("80", "ANGERED", 42420, 42479, 7),
    ("80", "TORSLANDA", 42330, 42379, 3), ("80", "ASKIM", 43630, 43654, 3),
    ("81", "MÖLNDAL", 43130, 43169, 9), ("81", "KÅLLERED", 42830, 42836, 2),
    ("81", "LINDOME", 43730, 43745, 2),
)  # fmt: skip
OTHER_TOWNS = (  # for särskild postadress: boxes and second homes
    ("GÖTEBORG", 40010, 40599), ("KUNGSBACKA", 43430, 43499), ("ALINGSÅS", 44130, 44195),
    ("BORÅS", 50330, 50772), ("STRÖMSTAD", 45230, 45297), ("STOCKHOLM", 11120, 11860),
)  # fmt: skip
FOREIGN = (  # country, address lines ({n}: house number)
    ("NORGE", ("Thereses gate {n}", "0168 OSLO")),
    ("DANMARK", ("Nørrebrogade {n}", "2200 KØBENHAVN N")),
    ("TYSKLAND", ("Hauptstraße {n}", "10115 BERLIN")),
    ("FINLAND", ("Mannerheimintie {n}", "00100 HELSINKI")),
    ("STORBRITANNIEN", ("{n} High Street", "OXFORD", "OX1 4AP")),
    ("SPANIEN", ("Calle Mayor {n}", "29601 MARBELLA")),
    ("USA", ("{n} Main Street", "SEATTLE WA 98101")),
)


def areas(rng: random.Random, streets: Sequence[str]) -> list[Area]:
    """``AREA_COUNT`` areas with distinct key codes, in key code order."""
    keys = sorted(rng.sample(range(100_000, 1_000_000), AREA_COUNT))
    return [_area(rng, streets, str(key)) for key in keys]


def _area(rng: random.Random, streets: Sequence[str], key_code: str) -> Area:
    municipality, town, low, high, _ = rng.choices(TOWNS, [t[4] for t in TOWNS])[0]
    names = tuple(rng.sample(streets, rng.randint(2, 6)))
    return Area(key_code, municipality, str(rng.randint(low, high)), town, names)


def home_lines(
    rng: random.Random, area: Area, last_names: Sequence[str]
) -> tuple[str | None, str | None, str]:
    """A registered address's care of, apartment and street lines in ``area``."""
    street = f"{rng.choice(area.streets)} {rng.randint(1, 120)}"
    if rng.random() < 0.15:
        street += " " + rng.choice("ABC")
    line1 = care_of = None
    if rng.random() < APARTMENT_SHARE:
        line1 = f"LGH {rng.randint(10, 17)}{rng.randint(1, 4):02d}"
    if rng.random() < CARE_OF_SHARE:
        care_of = rng.choice(last_names)  # the name alone, as Navet's CareOf holds it
    return care_of, line1, street


def foreign_address(rng: random.Random) -> tuple[str | None, ...]:
    """Address lines 1 to 3 abroad (unused ones None), then the country."""
    country, lines = rng.choice(FOREIGN)
    number = rng.randint(1, 90)
    texts = [line.format(n=number) for line in lines] + [None] * (3 - len(lines))
    return (*texts, country)


def special_address(rng: random.Random, streets: Sequence[str], person_id: int) -> Row:
    """A särskild postadress row: a box or a street address in another town."""
    town, low, high = rng.choice(OTHER_TOWNS)
    line2 = f"BOX {rng.randint(1, 9999)}"
    if rng.random() < 0.5:
        line2 = f"{rng.choice(streets)} {rng.randint(1, 60)}"
    code = str(rng.randint(low, high))
    return address_row(person_id, AddressRow("S", line2=line2, postal_code=code, postal_town=town))
