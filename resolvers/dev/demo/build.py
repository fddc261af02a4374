"""``generate``: the whole demo register, drawn from one seed."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from resolvers.dev.demo.events import LifeEvents
from resolvers.dev.demo.households import Households
from resolvers.dev.demo.model import Area
from resolvers.dev.demo.people import Chance, Population, name_pools
from resolvers.dev.demo.places import areas
from resolvers.dev.demo.register import DemoRegister, register_of


@dataclass(frozen=True, slots=True)
class Drawn:
    """The drawn persons and places behind a register, for writing it in other forms."""

    population: Population
    areas: list[Area]  # every key code area, in key code order
    register: DemoRegister


def generate(persons: int, seed: int, today: dt.date) -> DemoRegister:
    """Build a register of exactly ``persons`` persons; the same arguments give the same rows.

    Args:
        persons: how many person rows to create (the last household is cut to fit).
        seed: seeds both ``random.Random`` and Faker.
        today: the reference date for ages, moves, deaths and emigrations.
    """
    return draw(persons, seed, today).register


def draw(persons: int, seed: int, today: dt.date) -> Drawn:
    """``generate``'s register with the population and areas it was drawn from.

    Every random choice comes from one ``random.Random(seed)`` in a fixed order, so the steps
    below must not be reordered.
    """
    rng = random.Random(seed)
    pools = name_pools(seed)
    population = Population(Chance(rng, today), pools)
    places = areas(rng, pools.streets)
    households = Households(population, places)
    while len(population.people) < persons:
        households.household(persons - len(population.people))
    LifeEvents(population, persons).apply()
    return Drawn(population, places, register_of(population.people))
