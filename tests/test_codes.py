"""The register's codes are declared once (resolvers/domain/codes.py), and every other
place that names them — the importer, the Skatteverket contract, the schema's help text,
the table's CHECK — accepts exactly those."""

from __future__ import annotations

import re

import asyncpg
import pydantic
import pytest

from resolvers.domain import codes
from resolvers.imports import values
from resolvers.skatteverket import contract
from schema.build import build_schema

SCHEMA = build_schema()._schema
CONSTRAINT = """
SELECT pg_get_constraintdef(oid)
FROM pg_constraint
WHERE conname = $1
"""


@pytest.mark.parametrize("code", list(codes.DEREGISTRATION))
def test_skatteverket_may_answer_every_deregistration_code(code: str) -> None:
    answer = contract.Deregistration.model_validate({"kod": code, "datum": "2024-01-02"})
    assert answer.code == code


@pytest.mark.parametrize("code", ["XX", "O", "av", "", 1])
def test_an_unknown_code_from_skatteverket_breaks_the_contract(code: object) -> None:
    with pytest.raises(pydantic.ValidationError):
        contract.Deregistration.model_validate({"kod": code, "datum": "2024-01-02"})
    with pytest.raises(pydantic.ValidationError):
        contract.CivilStatus.model_validate({"kod": code})


def test_the_importer_reads_the_declared_codes() -> None:
    assert set(codes.DEREGISTRATION) == values.DEREGISTRATION
    assert set(codes.CIVIL_STATUS) == values.CIVIL_STATUS
    assert set(codes.RELATION_KIND) == values.RELATION


def test_the_schema_describes_every_code() -> None:
    deregistration = SCHEMA.type_map["Deregistration"].fields["code"].description  # type: ignore[union-attr]
    for code, meaning in codes.DEREGISTRATION.items():
        assert f"{code} {meaning.english}" in deregistration
    civil = SCHEMA.type_map["CivilStatus"].fields["code"].description  # type: ignore[union-attr]
    assert re.findall(r"[A-ZÄ]+(?=,| or|\.)", civil) == list(codes.CIVIL_STATUS)


async def test_the_table_accepts_exactly_the_declared_deregistration_codes(
    pool: asyncpg.Pool,
) -> None:
    definition = await pool.fetchval(CONSTRAINT, "person_deregistration_code_check")
    assert sorted(re.findall(r"'([A-Z]+)'", definition)) == sorted(codes.DEREGISTRATION)
