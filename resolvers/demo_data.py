"""A deterministic, realistic demo register for Göteborg (1480) and Mölndal (1481).

``generate`` builds households (singles, couples, families) with names, personnummer,
addresses and relations stored in both directions; ``load`` writes them with COPY in one
transaction; ``examples`` picks numbers of each interesting kind from the loaded register.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import asyncpg
from faker import Faker

from resolvers.personnummer import make

PERSON_COLUMNS = (
    "id", "personnummer", "birth_date", "first_names", "given_name_code", "middle_name",
    "last_name", "moved_in_date", "key_code", "civil_status", "civil_status_date",
    "deregistration_code", "deregistration_date", "protection",
)  # fmt: skip
ADDRESS_COLUMNS = (
    "person_id", "kind", "care_of", "line1", "line2", "line3", "postal_code", "postal_town",
    "county_code", "municipality_code", "country",
)  # fmt: skip
RELATION_COLUMNS = ("person_id", "kind", "related_personnummer", "valid_from", "valid_to")

# Proportions (approximate; deceased, emigrated and protected are targets met exactly).
HOUSEHOLD_KINDS = ("single", "couple", "family", "single_parent", "appointed")
HOUSEHOLD_WEIGHTS = (0.46, 0.27, 0.19, 0.07, 0.01)
CHILDREN_WEIGHTS = (0.38, 0.42, 0.15, 0.05)  # 1, 2, 3 or 4 children
SINGLE_AGES = (  # youngest, oldest, weight
    (18, 29, 38), (30, 49, 24), (50, 69, 20), (70, 89, 15), (90, 99, 2.5), (100, 104, 0.15),
)  # fmt: skip
COUPLE_AGES = ((20, 34, 32), (35, 64, 40), (65, 79, 22), (80, 95, 6))
FIRST_NAME_COUNT_WEIGHTS = (0.35, 0.50, 0.15)  # 1, 2 or 3 first names
MARRIED_SHARE = 0.6  # of couples; the rest live together unmarried (sambo, civil status OG)
SAME_SEX_SHARE = 0.03  # of couples
REGISTERED_PARTNER_SHARE = 0.3  # of same-sex couples old enough to have registered
SHARED_LAST_NAME_SHARE = 0.75  # of married couples
MIDDLE_NAME_SHARE = 0.10
DIVORCED_SHARE, WIDOWED_SHARE = 0.3, 0.4  # of singles aged 35+ and 70+
ADULT_CHILD_SHARE = 0.10  # children 18-24 still living with their parents
DECEASED_SHARE, EMIGRATED_SHARE, PROTECTED_SHARE = 0.01, 0.01, 0.005
PROTECTED_CHILD_PART = 0.3  # of the protected: lone children of unprotected parents
SKYDDAD_SHARE = 0.6  # of protected households; the rest have sekretessmarkering
GUARANTEE_FROM = 500  # from this many persons: a protected child and a protected adult
SPECIAL_ADDRESS_SHARE = 0.035  # of adults with a registered address
APARTMENT_SHARE, CARE_OF_SHARE = 0.15, 0.01
AREA_COUNT, NAME_POOL_SIZE, CHUNK_SIZE, EXAMPLES_PER_KIND = 980, 4000, 10_000, 3
RP_FIRST, RP_LAST = dt.date(1995, 1, 1), dt.date(2009, 4, 30)
SKYDDAD, SEKRETESS = "SKYDDAD_FOLKBOKFORING", "SEKRETESSMARKERING"

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

Row = tuple[Any, ...]


class RegisterNotEmptyError(RuntimeError):
    """The register already holds persons and ``replace`` was not asked for."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the register already holds {count} persons; load the demo register with "
            "replace=True to delete them first"
        )


@dataclass(frozen=True, slots=True)
class DemoRegister:
    """Rows for COPY, in ``*_COLUMNS`` order; addresses and relations sorted by person id."""

    persons: list[Row]
    addresses: list[Row]
    relations: list[Row]


