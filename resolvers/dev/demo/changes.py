"""Each change the demo's notices carry: whom it touches, how they stood before, the records.

Every function takes the ``Scenario`` and the notice (0, 1, …) the change goes into. A move,
marriage, death, emigration or birth is the latest one ``generate`` drew that is not after
the notice's day of change; its date is the drawn one, so it may lie weeks before.
"""

from __future__ import annotations

from dataclasses import replace

from resolvers.dev.demo.model import SEKRETESS, SKYDDAD, Person
from resolvers.dev.demo.navet_records import purged
from resolvers.dev.demo.scenario import (
    NOWHERE,
    Scenario,
    parents_in_register,
    registered,
    relatives,
    without,
)
from resolvers.domain.personnummer import make
from resolvers.imports.records import CivilStatus, Deregistration, Registration, Relation
from resolvers.register.rows import AddressRow

HALLAND, KUNGSBACKA = "13", "84"  # the county south of ours, and a municipality in it


def move(s: Scenario, day: int) -> None:
    """A person living alone moves within the county: a new address and Folkbokforingsdatum."""
    singles = (p for p in s.people if p.household.kind == "single" and registered(p))
    person = s.choose("move", singles, dated=(lambda p: p.household.moved_in, day))
    today = s.records.record(person)
    area = s.rng.choice([a for a in s.areas if a is not person.household.area])
    assert today.registration is not None and today.registration.registered_on is not None
    moved_in = today.registration.registered_on
    registration, address = s.street_address(area, moved_in, person.birth_date)
    kept = tuple(a for a in today.addresses or () if a.kind != "F")  # a särskild postadress
    s.earlier(person, replace(today, registration=registration, addresses=(address, *kept)))
    change = s.change(person.personnummer, registration=today.registration)
    s.notice(day, "FLYTTNING", replace(change, addresses=today.addresses))


def marriage(s: Scenario, day: int) -> None:
    """The most recently married couple marries: civil status G and relation M, on both."""
    wed = (p for p in s.people if _married(p) and p.id < _couple(p)[1].id)
    first = s.choose("marriage", wed, _couple, (lambda p: p.union[1], day))
    for person, spouse in (_couple(first), _couple(first)[::-1]):
        today = s.records.record(person)
        unmarried = without(today.relations, spouse.personnummer)
        s.earlier(person, replace(today, civil_status=CivilStatus("OG", None), relations=unmarried))
        change = s.change(person.personnummer, civil_status=today.civil_status)
        s.notice(day, "VIGSEL", replace(change, relations=today.relations))


def protection(s: Scenario, day: int) -> None:
    """A person becomes protected: the notice carries the number and the mark alone."""
    hidden = [p for p in s.people if p.protection == SKYDDAD]
    hidden = hidden or [p for p in s.people if p.protection == SEKRETESS]
    person = s.choose("protection", hidden)
    today = s.records.record(person)
    registration, address = s.records.at_home(person)
    if today.registration is None:  # skyddad folkbokföring: the rows say nowhere
        today = replace(today, registration=registration, addresses=(address,))
    s.earlier(person, replace(today, protection=None))
    hidden_now = s.change(person.personnummer, protection=person.protection)
    s.notice(day, "SKYDDAD FOLKBOKFORING", hidden_now)


def lifted_protection(s: Scenario, day: int) -> None:
    """A person protected in the extract (the number and the mark) is so no longer."""
    adults = (p for p in s.people if p.household.kind == "single" and registered(p))
    person = s.choose("lifted protection", adults)
    today = s.records.record(person)
    s.earlier(person, purged(replace(today, protection=SEKRETESS)))
    s.notice(day, "SEKRETESSMARKERING UPPHOR", today)


def death(s: Scenario, day: int) -> None:
    """The latest death; a spouse who survives becomes widowed, and their union ends."""
    dead = [p for p in s.people if p.deregistration and p.deregistration[0] == "AV"]
    widowed = [p for p in dead if p.spouse is not None and registered(p.spouse)]
    person = s.choose(
        "death", widowed or dead, lambda p: (p, p.spouse) if p.spouse else (p,),
        (lambda p: p.deregistration[1], day),  # type: ignore[index]
    )  # fmt: skip
    today = s.records.record(person)
    registration, address = s.records.at_home(person)
    spouse = person.spouse.personnummer if person.spouse else ""
    s.earlier(person, replace(
        today, deregistration=None, registration=registration, addresses=(address,),
        relations=_reopened(today.relations, spouse),
    ))  # fmt: skip
    s.notice(day, "DODSFALL", s.change(
        person.personnummer, deregistration=today.deregistration, registration=NOWHERE,
        addresses=(), relations=today.relations if person.spouse else None,
    ))  # fmt: skip
    if person.spouse is not None:
        _widowed(s, day, person.spouse, person)


def _widowed(s: Scenario, day: int, survivor: Person, dead: Person) -> None:
    today = s.records.record(survivor)
    kind, since, _ = dead.union
    married = CivilStatus("G" if kind == "M" else "RP", since)
    relations = _reopened(today.relations, dead.personnummer)
    s.earlier(survivor, replace(today, civil_status=married, relations=relations))
    change = s.change(survivor.personnummer, civil_status=today.civil_status)
    s.notice(day, "DODSFALL", replace(change, relations=today.relations))


