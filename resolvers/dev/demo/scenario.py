"""The changes the demo's notices carry, worked back from the register as generated.

``generate`` draws the register as of today. The full extract is that register as it stood
some days earlier: for each change a notice carries, the persons it touches are chosen
from today's register (each person in one change at most) and their earlier records made
up from today's, so that the extract with the notices applied in order is today's register
again. Where today's register has no one for a change (no one has left the county), the
earlier register holds someone today's lacks.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from resolvers.dev.demo.model import Area, Person
from resolvers.dev.demo.navet_records import KeyCodeRow, RegisterRecords, designation
from resolvers.dev.demo.register import COUNTY
from resolvers.domain.personnummer import birth_date
from resolvers.imports.records import (
    CivilStatus,
    Names,
    Record,
    Registration,
    Relation,
)
from resolvers.register.rows import AddressRow

# A record that carries nothing yet: notices' records are this with their parts.
CHANGE = Record(0, None, False, "", None, None, None, None, None, None, None, None)
NOWHERE = Registration(None, None, None, None)  # an empty Folkbokforing: registered nowhere


@dataclass(slots=True)
class Plan:
    """How the extract differs from today's register, and what each notice carries."""

    replaced: dict[str, Record | None] = field(default_factory=dict)  # None: not there yet
    extra: list[Record] = field(default_factory=list)  # in the extract, not today
    notices: list[list[tuple[str, Record]]] = field(default_factory=list)  # (Arendetyp, …)
    properties: set[KeyCodeRow] = field(default_factory=set)  # addresses made up


class NoOneFor(ValueError):
    """Today's register has no one a change needs: it is too small."""

    def __init__(self, change: str) -> None:
        super().__init__(f"the demo register has no one for a {change}; draw more persons")


class Scenario:
    """Chooses the persons of each change and records their earlier and their new state."""

    def __init__(self, records: RegisterRecords, seed: int, days: Sequence[dt.date]) -> None:
        self.records, self.days = records, days
        self.people, self.areas = records.people, records.drawn.areas
        self.rng = random.Random(f"navet deliveries {seed}")
        self.used: set[str] = set()
        self.plan = Plan(notices=[[] for _ in days])

    def earlier(self, person: Person, record: Record | None) -> None:
        """``person`` as the extract has them: ``record``, or not there at all."""
        self.plan.replaced[person.personnummer] = record

    def notice(self, day: int, case: str, record: Record) -> None:
        self.plan.notices[day].append((case, record))

    def change(self, number: str, **parts: Any) -> Record:
        """A record of ``number`` that is not total: it changes the parts it carries."""
        return replace(CHANGE, personnummer=number, **parts)

    def choose(
        self, change: str, candidates: Iterable[Person],
        touched: Callable[[Person], Sequence[Person]] = lambda p: (p,),
        dated: tuple[Callable[[Person], dt.date], int] | None = None,
    ) -> Person:  # fmt: skip
        """A candidate whose ``touched`` persons are in no other change; they are taken.

        ``dated``: the date of the change a candidate went through, and the notice it goes
        into; then the candidate whose change is the latest one not after that notice's
        day of change (or the earliest one if all are later), else one at random.
        """
        free = [p for p in candidates if not any(t.personnummer in self.used for t in touched(p))]
        if not free:
            raise NoOneFor(change)
        if dated is None:
            chosen = self.rng.choice(free)
        else:
            date_of, day = dated
            before = [p for p in free if date_of(p) <= self.days[day]]
            chosen = max(before, key=lambda p: (date_of(p), -p.id)) if before else min(
                free, key=lambda p: (date_of(p), p.id)
            )  # fmt: skip
        self.used.update(t.personnummer for t in touched(chosen))
        return chosen

    def street_address(
        self, area: Area, before: dt.date, born: dt.date
    ) -> tuple[Registration, AddressRow]:
        """A made-up address in ``area``, registered some years ``before`` (not before birth)."""
        line = f"{self.rng.choice(area.streets)} {self.rng.randint(1, 120)}"
        self.plan.properties.add(self.records.key_code_row(area, line))
        since = max(born, before - dt.timedelta(days=self.rng.randint(400, 4000)))
        place = designation(line, self.records.blocks[area.key_code])
        registration = Registration(since, COUNTY, area.municipality_code, place)
        address = AddressRow(
            "F", line2=line, postal_code=area.postal_code, postal_town=area.postal_town,
            county_code=COUNTY, municipality_code=area.municipality_code,
        )  # fmt: skip
        return registration, address

    def stranger(self, number: str, child: Person) -> Record:
        """A parent whom today's register lacks, living in the county in the extract."""
        male, pools = int(number[10]) % 2 == 1, self.records.drawn.population.pools
        first = self.rng.choice(pools.men if male else pools.women)
        names = Names(first, "10", None, self.rng.choice(pools.last_names))
        area, born = self.rng.choice(self.areas), birth_date(number)
        registration, address = self.street_address(area, self.days[0], born)
        relation = Relation("B", child.personnummer, child.birth_date, None)
        return replace(
            CHANGE, total=True, personnummer=number, names=names, registration=registration,
            addresses=(address,), civil_status=CivilStatus("OG", None), relations=(relation,),
        )  # fmt: skip


def registered(person: Person) -> bool:
    """Folkbokförd here, unprotected: a person whose changes a notice shows in full."""
    return person.deregistration is None and person.protection is None


def relatives(person: Person) -> list[Person]:
    """The persons in the register whose relations name ``person``, in id order."""
    found = {g for g, _ in person.guardians} | {w for w, _ in person.wards}
    found |= set(person.children) | {m for m in person.household.members if person in m.children}
    if person.spouse is not None:
        found.add(person.spouse)
    return sorted(found, key=lambda p: p.id)


def parents_in_register(child: Person) -> list[Person]:
    return [m for m in child.household.members if child in m.children]


def without(relations: tuple[Relation, ...] | None, number: str) -> tuple[Relation, ...] | None:
    """``relations`` but those naming ``number``; None when none are left."""
    return tuple(r for r in relations or () if r.personnummer != number) or None
