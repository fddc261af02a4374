"""PostIds are numbered per order (BestallningsId): a record is stale only against what a
record of its own order stored (docs/imports.md "Order")."""

from __future__ import annotations

from pathlib import Path

import asyncpg

from resolvers.imports.records import SEKRETESS
from tests import navet_files as nf
from tests.importing import apply_navet
from tests.navet_files import PERSON, SPOUSE
from tests.test_imports import person
from tests.test_imports_protection import assert_purged

FIRST, SECOND = "SKV000000000000001", "SKV000000000000002"


def spouse(post_id: int, last: str = "Make") -> str:
    return nf.record(post_id, SPOUSE, person=[
        nf.names("Sven", last), nf.registration(), nf.addresses(nf.swedish_address()),
        nf.relations(nf.relation("M", PERSON, "20100612")),
    ])  # fmt: skip


def extract(path: Path, *records: str, order_id: str, job_id: int) -> Path:
    return nf.navet_file(path, records, order_type="GRUNDUTTAG", order_id=order_id, job_id=job_id)


def notice(path: Path, *records: str, job_id: int) -> Path:
    return nf.navet_file(
        path, records, order_type="ANDRINGSAVISERING", order_id=FIRST, job_id=job_id
    )


async def test_a_new_full_extract_applies_whatever_the_post_ids_before(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    first = extract(
        tmp_path / "1.xml", nf.record(500, PERSON), spouse(501), order_id=FIRST, job_id=1
    )
    await apply_navet(database_url, first)
    second = extract(
        tmp_path / "2.xml",
        nf.record(1, PERSON, secrecy="J", person=[]),
        spouse(2, last="Ny"),
        order_id=SECOND,
        job_id=1,
    )
    outcome = await apply_navet(database_url, second)
    assert (outcome.counts["stale"], outcome.counts["protected"]) == (0, 1)
    assert outcome.counts["changed"] == 1
    await assert_purged(register, PERSON, SEKRETESS)
    stored = await person(register, SPOUSE)
    assert stored["last_name"] == "Ny" and stored["post_id"] == 2
    # The order's own later records compare with what it stored.
    older = nf.record(1, SPOUSE, total="N", person=[nf.names("Sven", "Gammal")])
    outcome = await apply_navet(
        database_url,
        nf.navet_file(tmp_path / "3.xml", [older], order_type="A", order_id=SECOND, job_id=2),
    )
    assert outcome.counts["stale"] == 1
    assert (await person(register, SPOUSE))["last_name"] == "Ny"


async def test_a_stale_record_of_the_same_order_is_still_ignored(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await apply_navet(database_url, notice(tmp_path / "1.xml", spouse(20), job_id=1))
    outcome = await apply_navet(
        database_url, notice(tmp_path / "2.xml", spouse(19, last="Gammal"), job_id=2)
    )
    assert outcome.counts["stale"] == 1
    assert (await person(register, SPOUSE))["last_name"] == "Make"