@dataclass(frozen=True, slots=True)
class _Area:
    key_code: str
    municipality_code: str
    postal_code: str
    postal_town: str
    streets: tuple[str, ...]


@dataclass(slots=True, eq=False)
class _Person:
    id: int
    personnummer: str
    birth_date: dt.date
    male: bool
    first_names: str
    given_name_code: str | None
    middle_name: str | None
    last_name: str
    household: _Household
    civil_status: str = "OG"
    civil_status_date: dt.date | None = None
    deregistration: tuple[str, dt.date] | None = None
    protection: str | None = None
    special_address: Row | None = None
    spouse: _Person | None = None
    union: list[Any] = field(default_factory=list)  # kind, valid_from, valid_to
    parents: list[tuple[str, str]] = field(default_factory=list)  # kind, personnummer
    children: list[_Person] = field(default_factory=list)
    guardians: list[tuple[_Person, dt.date]] = field(default_factory=list)
    wards: list[tuple[_Person, dt.date]] = field(default_factory=list)


@dataclass(slots=True, eq=False)
class _Household:
    kind: str
    area: _Area
    members: list[_Person] = field(default_factory=list)
    lines: tuple[str | None, str | None, str] = (None, None, "")  # care_of, line1, line2
    moved_in: dt.date = dt.date.min
    foreign: tuple[str | None, ...] | None = None  # line1..line3, country


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return dt.date(day.year + years, 3, 1)


