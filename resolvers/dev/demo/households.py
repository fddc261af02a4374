"""Households of singles, couples and families, with unions, parents and guardians."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from resolvers.dev.demo.model import Area, Household, Person
from resolvers.dev.demo.people import Population, add_years
from resolvers.dev.demo.places import home_lines

HOUSEHOLD_KINDS = ("single", "couple", "family", "single_parent", "appointed")
HOUSEHOLD_WEIGHTS = (0.46, 0.27, 0.19, 0.07, 0.01)
CHILDREN_WEIGHTS = (0.38, 0.42, 0.15, 0.05)  # 1, 2, 3 or 4 children
SINGLE_AGES = (  # youngest, oldest, weight
    (18, 29, 38), (30, 49, 24), (50, 69, 20), (70, 89, 15), (90, 99, 2.5), (100, 104, 0.15),
)  # fmt: skip
COUPLE_AGES = ((20, 34, 32), (35, 64, 40), (65, 79, 22), (80, 95, 6))
MARRIED_SHARE = 0.6  # of couples; the rest live together unmarried (sambo, civil status OG)
SAME_SEX_SHARE = 0.03  # of couples
REGISTERED_PARTNER_SHARE = 0.3  # of same-sex couples old enough to have registered
SHARED_LAST_NAME_SHARE = 0.75  # of married couples
DIVORCED_SHARE, WIDOWED_SHARE = 0.3, 0.4  # of singles aged 35+ and 70+
ADULT_CHILD_SHARE = 0.10  # children 18-24 still living with their parents
RP_FIRST, RP_LAST = dt.date(1995, 1, 1), dt.date(2009, 4, 30)  # registered partnership


class Households:
    """Draws whole households into ``population``, each in one of ``areas``."""

    def __init__(self, population: Population, areas: Sequence[Area]) -> None:
        self.population, self.areas = population, areas
        self.chance, self.rng = population.chance, population.rng

    def household(self, remaining: int) -> None:
        """One household of at most ``remaining`` persons, with its registered address."""
        kind = self.rng.choices(HOUSEHOLD_KINDS, HOUSEHOLD_WEIGHTS)[0]
        children = self.rng.choices((1, 2, 3, 4), CHILDREN_WEIGHTS)[0]
        size = {"single": 1, "couple": 2, "family": 2 + children}.get(kind, 1 + min(children, 2))
        home = Household(kind if size <= remaining else "single", self.rng.choice(self.areas))
        self.population.households.append(home)
        if home.kind == "single":
            self._single(home)
        elif home.kind == "couple":
            self._couple(home, self.chance.age(COUPLE_AGES))
        elif home.kind == "family":
            self._family(home, children)
        else:
            self._lone_adult_with_children(home, min(children, 2), home.kind == "appointed")
        self._move_in(home)

    def _single(self, home: Household) -> None:
        age, male = self.chance.age(SINGLE_AGES), self.rng.random() < 0.45
        person = self._adult(home, age, male)
        roll, since = self.rng.random(), add_years(person.birth_date, 20)
        if age >= 70 and roll < WIDOWED_SHARE:
            person.civil_status = "Ä"
        elif age >= 35 and roll < DIVORCED_SHARE:
            person.civil_status = "S"
        elif age >= 35 and roll < DIVORCED_SHARE + 0.02 and since < RP_LAST:
            person.civil_status, since = self.rng.choice(("SP", "EP")), max(since, RP_FIRST)
        if person.civil_status != "OG":
            person.civil_status_date = self.chance.between(since, self.chance.today)

    def _couple(self, home: Household, age: int) -> tuple[Person, Person]:
        male, same_sex = self.rng.random() < 0.5, self.rng.random() < SAME_SEX_SHARE
        married, last = self.rng.random() < MARRIED_SHARE, self.population.last_name()
        first = self._adult(home, age, male, last)
        if not (married and self.rng.random() < SHARED_LAST_NAME_SHARE):
            last = self.population.last_name()
        other = self._adult(home, max(22, age + self.rng.randint(-6, 6)), male == same_sex, last)
        adult = add_years(max(first.birth_date, other.birth_date), 18)
        if same_sex and adult <= RP_LAST and self.rng.random() < REGISTERED_PARTNER_SHARE:
            _unite(first, other, "P", self.chance.between(max(RP_FIRST, adult), RP_LAST))
        elif married or same_sex:
            since = self.chance.between(add_years(adult, 2), self.chance.today)
            _unite(first, other, "M", since)
        return first, other

    def _family(self, home: Household, count: int) -> None:
        """A couple and their ``count`` children, who take one of the parents' last names."""
        ages = self._child_ages(count, ADULT_CHILD_SHARE)
        parents = list(self._couple(home, max(ages) + self.rng.randint(25, 40)))
        last = self.rng.choice([p.last_name for p in parents])
        for age in ages:
            self._child(home, parents, age, last)

    def _lone_adult_with_children(self, home: Household, count: int, appointed: bool) -> None:
        """A single parent (sole custody), or a specially appointed guardian who is no parent."""
        ages = self._child_ages(count, 0.0)
        age = self.rng.randint(30, 70) if appointed else max(ages) + self.rng.randint(20, 42)
        male = self.rng.random() < (0.45 if appointed else 0.25)
        adult = self._adult(home, age, male)
        if not appointed and self.rng.random() < 0.4:
            adult.civil_status = "S"
            since = add_years(adult.birth_date, 22)
            adult.civil_status_date = self.chance.between(since, self.chance.today)
        for child_age in ages:
            last = self.population.last_name() if appointed else adult.last_name
            child = self._child(home, [] if appointed else [adult], child_age, last)
            for parent_male in (False, True) if appointed else (not male,):
                if appointed or self.rng.random() < 0.85:
                    self._external_parent(child, parent_male)
            if appointed:
                _guard(child, adult, self.chance.between(child.birth_date, self.chance.today))

    def _adult(self, home: Household, age: int, male: bool, last: str | None = None) -> Person:
        """An adult aged ``age``; without ``last``, a new last name drawn after the birth date."""
        birth = self.chance.birth(age)
        last = self.population.last_name() if last is None else last
        return self.population.person(home, birth, male, last)

    def _child_ages(self, count: int, adult_share: float) -> list[int]:
        """Ages of siblings; the eldest may be a young adult still living at home."""
        ages = [self.rng.randint(0, 17) for _ in range(count)]
        if self.rng.random() < adult_share:
            ages[0] = self.rng.randint(18, 24)
        return ages

    def _child(self, home: Household, parents: list[Person], age: int, last: str) -> Person:
        """A child aged ``age``; parents in the household are its guardians until 18."""
        birth = self.chance.birth(age)
        child = self.population.person(home, birth, self.rng.random() < 0.51, last)
        same_sex = len(parents) > 1 and parents[0].male == parents[1].male
        for index, parent in enumerate(parents):
            kind = "F" if same_sex and index else ("FA" if parent.male else "MO")
            child.parents.append((kind, parent.personnummer))
            parent.children.append(child)
            if age < 18:
                _guard(child, parent, child.birth_date)
        return child

    def _external_parent(self, child: Person, male: bool) -> None:
        """A parent living outside Göteborg and Mölndal: a number, but no person row."""
        birth = self.chance.birth(self.chance.age_of(child) + self.rng.randint(22, 40))
        child.parents.append(("FA" if male else "MO", self.population.number(birth, male)))

    def _move_in(self, home: Household) -> None:
        """The address, and a move-in day after the adults came of age (recent ones likelier)."""
        home.lines = home_lines(self.rng, home.area, self.population.pools.last_names)
        today = self.chance.today
        adults = [p for p in home.members if not p.parents and not p.guardians]
        start = max([add_years(p.birth_date, 18) for p in adults] + [add_years(today, -40)])
        days = max(0, (today - start).days) * self.rng.random() ** 2
        home.moved_in = today - dt.timedelta(days=int(days))


def _unite(first: Person, other: Person, kind: str, since: dt.date) -> None:
    """Marriage (M) or registered partnership (P) from ``since``, stored on both."""
    for one, two in ((first, other), (other, first)):
        one.spouse, one.union = two, [kind, since, None]
        one.civil_status, one.civil_status_date = ("G" if kind == "M" else "RP"), since


def _guard(child: Person, guardian: Person, since: dt.date) -> None:
    child.guardians.append((guardian, since))
    guardian.wards.append((child, since))
