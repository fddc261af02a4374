"""Protection wins over whatever else a record does, and no row or event names a protected
person's number, old or new (docs/imports.md "Protection"), read from Navet files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from resolvers.imports.records import SEKRETESS, SKYDDAD
from tests import navet_files as nf
from tests.factories import number
from tests.importing import apply_navet
from tests.navet_files import PERSON, SPOUSE
from tests.test_imports import person
from tests.test_imports_protection import assert_purged

NEW = number()
RELATIONS = """query ($p: String!) {
  person(personnummer: $p) { ... on Person { relations { personnummer } } }
}"""
FILE_EVENTS = """
SELECT e.personnummer, e.kind, e.previous_personnummer, e.recorded_at, e.post_id
FROM change_event AS e
JOIN import_file AS f ON f.id = e.import_file_id
WHERE f.file_name = $1
ORDER BY e.xid, e.position
"""
POINTING_AT = "SELECT count(*) FROM relation WHERE related_personnummer = ANY ($1::text[])"


def spouse_of(personnummer: str, post_id: int, **record: Any) -> str:
    """SPOUSE's total record, married to ``personnummer``."""
    return nf.record(post_id, SPOUSE, person=[
        nf.names("Sven", "Make"), nf.registration(), nf.addresses(nf.swedish_address()),
        nf.relations(nf.relation("M", personnummer, "20100612")),
    ], **record)  # fmt: skip


def notice(path: Path, *records: str, job_id: int) -> Path:
    return nf.navet_file(path, records, order_type="ANDRINGSAVISERING", job_id=job_id)


async def base(database_url: str, tmp_path: Path) -> None:
    """PERSON, and SPOUSE married to them."""
    path = notice(tmp_path / "base.xml", nf.record(1, PERSON), spouse_of(PERSON, 2), job_id=1)
    outcome = await apply_navet(database_url, path)
    assert outcome.counts["created"] == 2


async def spouses_relations(api: Any) -> list[dict]:
    answer = await api.query(RELATIONS, {"p": SPOUSE})
    return list(answer["data"]["person"]["relations"])


async def test_protection_and_leaving_the_region_in_one_record_protect(
    register: asyncpg.Pool, database_url: str, tmp_path: Path, api: Any
) -> None:
    await base(database_url, tmp_path)
    leaving = nf.record(3, PERSON, total="N", protected="J", person=[
        nf.registration(county="13", municipality="84"),
    ])  # fmt: skip
    outcome = await apply_navet(database_url, notice(tmp_path / "n.xml", leaving, job_id=2))
    assert (outcome.counts["protected"], outcome.counts["left"]) == (1, 0)
    await assert_purged(register, PERSON, SKYDDAD)
    assert await register.fetch(FILE_EVENTS, "n.xml") == [(PERSON, "PROTECTED", None, None, None)]
    assert await spouses_relations(api) == []


