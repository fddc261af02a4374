"""Rows are decoded by position: each statement returns exactly the declared columns.

The rows' declarations (``resolvers.register.columns``) decide what a statement selects and how
its records are decoded; these tests read what PostgreSQL says each statement returns
(its result attributes, unexecuted) and hold it to the declared names, order and types,
so a view or a query that drifts from the declarations fails here, not in an answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, NamedTuple

import asyncpg
import pytest

from resolvers.audit import log_search
from resolvers.domain.access import Tier
from resolvers.register import former_numbers, persons, relations
from resolvers.register.columns import Column, declared, read_at, row_of
from resolvers.register.records import Output, person_outputs, relation_outputs
from resolvers.register.rows import PersonRow, RelationRow

# What a column of each declared Python type is in PostgreSQL.
PG_TYPES = {
    int: {"int8"}, str: {"text", "bpchar"}, dt.date: {"date"}, dt.datetime: {"timestamptz"},
    bool: {"bool"},
}  # fmt: skip


def _named(*names: str, type_: type = int) -> list[Output]:
    return [Output(name, name, type_) for name in names]


def _statements() -> list[tuple[str, str, list[Output]]]:
    """Every statement that returns persons, with the layout its decoder reads."""
    found = []
    for tier in Tier:
        person = person_outputs(tier)
        found += [
            (f"by number {tier.name}", persons.PERSONS_BY_PERSONNUMMER[tier], person),
            (f"in range {tier.name}", persons.PERSONS_IN_RANGE[tier], person),
            (f"by name {tier.name}", persons.PERSONS_BY_NAME[tier], _named("total") + person),
            (
                f"current number {tier.name}",
                former_numbers.CURRENT_NUMBER[tier],
                _named("current_personnummer", type_=str)
                + _named("protected", type_=bool)
                + person,
            ),
        ]
        for addresses in (True, False):
            related = relation_outputs() + person_outputs(tier, "rp", addresses=addresses)
            key = (tier, addresses)
            found += [
                (
                    f"relations {tier.name} {addresses}",
                    relations.RELATIONS_BY_PERSON_ID[key],
                    _named("person_id") + related,
                ),
                (
                    f"with relations {tier.name} {addresses}",
                    relations.PERSON_WITH_RELATIONS[key],
                    person + related,
                ),
            ]
    entry = [Output(c.column, c.field, c.type) for c in declared(log_search.LogEntry)]
    for criteria in (log_search.LogSearch(), log_search.LogSearch("198001010000", "s", "o")):
        sql, _ = log_search.search_statement(criteria, (1, 1), 10)
        found.append((f"access log {criteria.personnummer}", sql, entry))
    return found


@pytest.mark.parametrize(("statement", "expected"), [s[1:] for s in _statements()],
                         ids=[s[0] for s in _statements()])  # fmt: skip
async def test_each_statement_returns_the_declared_columns_in_order(
    pool: asyncpg.Pool, statement: str, expected: list[Output]
) -> None:
    async with pool.acquire() as connection:
        attributes = (await connection.prepare(statement)).get_attributes()
    assert [a.name for a in attributes] == [output.name for output in expected]
    for attribute, output in zip(attributes, expected, strict=True):
        assert attribute.type.name in PG_TYPES[output.type], (output, attribute.type)


def test_a_tier_reads_its_own_columns_and_those_below() -> None:
    basic = [column.field for column in read_at(PersonRow, Tier.BASIC)]
    assert basic[-1] == "status" and "moved_in_date" not in basic
    extended = [column.field for column in read_at(PersonRow, Tier.EXTENDED)]
    assert extended[: len(basic)] == basic
    assert extended[-1] == "deregistration_date"
    assert read_at(PersonRow, Tier.RELATIONS) == read_at(PersonRow, Tier.EXTENDED)
    assert [column.column for column in declared(RelationRow)] == [
        "kind", "related_personnummer", "valid_from", "valid_to",
    ]  # fmt: skip


def test_a_declaration_a_row_could_not_be_built_from_is_refused() -> None:
    """A higher tier's column before a lower one's would make a tier's columns no prefix
    of the row, and a record would be read into the wrong fields."""

    class Misdeclared(NamedTuple):
        secret: Annotated[str, Column(Tier.EXTENDED)]
        name: Annotated[str, Column(Tier.BASIC)]

    with pytest.raises(TypeError, match="by tier"):
        declared(Misdeclared)


def test_a_row_for_a_table_is_written_by_column_name() -> None:
    assert row_of(("a", "b", "c"), c=3, a=1) == (1, None, 3)
    with pytest.raises(KeyError, match="d"):
        row_of(("a", "b"), a=1, d=4)