def emigration(s: Scenario, day: int) -> None:
    """The latest household to move abroad: UV, and a foreign address for each member."""
    gone = [p for p in s.people if p.deregistration and p.deregistration[0] == "UV"]
    alone = [p for p in gone if len(p.household.members) == 1]
    first = s.choose(
        "emigration", alone or gone, lambda p: p.household.members,
        (lambda p: p.deregistration[1], day),  # type: ignore[index]
    )  # fmt: skip
    for person in first.household.members:
        today = s.records.record(person)
        registration, address = s.records.at_home(person)
        s.earlier(person, replace(
            today, deregistration=None, registration=registration, addresses=(address,)
        ))  # fmt: skip
        s.notice(day, "UTVANDRING", s.change(
            person.personnummer, deregistration=today.deregistration, registration=NOWHERE,
            addresses=today.addresses,
        ))  # fmt: skip


def birth(s: Scenario, day: int) -> None:
    """The youngest child of two parents in the register is born: a new total record,
    and the parents' relations gain the child (B) and the ward (VF)."""
    children = (p for p in s.people if p.household.kind == "family" and _with_parents(p))
    child = s.choose(
        "birth", children, lambda c: (c, *parents_in_register(c)), (lambda c: c.birth_date, day),
    )  # fmt: skip
    s.earlier(child, None)
    s.notice(day, "FODELSE", s.records.record(child))
    for parent in parents_in_register(child):
        today = s.records.record(parent)
        s.earlier(parent, replace(today, relations=without(today.relations, child.personnummer)))
        s.notice(day, "FODELSE", s.change(parent.personnummer, relations=today.relations))


def number_change(s: Scenario, day: int) -> None:
    """A parent gets a new personnummer: the old number's record points to the new one
    (GN), a total record follows, and every relative's relations name the new number."""
    parents = (p for p in s.people if p.children and registered(p) and _relatives_shown(p))
    person = s.choose("number change", parents, lambda p: (p, *relatives(p)))
    old = _unused_number(s, person)
    today = s.records.record(person)
    s.earlier(person, replace(today, personnummer=old))
    gone = Deregistration("GN", s.days[day])
    s.notice(day, "BYTE AV PERSONNUMMER", s.change(
        old, deregistration=gone, new_personnummer=person.personnummer,
    ))  # fmt: skip
    s.notice(day, "BYTE AV PERSONNUMMER", today)
    for relative in relatives(person):
        known = s.records.record(relative)
        renamed = tuple(
            replace(r, personnummer=old) if r.personnummer == person.personnummer else r
            for r in known.relations or ()
        )  # fmt: skip
        s.earlier(relative, replace(known, relations=renamed))
        change = s.change(relative.personnummer, relations=known.relations)
        s.notice(day, "BYTE AV PERSONNUMMER", change)


def leaving(s: Scenario, day: int) -> None:
    """A parent living elsewhere in the county moves to Kungsbacka (Halland) and so leaves
    the register: today's register has only the child's relation to them."""
    children = (p for p in s.people if registered(p) and _strangers(p))
    child = s.choose("move out of the county", children)
    number = s.rng.choice(_strangers(child))
    s.used.add(number)
    s.plan.extra.append(s.stranger(number, child))
    line = f"{s.rng.choice(s.records.drawn.population.pools.streets)} {s.rng.randint(1, 60)}"
    place = Registration(s.days[day], HALLAND, KUNGSBACKA, f"{line.upper()}:1")
    address = AddressRow(
        "F", line2=line, postal_code=str(s.rng.randint(43430, 43499)), postal_town="KUNGSBACKA",
        county_code=HALLAND, municipality_code=KUNGSBACKA,
    )  # fmt: skip
    s.notice(day, "FLYTTNING", s.change(number, registration=place, addresses=(address,)))


# The notices, one a working day, and the changes each carries.
NOTICES = (
    (move, marriage, protection),
    (birth, death),
    (emigration, lifted_protection),
    (number_change, leaving),
)


def _couple(p: Person) -> tuple[Person, Person]:
    assert p.spouse is not None
    return p, p.spouse


def _married(p: Person) -> bool:
    """Married (not partners), the marriage lasting, both spouses registered here."""
    if p.spouse is None or p.union[0] != "M" or p.union[2] is not None:
        return False
    return registered(p) and registered(p.spouse)


def _with_parents(child: Person) -> bool:
    parents = parents_in_register(child)
    return len(parents) == 2 and registered(child) and all(map(registered, parents))


def _relatives_shown(person: Person) -> bool:
    return all(relative.protection is None for relative in relatives(person))


def _strangers(child: Person) -> list[str]:
    """Numbers of ``child``'s parents who have no record: they live outside the register."""
    home = {m.personnummer for m in child.household.members}
    return [number for _, number in child.parents if number not in home]


def _reopened(relations: tuple[Relation, ...] | None, number: str) -> tuple[Relation, ...] | None:
    """The union with ``number`` as it was before it ended."""
    if relations is None:
        return None
    return tuple(
        replace(r, valid_to=None) if r.personnummer == number and r.kind in ("M", "P") else r
        for r in relations
    )  # fmt: skip


def _unused_number(s: Scenario, person: Person) -> str:
    """Another number for the same birth date and sex, never handed out."""
    drawn, own = s.records.drawn.population.used, int(person.personnummer[8:11])
    for birth_number in sorted(range(own % 2 or 2, 1000, 2), key=lambda n: (n <= own, n)):
        number = make(person.birth_date, birth_number).digits
        if number not in drawn and number not in s.used:
            s.used.add(number)
            return number
    raise ValueError(f"no birth number left on {person.birth_date}")
