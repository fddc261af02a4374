"""A deterministic, realistic demo register for Göteborg (1480) and Mölndal (1481).

``generate`` builds households (singles, couples, families) with names, personnummer,
addresses and relations stored in both directions; ``load`` writes them with COPY in one
transaction; ``examples`` picks numbers of each interesting kind from the loaded register.
"""

from resolvers.dev.demo.build import generate
from resolvers.dev.demo.example_numbers import examples
from resolvers.dev.demo.loading import RegisterNotEmptyError, load
from resolvers.dev.demo.register import (
    ADDRESS_COLUMNS,
    PERSON_COLUMNS,
    RELATION_COLUMNS,
    DemoRegister,
)

__all__ = [
    "ADDRESS_COLUMNS",
    "PERSON_COLUMNS",
    "RELATION_COLUMNS",
    "DemoRegister",
    "RegisterNotEmptyError",
    "examples",
    "generate",
    "load",
]
