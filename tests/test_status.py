"""Status and the kind of number: one rule each, for the register's rows (SQL) and for
parsed numbers and Skatteverket's answers (Python)."""

from __future__ import annotations

import datetime as dt
import itertools

import asyncpg

from resolvers.domain import codes, personnummer
from schema.register.codes import Status
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


async def test_register_rows_get_the_status_the_rule_decides(clean_db: asyncpg.Pool) -> None:
    expected = {}
    for index, code in enumerate((None, *codes.DEREGISTRATION)):
        deregistration = None if code is None else (code, dt.date(2020, 1, 1))
        number = await factories.person(
            clean_db, born=dt.date(1960, 1, 1 + index), deregistration=deregistration
        )
        expected[number] = codes.person_status(False, code)
    rows = await clean_db.fetch("SELECT personnummer, status FROM visible_person")
    assert dict(rows) == expected


async def test_sql_and_python_tell_a_samordningsnummer_alike(clean_db: asyncpg.Pool) -> None:
    """The number's day of month decides, in the function the relation views use, in the
    generated column visible_person reads, and in Python; every two digits of a day."""
    numbers = [f"198001{day:02d}0000" for day in range(100)]
    in_sql = await clean_db.fetch(
        "SELECT n, is_coordination_number(n) FROM unnest($1::text[]) AS n", numbers
    )
    assert dict(in_sql) == {n: personnummer.is_coordination_number(n) for n in numbers}
    real = [
        personnummer.make(dt.date(1980, 1, day), 2, coordination=kind).digits
        for day in range(1, 32)
        for kind in (False, True)
    ]
    for number in real:
        await factories.person(clean_db, personnummer=number, address={})
    stored = await clean_db.fetch("SELECT personnummer, is_coordination_number FROM person")
    assert dict(stored) == {n: personnummer.is_coordination_number(n) for n in real}
