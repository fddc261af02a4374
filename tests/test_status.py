"""Status: one rule, for the register's rows (SQL) and Skatteverket's answers (Python)."""

from __future__ import annotations

import itertools

import asyncpg

from resolvers import codes
from schema.person import Status
from tests import factories

# Every input the rule can meet: either kind of number, registered or any deregistration.
CASES = list(itertools.product((False, True), (None, *codes.DEREGISTRATION)))


async def test_sql_and_python_decide_every_status_alike(pool: asyncpg.Pool) -> None:
    for coordination, code in CASES:
        in_sql = await pool.fetchval("SELECT person_status($1, $2)", coordination, code)
        assert in_sql == codes.person_status(coordination, code), (coordination, code)


def test_every_status_decided_is_in_the_schema_and_every_one_is_decided() -> None:
    decided = {codes.person_status(coordination, code) for coordination, code in CASES}
    assert decided == {status.value for status in Status}


async def test_register_rows_get_the_status_of_their_kind_of_number(
    clean_db: asyncpg.Pool,
) -> None:
    """A samordningsnummer holder is not folkbokförd, whichever source holds the record."""
    coordination = factories.number(coordination=True)
    await factories.person(clean_db, personnummer=coordination, address={})
    ordinary = await factories.person(clean_db)
    rows = await clean_db.fetch("SELECT personnummer, status FROM visible_person")
    assert dict(rows) == {coordination: "COORDINATION_NUMBER", ordinary: "REGISTERED"}
