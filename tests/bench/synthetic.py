"""Synthetic Navet records, made fast enough that a measurement is of the importer.

Person ``i`` has a number of their own (a birth date and a birth number from ``i``), one
of a few hundred names and addresses, and — every second person — a spouse (the next
or previous person) and a child: about 1.5 relations a person, as a register has.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from functools import lru_cache

from resolvers.imports.records import CivilStatus, Names, Record, Registration, Relation
from resolvers.register.rows import AddressRow

FIRST = ("Anna", "Erik", "Maria", "Lars", "Karin", "Johan", "Eva", "Nils", "Sara", "Olof")
LAST = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson")
BORN_FROM = dt.date(1930, 1, 1)
CHANGED_AT = dt.datetime(2026, 3, 2, 6, 0)
MARRIED = CivilStatus("G", dt.date(2005, 6, 1))
SINGLE = CivilStatus("OG", None)


_DOUBLED = [sum(divmod(2 * digit, 10)) for digit in range(10)]


@lru_cache(maxsize=64)
def _birth(day: int) -> tuple[str, int]:
    """The century and ``YYMMDD`` of a birth ``day`` days after BORN_FROM, and the Luhn
    sum of those six digits."""
    born = BORN_FROM + dt.timedelta(days=day % 34_000)
    digits = f"{born:%y%m%d}"
    weighted = sum(_DOUBLED[int(d)] if k % 2 == 0 else int(d) for k, d in enumerate(digits))
    return f"{born.year // 100}{digits}", weighted


def personnummer(i: int) -> str:
    """A valid number of its own for every ``i`` below 30 million (what ``make`` gives,
    computed without its checks: the measurement is of the importer)."""
    day, serial = divmod(i, 900)
    prefix, weighted = _birth(day)
    a, b, c = divmod(serial + 1, 100)[0], (serial + 1) // 10 % 10, (serial + 1) % 10
    total = weighted + _DOUBLED[a] + b + _DOUBLED[c]
    return f"{prefix}{a}{b}{c}{(10 - total % 10) % 10}"


def _variants(count: int, seed: int) -> list[tuple[Names, Registration, tuple[AddressRow, ...]]]:
    rng = random.Random(seed)
    variants = []
    for n in range(count):
        first = f"{rng.choice(FIRST)} {rng.choice(FIRST)}"
        name = Names(first, "10", None, rng.choice(LAST))
        property_designation = f"KVARTERET {n % 97} {n % 13 + 1}"
        registration = Registration(dt.date(2010, 1, 1), "14", "80", property_designation)
        address = AddressRow(
            "F", line2=f"Storgatan {n % 120 + 1}", postal_code=f"41{n % 1000:03d}",
            postal_town="GÖTEBORG", county_code="14", municipality_code="80",
        )  # fmt: skip
        variants.append((name, registration, (address,)))
    return variants


def full_extract(persons: int, seed: int = 1, first_post_id: int = 1) -> Iterator[Record]:
    """``persons`` total records, PostId ``first_post_id + i``, one per person."""
    variants = _variants(509, seed)
    for i in range(persons):
        name, registration, addresses = variants[i % 509]
        relations: tuple[Relation, ...] = ()
        if i % 2 == 0 and i + 1 < persons:
            spouse = Relation("M", personnummer(i + 1), dt.date(2005, 6, 1), None)
            child = (i * 7919) % persons
            child = (i + 2) % persons if child == i else child  # never oneself
            relations = (spouse, Relation("B", personnummer(child), None, None))
        elif i % 2:
            relations = (Relation("M", personnummer(i - 1), dt.date(2005, 6, 1), None),)
        yield Record(
            first_post_id + i, CHANGED_AT, True, personnummer(i), None, None, None, name,
            registration, addresses, MARRIED if relations else SINGLE, relations,
        )  # fmt: skip


def change_notice(
    records: int, persons: int, first_post_id: int, seed: int = 2
) -> Iterator[Record]:
    """``records`` partial records for persons drawn from the first ``persons``: new last
    names, new addresses (moves within Göteborg), and a few deaths."""
    rng = random.Random(seed)
    variants = _variants(211, seed)
    chosen = rng.sample(range(persons), records)
    for n, i in enumerate(sorted(chosen)):
        name, registration, addresses = variants[n % 211]
        kind = n % 10
        yield Record(
            first_post_id + n, CHANGED_AT, False, personnummer(i), None, None, None,
            name if kind < 4 else None,
            registration if 4 <= kind < 9 else None,
            addresses if 4 <= kind < 9 else None,
            None, None,
        )  # fmt: skip
