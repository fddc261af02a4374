"""Drawing persons: names from Faker's pools, birth dates and ages, unique personnummer."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType

from resolvers.dev.demo.model import Household, Person
from resolvers.development import DEMO_DATA, require
from resolvers.domain.personnummer import make

NAME_POOL_SIZE = 4000
FIRST_NAME_COUNT_WEIGHTS = (0.35, 0.50, 0.15)  # 1, 2 or 3 first names
MIDDLE_NAME_SHARE = 0.10


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return dt.date(day.year + years, 3, 1)


@dataclass(frozen=True, slots=True)
class NamePools:
    """Names drawn once from Faker; every later choice among them comes from the rng."""

    men: list[str]
    women: list[str]
    last_names: list[str]
    streets: list[str]


def faker() -> ModuleType:
    """Faker, which only development installs have (the image serves real registers)."""
    return require("faker", DEMO_DATA)


def name_pools(seed: int) -> NamePools:
    fake = faker().Faker("sv_SE")
    fake.seed_instance(seed)
    men = [fake.first_name_male() for _ in range(NAME_POOL_SIZE)]
    women = [fake.first_name_female() for _ in range(NAME_POOL_SIZE)]
    last_names = [fake.last_name() for _ in range(NAME_POOL_SIZE)]
    streets = {fake.street_name() for _ in range(NAME_POOL_SIZE)}
    short = sorted(s for s in streets if len(s) <= 25)  # sorted: sets vary per run
    return NamePools(men, women, last_names, short)


class Chance:
    """Dates and ages drawn from ``rng``, counted back from ``today``."""

    def __init__(self, rng: random.Random, today: dt.date) -> None:
        self.rng, self.today = rng, today

    def between(self, low: dt.date, high: dt.date) -> dt.date:
        return low + dt.timedelta(days=self.rng.randint(0, max(0, (high - low).days)))

    def birth(self, age: int) -> dt.date:
        earliest = add_years(self.today, -age - 1) + dt.timedelta(days=1)
        return self.between(earliest, add_years(self.today, -age))

    def age(self, brackets: Sequence[tuple[int, int, float]]) -> int:
        low, high, _ = self.rng.choices(brackets, [b[2] for b in brackets])[0]
        return self.rng.randint(low, high)

    def age_of(self, *persons: Person) -> int:
        """Age in whole years (roughly) of the youngest of ``persons``."""
        return min((self.today - p.birth_date).days // 366 for p in persons)


class Population:
    """Persons in id order, households in drawing order, and the numbers handed out."""

    def __init__(self, chance: Chance, pools: NamePools) -> None:
        self.chance, self.rng, self.pools = chance, chance.rng, pools
        self.used: set[str] = set()
        self.people: list[Person] = []
        self.households: list[Household] = []

    def last_name(self) -> str:
        return self.rng.choice(self.pools.last_names)

    def number(self, birth: dt.date, male: bool) -> str:
        """A personnummer not handed out before."""
        while True:  # birth number: odd for men, even for women
            number = make(birth, self.rng.randrange(1, 500) * 2 - male).digits
            if number not in self.used:
                self.used.add(number)
                return number

    def person(self, home: Household, birth: dt.date, male: bool, last: str) -> Person:
        """A new person with the next id, living in ``home``."""
        first, code = _first_names(self.rng, self.pools.men if male else self.pools.women)
        middle = self.last_name() if self.rng.random() < MIDDLE_NAME_SHARE else None
        number = self.number(birth, male)
        middle = None if middle == last else middle
        person = Person(len(self.people) + 1, number, birth, male, first, code, middle, last, home)
        self.people.append(person)
        home.members.append(person)
        return person


def _first_names(rng: random.Random, pool: Sequence[str]) -> tuple[str, str | None]:
    """First names and the tilltalsnamn's position code (a hyphenated name counts twice)."""
    names = list[str]()
    wanted = rng.choices((1, 2, 3), FIRST_NAME_COUNT_WEIGHTS)[0]
    while len(names) < wanted:
        if (name := rng.choice(pool)) not in names:
            names.append(name)
    roll, pick = rng.random(), rng.choices((0, 1, 2), (70, 22, 8))[0] % len(names)
    return " ".join(names), _given_name_code(names, roll, pick)


def _given_name_code(names: list[str], roll: float, pick: int) -> str | None:
    """Where the tilltalsnamn ``names[pick]`` starts and ends, counted in single names."""
    ends = [sum(n.count("-") + 1 for n in names[: i + 1]) for i in range(len(names))]
    if roll < 0.03:  # no tilltalsnamn registered
        return None
    if roll < 0.07 and len(names) > 1 and ends[1] == 2:  # goes by the first two names
        return "12"
    start = ends[pick - 1] + 1 if pick else 1
    return f"{start}{ends[pick] if ends[pick] > start else 0}"
