"""What happens after the households are drawn: deaths, emigration, protection, mail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from resolvers.dev.demo.model import SEKRETESS, SKYDDAD, Household, Person
from resolvers.dev.demo.people import Population, add_years
from resolvers.dev.demo.places import foreign_address, special_address

# Targets met exactly, as shares of all persons.
DECEASED_SHARE, EMIGRATED_SHARE, PROTECTED_SHARE = 0.01, 0.01, 0.005
PROTECTED_CHILD_PART = 0.3  # of the protected: lone children of unprotected parents
SKYDDAD_SHARE = 0.6  # of protected households; the rest have sekretessmarkering
GUARANTEE_FROM = 500  # from this many persons: a protected child and a protected adult
SPECIAL_ADDRESS_SHARE = 0.035  # of adults with a registered address


class LifeEvents:
    """Changes ``population`` of ``count`` persons; call the steps in the order of ``apply``."""

    def __init__(self, population: Population, count: int) -> None:
        self.population, self.count = population, count
        self.chance, self.rng = population.chance, population.rng

    def apply(self) -> None:
        self.deaths()
        self.emigrations()
        self.protections()
        self.special_addresses()

    def deaths(self) -> None:
        """Elderly singles and members of couples die; a surviving spouse is widowed."""
        people = self.population.people
        old = [p for p in people if p.household.kind in ("single", "couple")]
        old = [p for p in old if self.chance.age_of(p) >= 65]
        self.rng.shuffle(old)
        dead, target = 0, round(self.count * DECEASED_SHARE)
        for person in old:
            if dead >= target:
                return
            if person.spouse is None or person.spouse.deregistration is None:
                earliest = max([add_years(self.chance.today, -4), *person.union[1:2]])
                _die(person, self.chance.between(earliest, self.chance.today))
                dead += 1

    def emigrations(self) -> None:
        """Whole single and couple households move abroad and get a foreign address."""
        moved, target, today = 0, round(self.count * EMIGRATED_SHARE), self.chance.today

        def fits(p: Person) -> bool:
            return not p.deregistration and 20 <= self.chance.age_of(p) <= 75

        for home in self._homes(("single", "couple"), fits):
            if moved >= target:
                return
            home.foreign = foreign_address(self.rng)
            day = self.chance.between(max(home.moved_in, add_years(today, -8)), today)
            for person in home.members:
                person.deregistration = ("UV", day)
            moved += len(home.members)

    def protections(self) -> None:
        """Lone children of unprotected parents, then whole households, up to the target."""
        target, guarantee = round(self.count * PROTECTED_SHARE), self.count >= GUARANTEE_FROM
        wanted = max(int(guarantee), round(target * PROTECTED_CHILD_PART))
        protected = self._protect_children(wanted)
        self._protect_households(target, protected, adult=not guarantee)

    def _protect_children(self, wanted: int) -> int:
        """One child in each of up to ``wanted`` families; returns how many were protected."""
        families = self._homes(("family",), lambda p: True)
        families = [h for h in families if any(p.guardians for p in h.members)]
        for home in families[:wanted]:
            child = self.rng.choice([p for p in home.members if p.guardians])
            child.protection = self.rng.choice((SKYDDAD, SEKRETESS))
        return min(wanted, len(families))

    def _protect_households(self, target: int, protected: int, adult: bool) -> None:
        """Whole households until ``target`` persons (and, unless ``adult``, an adult)."""

        def fits(p: Person) -> bool:
            return not p.deregistration and not p.protection

        for home in self._homes(("single", "single_parent", "family"), fits):
            if protected >= target and adult:
                return
            kind = SKYDDAD if self.rng.random() < SKYDDAD_SHARE else SEKRETESS
            for person in home.members:
                person.protection = kind
            protected, adult = protected + len(home.members), True

    def special_addresses(self) -> None:
        """Some registered adults have their mail sent elsewhere: a box or another home."""
        for p in self.population.people:
            if p.deregistration or p.protection or self.chance.age_of(p) < 18:
                continue
            if self.rng.random() >= SPECIAL_ADDRESS_SHARE:
                continue
            p.special_address = special_address(self.rng, self.population.pools.streets, p.id)

    def _homes(self, kinds: tuple[str, ...], fits: Callable[[Person], bool]) -> list[Household]:
        """Households of ``kinds`` whose members all fit, in a random order."""
        households = self.population.households
        homes = [h for h in households if h.kind in kinds and all(map(fits, h.members))]
        self.rng.shuffle(homes)
        return homes


def _die(person: Person, day: dt.date) -> None:
    person.deregistration = ("AV", day)
    if person.spouse is not None:
        person.union[2] = person.spouse.union[2] = day
        person.spouse.civil_status = "Ä" if person.union[0] == "M" else "EP"
        person.spouse.civil_status_date = day