async def test_a_protected_person_new_to_the_register_is_kept_wherever_registered(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    """The stub remembers the protection: a relation to them is not stored again."""
    await apply_navet(database_url, notice(tmp_path / "s.xml", spouse_of(NEW, 1), job_id=1))
    elsewhere = nf.record(2, NEW, secrecy="J", person=[nf.registration(county="13")])
    outcome = await apply_navet(database_url, notice(tmp_path / "n.xml", elsewhere, job_id=2))
    assert outcome.counts["protected"] == 1
    await assert_purged(register, NEW, SEKRETESS)
    again = notice(tmp_path / "again.xml", spouse_of(NEW, 3), job_id=3)
    await apply_navet(database_url, again)
    assert await register.fetchval(POINTING_AT, [NEW]) == 0


async def test_a_protection_applies_whatever_its_post_id(
    register: asyncpg.Pool, database_url: str, tmp_path: Path, api: Any
) -> None:
    first = notice(tmp_path / "1.xml", nf.record(10, PERSON), spouse_of(PERSON, 11), job_id=1)
    await apply_navet(database_url, first)
    late = nf.record(5, PERSON, secrecy="J", person=[])
    outcome = await apply_navet(database_url, notice(tmp_path / "2.xml", late, job_id=2))
    assert (outcome.counts["protected"], outcome.counts["stale"]) == (1, 0)
    await assert_purged(register, PERSON, SEKRETESS)
    assert (await person(register, PERSON))["post_id"] == 10  # what came after 5 still counts
    assert await spouses_relations(api) == []
    older = nf.record(7, PERSON, person=[nf.names(last="Synlig")])
    outcome = await apply_navet(database_url, notice(tmp_path / "3.xml", older, job_id=3))
    assert outcome.counts["stale"] == 1
    await assert_purged(register, PERSON, SEKRETESS)


def moved(post_id: int, old: str, new: str) -> str:
    return nf.record(post_id, old, total="N", person=[
        nf.deregistration("GN", "20240110"), nf.referral(new),
    ])  # fmt: skip


async def test_a_relation_to_a_protected_persons_former_number_is_not_stored(
    register: asyncpg.Pool, database_url: str, tmp_path: Path, api: Any
) -> None:
    await base(database_url, tmp_path)
    change = notice(
        tmp_path / "n.xml",
        moved(3, PERSON, NEW),
        nf.record(4, NEW, protected="J", person=[]),
        job_id=2,
    )
    outcome = await apply_navet(database_url, change)
    assert (outcome.counts["number_changed"], outcome.counts["protected"]) == (1, 1)
    await assert_purged(register, NEW, SKYDDAD)
    # The feed says nothing of the new number: receivers purge what they hold on the old.
    assert await register.fetch(FILE_EVENTS, "n.xml") == [(PERSON, "PROTECTED", None, None, None)]
    later = notice(tmp_path / "later.xml", spouse_of(PERSON, 5), job_id=3)
    await apply_navet(database_url, later)
    assert await register.fetchval(POINTING_AT, [PERSON, NEW]) == 0
    assert await spouses_relations(api) == []


async def test_a_relation_to_a_former_number_is_stored_to_the_current_one(
    register: asyncpg.Pool, database_url: str, tmp_path: Path, api: Any
) -> None:
    await base(database_url, tmp_path)
    await apply_navet(database_url, notice(tmp_path / "n.xml", moved(3, PERSON, NEW), job_id=2))
    later = notice(tmp_path / "later.xml", spouse_of(PERSON, 4), job_id=3)
    await apply_navet(database_url, later)
    assert await spouses_relations(api) == [{"personnummer": NEW}]


async def test_protected_first_then_the_number_change_names_the_old_number_only(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    """The new number's protected record before the change: still one event, for the
    old number, and none for the new."""
    await base(database_url, tmp_path)
    change = notice(
        tmp_path / "n.xml",
        nf.record(3, NEW, protected="J", person=[]),
        moved(4, PERSON, NEW),
        job_id=2,
    )
    await apply_navet(database_url, change)
    await assert_purged(register, NEW, SKYDDAD)
    assert await person(register, PERSON) is None
    assert await register.fetch(FILE_EVENTS, "n.xml") == [(PERSON, "PROTECTED", None, None, None)]


async def test_a_number_change_record_marked_protected_protects(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await base(database_url, tmp_path)
    marked = nf.record(3, PERSON, total="N", secrecy="J", person=[nf.referral(NEW)])
    outcome = await apply_navet(database_url, notice(tmp_path / "n.xml", marked, job_id=2))
    assert outcome.counts["number_changed"] == 1
    await assert_purged(register, NEW, SEKRETESS)
    assert await register.fetchval(POINTING_AT, [PERSON, NEW]) == 0
    assert await register.fetch(FILE_EVENTS, "n.xml") == [(PERSON, "PROTECTED", None, None, None)]


async def test_receivers_who_knew_the_new_number_are_told_to_purge_it_too(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    await base(database_url, tmp_path)
    known = notice(tmp_path / "known.xml", nf.record(3, NEW), job_id=2)
    await apply_navet(database_url, known)
    change = notice(
        tmp_path / "n.xml",
        moved(4, PERSON, NEW),
        nf.record(5, NEW, protected="J", person=[]),
        job_id=3,
    )
    await apply_navet(database_url, change)
    await assert_purged(register, NEW, SKYDDAD)
    assert [tuple(e)[:2] for e in await register.fetch(FILE_EVENTS, "n.xml")] == [
        (PERSON, "PROTECTED"), (NEW, "PROTECTED"),
    ]  # fmt: skip
