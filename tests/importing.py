"""Delivery files for the importer's tests, built from records rather than read from XML,
and the ``register`` fixture (a plugin of tests/conftest.py).

``RecordsFile`` is what the Navet reader hands the importer (a ``Source``): the delivery,
its records in file order, and a sha256 known once the records are read to the end; it
can refuse as the reader does, at a given record or only at the end. ``apply_navet``
applies a Navet XML file (``tests.navet_files``) through the real reader. Both then hold
the register to ``assert_registered_addresses_kept``: whatever a test imports, every
person row's registered-address columns say what their stored address says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from resolvers.imports.apply import apply_file
from resolvers.imports.navet import open_delivery
from resolvers.imports.records import (
    CHANGES,
    FULL,
    CivilStatus,
    Delivery,
    Deregistration,
    Names,
    Record,
    Registration,
    Relation,
)
from resolvers.imports.source import Options, Outcome
from resolvers.register.rows import AddressRow

CHANGED_AT = dt.datetime(2026, 3, 2, 8, 30)
RESET = """
TRUNCATE person, address, relation, change_event, import_file, former_personnummer,
    key_code_area RESTART IDENTITY CASCADE;
UPDATE change_event_horizon SET xid = '0', position = 0;
"""


# Persons whose row's registered-address columns (migration 0017) differ from their
# stored folkbokföringsadress: the rule written out once more, apart from the importer's
# (resolvers/imports/registered.py), so that a slip in either shows.
REGISTERED_DIFFERS = """
SELECT p.personnummer,
       p.has_registered_address, p.registered_municipality, p.registered_postal_code,
       p.registered_town_folded, a.county_code, a.municipality_code, a.postal_code,
       a.postal_town
FROM person AS p
LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE (p.has_registered_address, p.registered_municipality, p.registered_postal_code,
       p.registered_town_folded)
      IS DISTINCT FROM
      (a.person_id IS NOT NULL, a.county_code || a.municipality_code, a.postal_code,
       lower(unaccent(a.postal_town)))
ORDER BY p.personnummer
"""


async def assert_registered_addresses_kept(database: asyncpg.Pool | asyncpg.Connection) -> None:
    """Every person's registered-address columns are what their address of kind F says."""
    differ = await database.fetch(REGISTERED_DIFFERS)
    assert not differ, [tuple(row) for row in differ[:5]]


@pytest.fixture
async def register(pool: asyncpg.Pool) -> asyncpg.Pool:
    """An empty register, with no events and no files imported."""
    await pool.execute(RESET)
    return pool


class NavetFormatError(ValueError):
    """As the reader refuses a malformed file: naming file, record, PostId, element."""


def names(first: str = "Anna Maria", last: str = "Svensson", middle: str | None = None) -> Names:
    return Names(first, "10", middle, last)


def registered(
    municipality: str = "80", county: str = "14", property_designation: str | None = "LÅNGA 3"
) -> Registration:
    return Registration(dt.date(2015, 3, 1), county, municipality, property_designation)


def home(street: str = "Storgatan 1", postal_code: str = "41263") -> AddressRow:
    return AddressRow(
        "F", line2=street, postal_code=postal_code, postal_town="GÖTEBORG",
        county_code="14", municipality_code="80",
    )  # fmt: skip


def record(personnummer: str, post_id: int, **parts: Any) -> Record:
    """A total record of a person living in Göteborg, with ``parts`` replaced."""
    values: dict[str, Any] = {
        "post_id": post_id,
        "changed_at": CHANGED_AT,
        "total": True,
        "personnummer": personnummer,
        "protection": None,
        "new_personnummer": None,
        "deregistration": None,
        "names": names(),
        "registration": registered(),
        "addresses": (home(),),
        "civil_status": CivilStatus("OG", None),
        "relations": (),
    }
    values.update(parts)
    return Record(**values)


def partial(personnummer: str, post_id: int, **parts: Any) -> Record:
    """A change record carrying only ``parts``."""
    empty = dict.fromkeys(
        ("deregistration", "names", "registration", "addresses", "civil_status", "relations")
    )
    return record(personnummer, post_id, total=False, **{**empty, **parts})


def relation(kind: str, personnummer: str, since: dt.date | None = dt.date(2010, 1, 1)) -> Relation:
    return Relation(kind, personnummer, since, None)


def deregistered(code: str = "AV", on: dt.date = dt.date(2026, 2, 27)) -> Deregistration:
    return Deregistration(code, on)


_job_ids = iter(range(1, 1_000_000))


def delivery(kind: str = CHANGES, records: int = 0, **fields: Any) -> Delivery:
    """A one-file delivery of ``records`` records, of a job of its own."""
    values: dict[str, Any] = {
        "order_id": "VF0000000000000014", "order_type": "A", "product": "NAVET",
        "file_name": "avisering.xml", "effective_date": dt.date(2026, 3, 2),
        "records_in_file": records, "records_in_delivery": records, "files_in_delivery": 1,
        "file_no": 1, "job_id": next(_job_ids), "sequence_no": None, "kind": kind,
    }  # fmt: skip
    values.update(fields)
    return Delivery(**values)


@dataclass
class RecordsFile:
    """A source of ``records``; ``fail_at`` refuses at that record (1-based), ``fail_at_end``
    after the last, as the reader does for a count that does not match."""

    items: Sequence[Record]
    delivery: Delivery | None = None
    fail_at: int | None = None
    fail_at_end: bool = False
    read: int = field(default=0, init=False)
    _digest: Any = field(default=None, init=False)
    _done: bool = field(default=False, init=False)

    def records(self) -> Iterator[Record]:
        self._digest = hashlib.sha256(repr(self.delivery).encode())
        for number, item in enumerate(self.items, start=1):
            if number == self.fail_at:
                raise NavetFormatError(
                    f"{self.name}: record {number} (PostId {item.post_id}): element "
                    "Personpost/Namn/Efternamn: longer than 60 characters"
                )
            self._digest.update(repr(item).encode())
            self.read = number
            yield item
        if self.fail_at_end:
            raise NavetFormatError(f"{self.name}: AntalPoster says {len(self.items) + 1}")
        self._done = True

    @property
    def name(self) -> str:
        return self.delivery.file_name if self.delivery else "avisering.xml"

    @property
    def sha256(self) -> str:
        if not self._done:
            raise RuntimeError("the sha256 is known once every record is read")
        return str(self._digest.hexdigest())


def changes(*items: Record, **fields: Any) -> RecordsFile:
    return RecordsFile(items, delivery(CHANGES, len(items), **fields))


def full_extract(*items: Record, **fields: Any) -> RecordsFile:
    return RecordsFile(items, delivery(FULL, len(items), **fields))


async def apply(database_url: str, source: RecordsFile, **options: Any) -> Outcome:
    """Apply ``source`` on a connection of its own, as the command line does."""
    connection = await asyncpg.connect(database_url)
    try:
        fresh = replace(source)  # a source is read once, as a file is opened once
        outcome = await apply_file(connection, fresh, fresh.name, Options(**options))
        await assert_registered_addresses_kept(connection)
        return outcome
    finally:
        await connection.close()


async def apply_navet(database_url: str, path: Path, **options: Any) -> Outcome:
    """Apply a Navet file (``tests.navet_files``) through the reader, as the command does."""
    connection = await asyncpg.connect(database_url)
    try:
        with open_delivery(path) as navet:
            outcome = await apply_file(connection, navet, path.name, Options(**options))
        await assert_registered_addresses_kept(connection)
        return outcome
    finally:
        await connection.close()
