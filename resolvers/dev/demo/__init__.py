"""A deterministic, realistic demo register for Göteborg (1480) and Mölndal (1481).

``generate`` builds households (singles, couples, families) with names, personnummer,
addresses and relations stored in both directions; ``write_files`` writes them as
Skatteverket's Navet files and ``fill`` imports those, as ``vastfolket import`` does;
``examples`` picks numbers of each interesting kind from the register.
"""

from resolvers.dev.demo.build import generate
from resolvers.dev.demo.example_numbers import examples
from resolvers.dev.demo.filling import (
    DemoFiles,
    Filled,
    RegisterNotEmptyError,
    files_directory,
    fill,
    write_files,
)
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
    "DemoFiles",
    "DemoRegister",
    "Filled",
    "RegisterNotEmptyError",
    "examples",
    "files_directory",
    "fill",
    "generate",
    "write_files",
]
