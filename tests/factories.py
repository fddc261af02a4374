"""Small factories that write register rows for a test, with valid numbers.

Addresses are written only through ``add_address`` (or, for many persons at once,
followed by ``restate``): each keeps the person row's registered-address columns as the
importer keeps them (``resolvers.imports.registered``), so a test's register is one the
importer could have written.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import asyncpg

from resolvers.domain.personnummer import make
from resolvers.imports import registered

_birth_numbers = itertools.count(1)

INSERT_PERSON = """
INSERT INTO person (
    personnummer, birth_date, first_names, given_name_code, middle_name, last_name,
    moved_in_date, key_code, civil_status, civil_status_date,
    deregistration_code, deregistration_date, protection
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""

INSERT_ADDRESS = """
INSERT INTO address (
    person_id, kind, care_of, line1, line2, line3, postal_code, postal_town,
    county_code, municipality_code, country
)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""

# The persons' registered-address columns as their stored address says ($1: their ids;
# NULL: everyone's), by the importer's own rule.
RESTATE = f"""
UPDATE person AS p
SET ({", ".join(registered.COLUMNS)}) = (
    SELECT {", ".join(registered.of_address("a.", "a.person_id IS NOT NULL"))}
    FROM (SELECT) AS one
    LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
)
WHERE $1::bigint[] IS NULL OR p.id = ANY ($1::bigint[])
"""

INSERT_RELATION = """
INSERT INTO relation (person_id, kind, related_personnummer, valid_from, valid_to)
VALUES ($1, $2, $3, $4, $5)
"""

PERSON_ID = "SELECT id FROM person WHERE personnummer = $1"

# Navet records each relation on both persons' records.
INVERSE = {"M": "M", "P": "P", "B": "F", "V": "VF", "VF": "V"}


def number(
    birth_date: dt.date = dt.date(1980, 5, 17), *, male: bool = False, coordination: bool = False
) -> str:
    """A fresh valid personnummer for the given birth date and gender."""
    serial = next(_birth_numbers) % 499
    birth_number = serial * 2 + (1 if male else 2)
    return make(birth_date, birth_number, coordination=coordination).digits


async def person(
    pool: asyncpg.Pool,
    *,
    personnummer: str | None = None,
    born: dt.date = dt.date(1980, 5, 17),
    male: bool = False,
    first_names: str = "Anna Maria",
    given_name_code: str | None = "10",
    middle_name: str | None = None,
    last_name: str = "Svensson",
    moved_in_date: dt.date | None = dt.date(2015, 3, 1),
    key_code: str | None = "148011",
    civil_status: str | None = "OG",
    civil_status_date: dt.date | None = None,
    deregistration: tuple[str, dt.date] | None = None,
    protection: str | None = None,
    address: dict[str, Any] | None = None,
) -> str:
    """Insert a person with a registered address (in Göteborg unless ``address`` names
    the codes; ``{}``: none); return the number."""
    pnr = personnummer or number(born, male=male)
    code, date = deregistration or (None, None)
    await pool.execute(
        INSERT_PERSON, pnr, born, first_names, given_name_code, middle_name, last_name,
        moved_in_date, key_code, civil_status, civil_status_date, code, date, protection,
    )  # fmt: skip
    home = {"line2": "Storgatan 1", "postal_code": "41263", "postal_town": "GÖTEBORG"}
    if address is not None:
        home = address
    if home:
        home = {"county_code": "14", "municipality_code": "80", **home}
        await add_address(pool, pnr, "F", **home)
    return pnr


async def add_address(pool: asyncpg.Pool, personnummer: str, kind: str, **fields: Any) -> None:
    person_id = await pool.fetchval(PERSON_ID, personnummer)
    columns = ("care_of", "line1", "line2", "line3", "postal_code", "postal_town")
    values = [fields.get(name) for name in columns]
    values += [fields.get("county_code"), fields.get("municipality_code"), fields.get("country")]
    await pool.execute(INSERT_ADDRESS, person_id, kind, *values)
    await restate(pool, [person_id])


async def restate(pool: asyncpg.Pool | asyncpg.Connection, ids: list[int] | None = None) -> None:
    """After addresses written in bulk: the persons' (``ids``; None: everyone's)
    registered-address columns as their addresses say."""
    await pool.execute(RESTATE, ids)


async def relate(
    pool: asyncpg.Pool,
    personnummer: str,
    kind: str,
    related: str,
    *,
    since: dt.date | None = dt.date(2010, 1, 1),
    until: dt.date | None = None,
    both_ways: bool = True,
) -> None:
    """Record that ``related`` is ``kind`` to ``personnummer`` (and the inverse)."""
    person_id = await pool.fetchval(PERSON_ID, personnummer)
    await pool.execute(INSERT_RELATION, person_id, kind, related, since, until)
    if both_ways and kind in INVERSE:
        other_id = await pool.fetchval(PERSON_ID, related)
        if other_id is not None:
            await pool.execute(INSERT_RELATION, other_id, INVERSE[kind], personnummer, since, until)


INSERT_FORMER = """
INSERT INTO former_personnummer (personnummer, current_personnummer)
VALUES ($1, $2)
"""


async def replaced(pool: asyncpg.Pool, old: str, current: str) -> None:
    """Record that Skatteverket replaced ``old`` by ``current``, as the importer does."""
    await pool.execute(INSERT_FORMER, old, current)
