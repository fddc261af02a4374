"""The demo register delivered as Skatteverket would deliver it, and imported.

``write_files`` writes the demo's Navet files (``navet.deliveries``: a full extract and
four daily notices) to a directory an operator can look into; ``fill`` puts the
municipality's key codes per property into ``key_code_area`` (Skatteverket delivers
none) and applies each file with the importer's ``apply_file`` and the Navet reader, as
``vastfolket import`` applies it: the register, its change events and the import ledger
are a real import's.
A register too small for every change the notices carry (under about 150 persons) comes
as the extract alone.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from resolvers.dev.demo.navet import DemoDeliveries, deliveries, extract_only
from resolvers.dev.demo.register import COUNTY
from resolvers.dev.demo.scenario import NoOneFor
from resolvers.imports.apply import apply_file
from resolvers.imports.navet import open_delivery
from resolvers.imports.source import APPLIED, Options

DIRECTORY = "navet"  # below the data directory
DEMO_FILES = ("navet-*-grunduttag-*.xml", "navet-*-andring-*.xml")  # navet.write's names
PERSON_COUNT = "SELECT count(*) FROM person"
# The register and everything an import wrote beside it: the demo's files apply afresh.
EMPTY_REGISTER = """
TRUNCATE person, address, relation, change_event, import_file, former_personnummer,
    key_code_area RESTART IDENTITY CASCADE
"""
KEY_CODES = """
INSERT INTO key_code_area (county_code, municipality_code, property_designation, key_code)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
ON CONFLICT (county_code, municipality_code, property_designation)
DO UPDATE SET key_code = excluded.key_code
"""
Progress = Callable[[int, int], None]  # records read so far, of how many


class RegisterNotEmptyError(RuntimeError):
    """The register already holds persons and ``replace`` was not asked for."""

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the register already holds {count} persons; load the demo register with "
            "replace=True to delete them first"
        )


@dataclass(frozen=True, slots=True)
class DemoFiles:
    """The demo's deliveries and the files they were written to, in import order."""

    deliveries: DemoDeliveries
    paths: list[Path]

    @property
    def records(self) -> int:
        demo = self.deliveries
        return demo.extract_count + sum(map(len, demo.plan.notices))


@dataclass(frozen=True, slots=True)
class Filled:
    """How many persons the register holds, and the files they were imported from."""

    persons: int
    files: list[Path]


def files_directory(data_dir: Path) -> Path:
    """``<data_dir>/navet``; a new temporary directory where that cannot be written (an
    image whose working directory is not its user's)."""
    directory = data_dir / DIRECTORY
    with contextlib.suppress(OSError):  # not ours to write: the check below says so
        directory.mkdir(parents=True, exist_ok=True)
    if directory.is_dir() and os.access(directory, os.W_OK | os.X_OK):
        return directory
    return Path(tempfile.mkdtemp(prefix="vastfolket-navet-"))


def planned(persons: int, seed: int, today: dt.date) -> DemoDeliveries:
    """The extract and notices of ``generate(persons, seed, today)``, or the extract alone."""
    try:
        return deliveries(persons, seed, today)
    except NoOneFor:
        return extract_only(persons, seed, today)


class _Read:
    """Records read of every file, told to the caller's progress as they are read."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total, self.progress, self.before = total, progress, 0

    def read(self, records: int) -> None:
        if self.progress is not None:
            self.progress(self.before + records, self.total)

    def applying(self) -> None:
        pass


def write_files(persons: int, seed: int, today: dt.date, directory: Path) -> DemoFiles:
    """Write the demo's Navet files into ``directory`` (an earlier demo's go first): no
    database needed, so it can run while one is being made."""
    demo = planned(persons, seed, today)
    for pattern in DEMO_FILES:
        for old in directory.glob(pattern):
            old.unlink()
    return DemoFiles(demo, demo.write(directory))


async def fill(
    connection: asyncpg.Connection,
    files: DemoFiles,
    *,
    replace: bool = False,
    progress: Progress | None = None,
) -> Filled:
    """Import the demo's files into the register, its key codes first.

    Args:
        replace: empty the register first, with its change events, the import ledger,
            former numbers and key codes.
        progress: called with the records read so far and the records of all files.

    Raises:
        RegisterNotEmptyError: the register holds persons and ``replace`` is false.
    """
    if replace:
        await connection.execute(EMPTY_REGISTER)
    elif count := await connection.fetchval(PERSON_COUNT):
        raise RegisterNotEmptyError(count)
    await store_key_codes(connection, files.deliveries)
    read = _Read(files.records, progress)
    for path in files.paths:
        with open_delivery(path) as navet:
            options = Options(region=COUNTY, progress=read)
            outcome = await apply_file(connection, navet, path.name, options)
        if outcome.status != APPLIED:
            raise RuntimeError(
                f"{path.name} was {outcome.status} (the import ledger holds it): "
                "replace the register to load the demo again"
            )
        read.before += outcome.records
    return Filled(int(await connection.fetchval(PERSON_COUNT)), files.paths)


async def store_key_codes(connection: asyncpg.Connection, demo: DemoDeliveries) -> None:
    """The key code of every property in ``demo``'s files, as the municipality keeps them:
    the importer looks them up, so they go in before the files."""
    rows = demo.key_code_rows()
    await connection.execute(KEY_CODES, *([row[index] for row in rows] for index in range(4)))
