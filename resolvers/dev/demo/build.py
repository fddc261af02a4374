"""``generate``: the whole demo register, drawn from one seed."""

from __future__ import annotations

import datetime as dt
import random

from resolvers.dev.demo.events import LifeEvents
from resolvers.dev.demo.households import Households
from resolvers.dev.demo.people import Chance, Population, name_pools
from resolvers.dev.demo.places import areas
from resolvers.dev.demo.register import DemoRegister, register_of


def generate(persons: int, seed: int, today: dt.date) -> DemoRegister:
    """Build a register of exactly ``persons`` persons; the same arguments give the same rows.

    Every random choice comes from one ``random.Random(seed)`` in a fixed order, so the steps
    below must not be reordered.

    Args:
        persons: how many person rows to create (the last household is cut to fit).
        seed: seeds both ``random.Random`` and Faker.
        today: the reference date for ages, moves, deaths and emigrations.
    """
    rng = random.Random(seed)
    pools = name_pools(seed)
    population = Population(Chance(rng, today), pools)
    households = Households(population, areas(rng, pools.streets))
    while len(population.people) < persons:
        households.household(persons - len(population.people))
    LifeEvents(population, persons).apply()
    return register_of(population.people)
