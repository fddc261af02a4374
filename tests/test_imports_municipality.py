"""The municipality an event took its person out of (``change_event.municipality_before``),
read from Navet files: a follower of that municipality learns that someone moved out,
left or became protected (docs/imports.md "For the change feed")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import asyncpg

from tests import navet_files as nf
from tests.factories import number
from tests.importing import apply_navet

EVENTS = """
SELECT e.personnummer, e.kind, e.municipality_before
FROM change_event AS e
JOIN import_file AS f ON f.id = e.import_file_id
WHERE f.file_name = $1
ORDER BY e.xid, e.position
"""


def living(post_id: int, personnummer: str, municipality: str = "80", **record: str) -> str:
    """A total record of a person registered in county 14, ``municipality``."""
    return nf.record(post_id, personnummer, person=[
        nf.names(), nf.registration(county="14", municipality=municipality),
        nf.addresses(nf.swedish_address()),
    ], **record)  # fmt: skip


def moving(post_id: int, personnummer: str, county: str, municipality: str, street: str) -> str:
    """A change record: a new registration and folkbokföringsadress, nothing else."""
    return nf.record(post_id, personnummer, total="N", person=[
        nf.registration("20260301", county, municipality, f"{street.upper()} 1"),
        nf.addresses(nf.swedish_address(line2=f"{street} 1")),
    ])  # fmt: skip


def extract(path: Path, *records: str, **delivery: object) -> Path:
    return nf.navet_file(path, records, **{"order_type": "GRUNDUTTAG", "job_id": 1, **delivery})


def notice(path: Path, *records: str, job_id: int = 2) -> Path:
    return nf.navet_file(path, records, order_type="ANDRINGSAVISERING", job_id=job_id)


async def events(pool: asyncpg.Pool, path: Path) -> list[tuple[str, str, str | None]]:
    return [tuple(row) for row in await pool.fetch(EVENTS, path.name)]


async def test_an_event_names_the_municipality_it_took_its_person_out_of(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    persons = [number(dt.date(1970, 1, day)) for day in range(1, 8)]
    away, near, hidden, gone, dead, renamed, born = persons
    registered = persons[:-1]  # all but the one born
    await apply_navet(database_url, extract(
        tmp_path / "extract.xml", *(living(i, n) for i, n in enumerate(registered, 1))
    ))  # fmt: skip
    death = nf.record(14, dead, total="N", person=[
        nf.deregistration("AV", "20260227"), nf.registration(None, None, None, None),
        nf.addresses(),
    ])  # fmt: skip
    changed = notice(
        tmp_path / "notice.xml",
        moving(10, away, "14", "01", "Hamngatan"),  # to Göteborg (1480 → 1401)
        moving(11, near, "14", "80", "Kungsgatan"),  # within Alingsås, 1480
        nf.record(12, hidden, total="N", secrecy="N", protected="J", person=[]),
        moving(13, gone, "13", "84", "Storgatan"),  # to Kungsbacka, Halland: leaves
        death,  # no registration, no address
        nf.record(15, renamed, total="N", person=[nf.names(last="Ny")]),
        living(16, born),
    )
    outcome = await apply_navet(database_url, changed)
    assert outcome.status == "applied"
    assert await events(register, changed) == [
        (away, "CHANGED", "1480"),
        (near, "CHANGED", None),
        (hidden, "PROTECTED", "1480"),
        (gone, "LEFT", "1480"),
        (dead, "DEREGISTERED", "1480"),
        (renamed, "CHANGED", None),
        (born, "CREATED", None),
    ]
    assert all(before is None for *_, before in await events(register, tmp_path / "extract.xml"))


async def test_each_round_names_where_its_record_found_the_person(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    mover = number(dt.date(1971, 2, 3))
    await apply_navet(database_url, extract(tmp_path / "extract.xml", living(1, mover)))
    twice = notice(
        tmp_path / "notice.xml",
        moving(10, mover, "14", "01", "Hamngatan"),
        moving(11, mover, "14", "02", "Ågatan"),
    )
    await apply_navet(database_url, twice)
    assert await events(register, twice) == [
        (mover, "CHANGED", "1480"),
        (mover, "CHANGED", "1401"),
    ]


async def test_who_a_complete_full_extract_does_not_carry_leaves_their_municipality(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    stays, goes = number(dt.date(1972, 3, 4)), number(dt.date(1972, 3, 5))
    first = extract(tmp_path / "1.xml", living(1, stays), living(2, goes, "01"))
    await apply_navet(database_url, first)
    later = extract(tmp_path / "2.xml", living(1, stays), order_id="SKV000000000005678", job_id=3)
    await apply_navet(database_url, later)
    assert await events(register, later) == [(goes, "LEFT", "1401")]


async def test_a_number_change_names_the_old_numbers_municipality_when_it_moves_them_out(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    old, new = number(dt.date(1973, 4, 5)), number(dt.date(1973, 4, 6))
    kept, kept_new = number(dt.date(1973, 4, 7)), number(dt.date(1973, 4, 8))
    await apply_navet(database_url, extract(
        tmp_path / "extract.xml", living(1, old), living(2, new, "01"), living(3, kept),
    ))  # fmt: skip
    referred = notice(
        tmp_path / "notice.xml",
        # The new number is in the register, registered in 1401: the old number's row goes.
        nf.record(10, old, total="N", person=[nf.referral(new)]),
        # The new number is new: the person keeps their address under it.
        nf.record(11, kept, total="N", person=[nf.referral(kept_new)]),
    )
    await apply_navet(database_url, referred)
    assert await events(register, referred) == [
        (new, "NUMBER_CHANGED", "1480"),
        (kept_new, "NUMBER_CHANGED", None),
    ]


async def test_a_number_change_that_protects_names_where_the_person_was(
    register: asyncpg.Pool, database_url: str, tmp_path: Path
) -> None:
    old, new = number(dt.date(1974, 5, 6)), number(dt.date(1974, 5, 7))
    later, later_new = number(dt.date(1974, 5, 8)), number(dt.date(1974, 5, 9))
    await apply_navet(database_url, extract(
        tmp_path / "extract.xml", living(1, old, "02"), living(2, later, "01"),
    ))  # fmt: skip
    hidden = notice(
        tmp_path / "notice.xml",
        # Protected by the number change's own record.
        nf.record(10, old, total="N", protected="J", person=[nf.referral(new)]),
        # Protected by a later record of the file, under the new number.
        nf.record(11, later, total="N", person=[nf.referral(later_new)]),
        nf.record(12, later_new, total="N", protected="J", person=[]),
    )
    await apply_navet(database_url, hidden)
    assert await events(register, hidden) == [
        (old, "PROTECTED", "1402"),
        (later, "PROTECTED", "1401"),
    ]
