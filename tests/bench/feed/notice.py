"""A change notice of N persons of the register, written as Navet delivers it and
applied through the importer, so that the events and the notification are the import's.

Each record is an ändringsavisering's record that is not total and carries one part: the
person's names, with a last name other than the one the register holds (the next of a
few, in turn), so that every record is a real change and writes one ``CHANGED`` event
(``NAMES``). The persons are the first N the register shows (no protected person, no
samordningsnummer holder), so a subscriber selecting ``person`` sees each one. Every
notice is a file of its own (its own JobbId), written by the demo's Navet writer and
read back by the real reader, in one transaction as ``vastfolket import`` applies it.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import replace
from pathlib import Path

import asyncpg

from resolvers.dev.demo.navet_xml import write_file
from resolvers.imports.apply import apply_file
from resolvers.imports.navet import open_delivery
from resolvers.imports.records import CHANGES, Delivery, Names, Record
from resolvers.imports.source import APPLIED, Options

LAST_NAMES = ("Lindqvist", "Bergström", "Holmgren", "Sundberg", "Wallin", "Ekström")
CASE = "NAMNBYTE"  # Arendetyp
ORDER_ID = "SKV000000000009999"  # BestallningsId: 18 characters
CHANGE = Record(0, None, False, "", None, None, None, None, None, None, None, None)

PERSONS = """
SELECT personnummer, first_names, given_name_code, middle_name, last_name
FROM visible_person
ORDER BY id
LIMIT $1
"""
NEXT_JOB = "SELECT coalesce(max(job_id), 0) + 1 FROM import_file"
NEXT_POST = "SELECT coalesce(max(post_id), 0) + 1 FROM change_event"


class NoticeFailed(Exception):
    """The notice did not apply as one change per record: no figures for it."""


def _renamed(row: asyncpg.Record) -> Names:
    at = LAST_NAMES.index(row["last_name"]) if row["last_name"] in LAST_NAMES else -1
    last = LAST_NAMES[(at + 1) % len(LAST_NAMES)]
    return Names(row["first_names"], row["given_name_code"], row["middle_name"], last)


async def write_notice(connection: asyncpg.Connection, folder: Path, changes: int) -> Path:
    """A notice renaming the register's first ``changes`` persons shown."""
    rows = await connection.fetch(PERSONS, changes)
    if len(rows) < changes:
        raise NoticeFailed(f"the register shows {len(rows)} persons, not {changes}")
    job = int(await connection.fetchval(NEXT_JOB))
    post = int(await connection.fetchval(NEXT_POST))
    today = dt.date.today()
    changed_at = dt.datetime.combine(today, dt.time(6, 0))
    path = folder / f"fanout-notice-{job:06d}.xml"
    delivery = Delivery(
        ORDER_ID, "ANDRINGSAVISERING", "NAVET", path.name, today, changes, changes, 1, 1, job,
        job % 100_000, CHANGES,
    )  # fmt: skip
    records = (
        (CASE, replace(CHANGE, post_id=post + n, changed_at=changed_at,
                       personnummer=row["personnummer"], names=_renamed(row)))
        for n, row in enumerate(rows)
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    write_file(path, delivery, records)
    return path


async def apply_notice(connection: asyncpg.Connection, path: Path, changes: int) -> float:
    """Apply the notice; the time (``time.monotonic``) its transaction's commit returned."""
    with open_delivery(path) as source:
        outcome = await apply_file(connection, source, path.name, Options(wait=True))
    committed = time.monotonic()
    path.unlink()
    if outcome.status != APPLIED or outcome.records != changes:
        raise NoticeFailed(f"the notice was {outcome.status} with {outcome.records} records")
    return committed