class _Builder:
    """Draws one register; every random choice comes from ``self.rng`` in a fixed order."""

    def __init__(self, count: int, seed: int, today: dt.date) -> None:
        self.count, self.today, self.rng = count, today, random.Random(seed)
        fake = Faker("sv_SE")
        fake.seed_instance(seed)
        self.men = [fake.first_name_male() for _ in range(NAME_POOL_SIZE)]
        self.women = [fake.first_name_female() for _ in range(NAME_POOL_SIZE)]
        self.last_names = [fake.last_name() for _ in range(NAME_POOL_SIZE)]
        streets = {fake.street_name() for _ in range(NAME_POOL_SIZE)}
        self.streets = sorted(s for s in streets if len(s) <= 25)  # sorted: sets vary per run
        self.used: set[str] = set()
        self.people: list[_Person] = []
        self.households: list[_Household] = []
        keys = sorted(self.rng.sample(range(100_000, 1_000_000), AREA_COUNT))
        self.areas = [self._area(str(key)) for key in keys]

    def _area(self, key_code: str) -> _Area:
        municipality, town, low, high, _ = self.rng.choices(TOWNS, [t[4] for t in TOWNS])[0]
        streets = tuple(self.rng.sample(self.streets, self.rng.randint(2, 6)))
        return _Area(key_code, municipality, str(self.rng.randint(low, high)), town, streets)

    def _between(self, low: dt.date, high: dt.date) -> dt.date:
        return low + dt.timedelta(days=self.rng.randint(0, max(0, (high - low).days)))

    def _birth(self, age: int) -> dt.date:
        earliest = _add_years(self.today, -age - 1) + dt.timedelta(days=1)
        return self._between(earliest, _add_years(self.today, -age))

    def _age(self, brackets: Sequence[tuple[int, int, float]]) -> int:
        low, high, _ = self.rng.choices(brackets, [b[2] for b in brackets])[0]
        return self.rng.randint(low, high)

    def _age_of(self, *persons: _Person) -> int:
        """Age in whole years (roughly) of the youngest of ``persons``."""
        return min((self.today - p.birth_date).days // 366 for p in persons)

    def _number(self, birth: dt.date, male: bool) -> str:
        while True:  # birth number: odd for men, even for women
            number = make(birth, self.rng.randrange(1, 500) * 2 - male).digits
            if number not in self.used:
                self.used.add(number)
                return number

    def _names(self, male: bool) -> tuple[str, str | None]:
        """First names and the tilltalsnamn's position code (a hyphenated name counts twice)."""
        pool, names = self.men if male else self.women, list[str]()
        wanted = self.rng.choices((1, 2, 3), FIRST_NAME_COUNT_WEIGHTS)[0]
        while len(names) < wanted:
            if (name := self.rng.choice(pool)) not in names:
                names.append(name)
        ends = [sum(n.count("-") + 1 for n in names[: i + 1]) for i in range(len(names))]
        roll, pick = self.rng.random(), self.rng.choices((0, 1, 2), (70, 22, 8))[0] % len(names)
        if roll < 0.03:  # no tilltalsnamn registered
            return " ".join(names), None
        if roll < 0.07 and len(names) > 1 and ends[1] == 2:  # goes by the first two names
            return " ".join(names), "12"
        start = ends[pick - 1] + 1 if pick else 1
        return " ".join(names), f"{start}{ends[pick] if ends[pick] > start else 0}"

    def _person(self, home: _Household, birth: dt.date, male: bool, last: str) -> _Person:
        first, code = self._names(male)
        middle = self.rng.choice(self.last_names) if self.rng.random() < MIDDLE_NAME_SHARE else None
        number = self._number(birth, male)
        middle = None if middle == last else middle
        person = _Person(len(self.people) + 1, number, birth, male, first, code, middle, last, home)
        self.people.append(person)
        home.members.append(person)
        return person

    def household(self, remaining: int) -> None:
        """One household of at most ``remaining`` persons, with its registered address."""
        kind = self.rng.choices(HOUSEHOLD_KINDS, HOUSEHOLD_WEIGHTS)[0]
        children = self.rng.choices((1, 2, 3, 4), CHILDREN_WEIGHTS)[0]
        size = {"single": 1, "couple": 2, "family": 2 + children}.get(kind, 1 + min(children, 2))
        home = _Household(kind if size <= remaining else "single", self.rng.choice(self.areas))
        self.households.append(home)
        if home.kind == "single":
            self._single(home)
        elif home.kind == "couple":
            self._couple(home, self._age(COUPLE_AGES))
        elif home.kind == "family":
            ages = self._child_ages(children, ADULT_CHILD_SHARE)
            parents = list(self._couple(home, max(ages) + self.rng.randint(25, 40)))
            last = self.rng.choice([p.last_name for p in parents])
            for age in ages:
                self._child(home, parents, age, last)
        else:
            self._lone_adult_with_children(home, min(children, 2), home.kind == "appointed")
        self._address(home)

    def _single(self, home: _Household) -> None:
        age, male = self._age(SINGLE_AGES), self.rng.random() < 0.45
        person = self._person(home, self._birth(age), male, self.rng.choice(self.last_names))
        roll, since = self.rng.random(), _add_years(person.birth_date, 20)
        if age >= 70 and roll < WIDOWED_SHARE:
            person.civil_status = "Ä"
        elif age >= 35 and roll < DIVORCED_SHARE:
            person.civil_status = "S"
        elif age >= 35 and roll < DIVORCED_SHARE + 0.02 and since < RP_LAST:
            person.civil_status, since = self.rng.choice(("SP", "EP")), max(since, RP_FIRST)
        if person.civil_status != "OG":
            person.civil_status_date = self._between(since, self.today)

    def _couple(self, home: _Household, age: int) -> tuple[_Person, _Person]:
        male, same_sex = self.rng.random() < 0.5, self.rng.random() < SAME_SEX_SHARE
        married, last = self.rng.random() < MARRIED_SHARE, self.rng.choice(self.last_names)
        first = self._person(home, self._birth(age), male, last)
        if not (married and self.rng.random() < SHARED_LAST_NAME_SHARE):
            last = self.rng.choice(self.last_names)
        other_birth = self._birth(max(22, age + self.rng.randint(-6, 6)))
        other = self._person(home, other_birth, male == same_sex, last)
        adult = _add_years(max(first.birth_date, other.birth_date), 18)
        if same_sex and adult <= RP_LAST and self.rng.random() < REGISTERED_PARTNER_SHARE:
            self._unite(first, other, "P", self._between(max(RP_FIRST, adult), RP_LAST))
        elif married or same_sex:
            self._unite(first, other, "M", self._between(_add_years(adult, 2), self.today))
        return first, other

    @staticmethod
    def _unite(first: _Person, other: _Person, kind: str, since: dt.date) -> None:
        for one, two in ((first, other), (other, first)):
            one.spouse, one.union = two, [kind, since, None]
            one.civil_status, one.civil_status_date = ("G" if kind == "M" else "RP"), since

    def _child_ages(self, count: int, adult_share: float) -> list[int]:
        """Ages of siblings; the eldest may be a young adult still living at home."""
        ages = [self.rng.randint(0, 17) for _ in range(count)]
        if self.rng.random() < adult_share:
            ages[0] = self.rng.randint(18, 24)
        return ages

    def _child(self, home: _Household, parents: list[_Person], age: int, last: str) -> _Person:
        """A child aged ``age``; parents in the household are its guardians until 18."""
        adult = age >= 18
        child = self._person(home, self._birth(age), self.rng.random() < 0.51, last)
        same_sex = len(parents) > 1 and parents[0].male == parents[1].male
        for index, parent in enumerate(parents):
            kind = "F" if same_sex and index else ("FA" if parent.male else "MO")
            child.parents.append((kind, parent.personnummer))
            parent.children.append(child)
            if not adult:
                self._guard(child, parent, child.birth_date)
        return child

    @staticmethod
    def _guard(child: _Person, guardian: _Person, since: dt.date) -> None:
        child.guardians.append((guardian, since))
        guardian.wards.append((child, since))

    def _lone_adult_with_children(self, home: _Household, count: int, appointed: bool) -> None:
        """A single parent (sole custody), or a specially appointed guardian who is no parent."""
        ages = self._child_ages(count, 0.0)
        age = self.rng.randint(30, 70) if appointed else max(ages) + self.rng.randint(20, 42)
        male = self.rng.random() < (0.45 if appointed else 0.25)
        adult = self._person(home, self._birth(age), male, self.rng.choice(self.last_names))
        if not appointed and self.rng.random() < 0.4:
            adult.civil_status = "S"
            adult.civil_status_date = self._between(_add_years(adult.birth_date, 22), self.today)
        for child_age in ages:
            last = self.rng.choice(self.last_names) if appointed else adult.last_name
            child = self._child(home, [] if appointed else [adult], child_age, last)
            for parent_male in (False, True) if appointed else (not male,):
                if appointed or self.rng.random() < 0.85:
                    self._external_parent(child, parent_male)
            if appointed:
                self._guard(child, adult, self._between(child.birth_date, self.today))

    def _external_parent(self, child: _Person, male: bool) -> None:
        """A parent living outside Göteborg and Mölndal: a number, but no person row."""
        birth = self._birth(self._age_of(child) + self.rng.randint(22, 40))
        child.parents.append(("FA" if male else "MO", self._number(birth, male)))

    def _address(self, home: _Household) -> None:
        street = f"{self.rng.choice(home.area.streets)} {self.rng.randint(1, 120)}"
        if self.rng.random() < 0.15:
            street += " " + self.rng.choice("ABC")
        line1 = care_of = None
        if self.rng.random() < APARTMENT_SHARE:
            line1 = f"LGH {self.rng.randint(10, 17)}{self.rng.randint(1, 4):02d}"
        if self.rng.random() < CARE_OF_SHARE:
            care_of = f"c/o {self.rng.choice(self.last_names)}"
        home.lines = (care_of, line1, street)
        adults = [p for p in home.members if not p.parents and not p.guardians]
        start = max([_add_years(p.birth_date, 18) for p in adults] + [_add_years(self.today, -40)])
        days = max(0, (self.today - start).days) * self.rng.random() ** 2  # recent moves likelier
        home.moved_in = self.today - dt.timedelta(days=int(days))

    def deaths(self) -> None:
        """Elderly singles and members of couples die; a surviving spouse is widowed."""
        old = [p for p in self.people if p.household.kind in ("single", "couple")]
        old = [p for p in old if self._age_of(p) >= 65]
        self.rng.shuffle(old)
        dead, target = 0, round(self.count * DECEASED_SHARE)
        for person in old:
            if dead >= target:
                return
            if person.spouse is None or person.spouse.deregistration is None:
                earliest = max([_add_years(self.today, -4), *person.union[1:2]])
                self._die(person, self._between(earliest, self.today))
                dead += 1

    @staticmethod
    def _die(person: _Person, day: dt.date) -> None:
        person.deregistration = ("AV", day)
        if person.spouse is not None:
            person.union[2] = person.spouse.union[2] = day
            person.spouse.civil_status = "Ä" if person.union[0] == "M" else "EP"
            person.spouse.civil_status_date = day

    def _homes(self, kinds: tuple[str, ...], fits: Callable[[_Person], bool]) -> list[_Household]:
        """Households of ``kinds`` whose members all fit, in a random order."""
        homes = [h for h in self.households if h.kind in kinds and all(map(fits, h.members))]
        self.rng.shuffle(homes)
        return homes

    def emigrations(self) -> None:
        """Whole single and couple households move abroad and get a foreign address."""
        moved, target = 0, round(self.count * EMIGRATED_SHARE)

        def fits(p: _Person) -> bool:
            return not p.deregistration and 20 <= self._age_of(p) <= 75

        for home in self._homes(("single", "couple"), fits):
            if moved >= target:
                return
            country, lines = self.rng.choice(FOREIGN)
            number = self.rng.randint(1, 90)
            texts = [line.format(n=number) for line in lines] + [None] * (3 - len(lines))
            home.foreign = (*texts, country)
            day = self._between(max(home.moved_in, _add_years(self.today, -8)), self.today)
            for person in home.members:
                person.deregistration = ("UV", day)
            moved += len(home.members)

    def protections(self) -> None:
        """Lone children of unprotected parents, then whole households, up to the target."""
        target, guarantee = round(self.count * PROTECTED_SHARE), self.count >= GUARANTEE_FROM
        families = self._homes(("family",), lambda p: True)
        families = [h for h in families if any(p.guardians for p in h.members)]
        wanted = max(int(guarantee), round(target * PROTECTED_CHILD_PART))
        for home in families[:wanted]:
            child = self.rng.choice([p for p in home.members if p.guardians])
            child.protection = self.rng.choice((SKYDDAD, SEKRETESS))
        protected, adult = min(wanted, len(families)), not guarantee

        def fits(p: _Person) -> bool:
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
        for p in self.people:
            if p.deregistration or p.protection or self._age_of(p) < 18:
                continue
            if self.rng.random() >= SPECIAL_ADDRESS_SHARE:
                continue
            town, low, high = self.rng.choice(OTHER_TOWNS)
            line2 = f"BOX {self.rng.randint(1, 9999)}"
            if self.rng.random() < 0.5:
                line2 = f"{self.rng.choice(self.streets)} {self.rng.randint(1, 60)}"
            code = str(self.rng.randint(low, high))
            p.special_address = (p.id, "S", None, None, line2, None, code, town, None, None, None)

    def register(self) -> DemoRegister:
        persons: list[Row] = []
        addresses: list[Row] = []
        relations: list[Row] = []
        for p in self.people:
            home, registered = p.household, not p.deregistration and p.protection != SKYDDAD
            code, day = p.deregistration or (None, None)
            moved_in = max(home.moved_in, p.birth_date) if registered else None
            key_code = home.area.key_code if registered else None
            persons.append((p.id, p.personnummer, p.birth_date, p.first_names, p.given_name_code,
                            p.middle_name, p.last_name, moved_in, key_code, p.civil_status,
                            p.civil_status_date, code, day, p.protection))  # fmt: skip
            addresses.extend(self._address_rows(p, registered))
            relations.extend(self._relation_rows(p))
        return DemoRegister(persons, addresses, relations)

    @staticmethod
    def _address_rows(p: _Person, registered: bool) -> list[Row]:
        home, area = p.household, p.household.area
        if p.deregistration and p.deregistration[0] == "UV" and home.foreign:
            return [(p.id, "U", None, *home.foreign[:3], None, None, None, None, home.foreign[3])]
        if not registered:
            return []
        care_of, line1, line2 = home.lines
        place = (area.postal_code, area.postal_town, "14", area.municipality_code, None)
        rows: list[Row] = [(p.id, "F", care_of, line1, line2, None, *place)]
        return rows + ([p.special_address] if p.special_address else [])

    @staticmethod
    def _relation_rows(p: _Person) -> list[Row]:
        rows: list[Row] = [(p.id, kind, number, p.birth_date, None) for kind, number in p.parents]
        rows += [(p.id, "B", c.personnummer, c.birth_date, None) for c in p.children]
        rows += [(p.id, "V", g.personnummer, since, None) for g, since in p.guardians]
        rows += [(p.id, "VF", c.personnummer, since, None) for c, since in p.wards]
        if p.spouse is not None:
            rows.append((p.id, p.union[0], p.spouse.personnummer, p.union[1], p.union[2]))
        return rows


def generate(persons: int, seed: int, today: dt.date) -> DemoRegister:
    """Build a register of exactly ``persons`` persons; the same arguments give the same rows.

    Args:
        persons: how many person rows to create (the last household is cut to fit).
        seed: seeds both ``random.Random`` and Faker.
        today: the reference date for ages, moves, deaths and emigrations.
    """
    builder = _Builder(persons, seed, today)
    while len(builder.people) < persons:
        builder.household(persons - len(builder.people))
    builder.deaths()
    builder.emigrations()
    builder.protections()
    builder.special_addresses()
    return builder.register()


LOCK_REGISTER = "LOCK TABLE person, address, relation IN EXCLUSIVE MODE"
PERSON_COUNT = "SELECT count(*) FROM person"
TRUNCATE_REGISTER = "TRUNCATE person, address, relation RESTART IDENTITY CASCADE"
# COPY writes the ids it is given even into a GENERATED ALWAYS identity column (PostgreSQL's
# CREATE TABLE reference says so), so the sequence is moved past them afterwards.
NEXT_PERSON_ID = """
SELECT setval(pg_get_serial_sequence('person', 'id'), coalesce(max(id), 0) + 1, false)
FROM person
"""
ANALYZE_REGISTER = "ANALYZE person, address, relation"
TABLES = (("person", PERSON_COLUMNS), ("address", ADDRESS_COLUMNS), ("relation", RELATION_COLUMNS))


async def load(
    connection: asyncpg.Connection,
    register: DemoRegister,
    *,
    replace: bool = False,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write ``register`` with COPY in one transaction; return the number of persons written.

    Args:
        replace: delete the persons already registered (and their addresses and relations).
        progress: called with the number of persons written so far after every chunk.

    Raises:
        RegisterNotEmptyError: the register holds persons and ``replace`` is false.
    """
    written = 0
    async with connection.transaction():
        await connection.execute(LOCK_REGISTER)
        if replace:
            await connection.execute(TRUNCATE_REGISTER)
        elif count := await connection.fetchval(PERSON_COUNT):
            raise RegisterNotEmptyError(count)
        for chunk in _chunks(register):
            for (table, columns), rows in zip(TABLES, chunk, strict=True):
                await connection.copy_records_to_table(table, records=rows, columns=columns)
            written += len(chunk[0])
            if progress is not None:
                progress(written)
        await connection.execute(NEXT_PERSON_ID)
    await connection.execute(ANALYZE_REGISTER)
    return written


def _chunks(register: DemoRegister) -> list[tuple[list[Row], list[Row], list[Row]]]:
    """Persons in chunks of ``CHUNK_SIZE``, each with its own addresses and relations."""
    key, chunks = itemgetter(0), []
    for start in range(0, len(register.persons), CHUNK_SIZE):
        persons = register.persons[start : start + CHUNK_SIZE]
        low, high = persons[0][0], persons[-1][0]
        parts = [
            rows[bisect.bisect_left(rows, low, key=key) : bisect.bisect_right(rows, high, key=key)]
            for rows in (register.addresses, register.relations)
        ]
        chunks.append((persons, parts[0], parts[1]))
    return chunks


ORDINARY_ADULT_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE p.deregistration_code IS NULL
  AND p.birth_date <= current_date - interval '18 years'
  AND p.birth_date > current_date - interval '100 years'  -- "+" numbers are not ordinary
  AND NOT EXISTS (SELECT 1 FROM address AS s WHERE s.person_id = p.id AND s.kind = 'S')
ORDER BY p.personnummer
LIMIT $1
"""
CHILD_WITH_TWO_GUARDIANS_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN relation AS r ON r.person_id = p.id AND r.kind = 'V' AND r.valid_to IS NULL
JOIN visible_person AS g ON g.personnummer = r.related_personnummer
WHERE p.deregistration_code IS NULL
  AND p.birth_date > current_date - interval '18 years'
GROUP BY p.personnummer
HAVING count(*) = 2
ORDER BY p.personnummer
LIMIT $1
"""
SPECIAL_POSTAL_ADDRESS_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
JOIN address AS a ON a.person_id = p.id AND a.kind = 'S'
WHERE p.deregistration_code IS NULL
ORDER BY p.personnummer
LIMIT $1
"""
DEREGISTERED_NUMBERS = """
SELECT p.personnummer
FROM visible_person AS p
WHERE p.deregistration_code = $2
ORDER BY p.personnummer
LIMIT $1
"""
# Protected persons are not in visible_person: this one reads the table on purpose.
PROTECTED_NUMBERS = """
SELECT p.personnummer
FROM person AS p
WHERE p.protection IS NOT NULL
ORDER BY p.personnummer
LIMIT $1
"""
PARENT_OF_PROTECTED_CHILD_NUMBERS = """
SELECT DISTINCT p.personnummer
FROM visible_person AS p
JOIN relation AS r ON r.person_id = p.id AND r.kind IN ('B', 'VF')
JOIN person AS c ON c.personnummer = r.related_personnummer
WHERE c.protection IS NOT NULL
  AND p.deregistration_code IS NULL
ORDER BY p.personnummer
LIMIT $1
"""
EXAMPLE_QUERIES: dict[str, tuple[str, tuple[str, ...]]] = {  # kind: (SQL, arguments after $1)
    "ordinary_adult": (ORDINARY_ADULT_NUMBERS, ()),
    "child_with_two_guardians": (CHILD_WITH_TWO_GUARDIANS_NUMBERS, ()),
    "special_postal_address": (SPECIAL_POSTAL_ADDRESS_NUMBERS, ()),
    "emigrated": (DEREGISTERED_NUMBERS, ("UV",)),
    "deceased": (DEREGISTERED_NUMBERS, ("AV",)),
    "protected": (PROTECTED_NUMBERS, ()),
    "parent_of_protected_child": (PARENT_OF_PROTECTED_CHILD_NUMBERS, ()),
}


async def examples(connection: asyncpg.Connection) -> dict[str, list[str]]:
    """Up to ``EXAMPLES_PER_KIND`` personnummer of each kind, read from the loaded register."""
    found: dict[str, list[str]] = {}
    for kind, (sql, arguments) in EXAMPLE_QUERIES.items():
        rows = await connection.fetch(sql, EXAMPLES_PER_KIND, *arguments)
        found[kind] = [row["personnummer"] for row in rows]
    return found
