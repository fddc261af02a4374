"""A record that names its own number where another person's belongs is malformed: a
relation to oneself, a Hänvisning to the number the record is for (docs/imports.md)."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from resolvers.imports.navet import NavetFormatError, open_delivery
from resolvers.imports.source import ImportRefused
from tests import navet_files as nf
from tests.importing import apply as apply_records
from tests.importing import apply_navet, changes, partial, record, relation
from tests.navet_files import PERSON, SPOUSE


def refusal(tmp_path: Path, *parts: str, personnummer: str = SPOUSE) -> NavetFormatError:
    records = [nf.record(1, PERSON), nf.record(7, personnummer, total="N", person=parts)]
    path = nf.navet_file(tmp_path / "notice.xml", records)
    with pytest.raises(NavetFormatError) as refused, open_delivery(path) as navet:
        list(navet.records())
    return refused.value


@pytest.mark.parametrize(
    ("parts", "path"),
    [
        (
            [nf.relations(nf.relation("B", PERSON), nf.relation("M", SPOUSE))],
            "Personpost/Relationer/Relation[2]/RelationId/PersonNr",
        ),
        (
            [nf.relations(nf.relation("M", SPOUSE, status="AS"))],
            "Personpost/Relationer/Relation/RelationId/PersonNr",
        ),
        ([nf.referral(SPOUSE)], "Personpost/HanvisningsPersonNr"),
        (
            [nf.referrals((PERSON, "AS"), (SPOUSE, "NY"))],
            "Personpost/Hanvisningar/Hanvisning[2]/HanvisningsPersonNr",
        ),
    ],
)
def test_the_records_own_number_in_a_relation_or_referral_is_refused(
    tmp_path: Path, parts: list[str], path: str
) -> None:
    error = refusal(tmp_path, *parts)
    assert (error.record, error.post_id, error.path) == (2, 7, path)
    assert error.reason == "the record's own number"
    assert SPOUSE not in str(error)


async def test_a_file_naming_a_records_own_number_applies_nothing(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    path = nf.navet_file(
        tmp_path / "notice.xml", [nf.record(1, PERSON), nf.record(2, SPOUSE, person=[
            nf.names(), nf.relations(nf.relation("M", SPOUSE)),
        ])],
    )  # fmt: skip
    with pytest.raises(ImportRefused, match="Relation/RelationId/PersonNr: the record's own"):
        await apply_navet(database_url, path)
    assert await register.fetchval("SELECT count(*) FROM person") == 0


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (record(SPOUSE, 2, relations=(relation("M", SPOUSE),)), "a relation to its own person"),
        (partial(SPOUSE, 2, new_personnummer=SPOUSE), "a Hänvisning to its own number"),
    ],
)
async def test_the_importer_refuses_a_records_own_number_from_any_source(
    register: asyncpg.Pool, database_url: str, item: object, reason: str
) -> None:
    with pytest.raises(ImportRefused, match=f"record with PostId 2: {reason}"):
        await apply_records(database_url, changes(record(PERSON, 1), item))  # type: ignore[arg-type]
    assert await register.fetchval("SELECT count(*) FROM person") == 0
