"""The demo register as Skatteverket would deliver it: Navet files to import.

``write_deliveries`` writes a full extract (grunduttag) of the register as it stood a few
working days before ``today``, then one change notice (ändringsavisering) a working day
that brings it to ``generate(persons, seed, today)``. Importing the files in order gives
the register ``generate`` describes, but for protected persons, whom an import keeps as
number and mark alone (``filling.fill`` imports them as ``vastfolket import`` does).
``key_code_rows`` are the municipality's key codes per property, which the import looks
up (Skatteverket delivers no key codes). docs/imports.md says what each notice carries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

from resolvers.dev.demo.build import draw
from resolvers.dev.demo.changes import NOTICES
from resolvers.dev.demo.navet_records import KEY_CODE_COLUMNS, KeyCodeRow, RegisterRecords
from resolvers.dev.demo.navet_xml import write_file
from resolvers.dev.demo.scenario import Plan, Scenario
from resolvers.imports.records import CHANGES, FULL, Delivery, Record

__all__ = [
    "KEY_CODE_COLUMNS",
    "DemoDeliveries",
    "deliveries",
    "extract_only",
    "key_code_rows",
    "write_deliveries",
]

EXTRACT, NOTICE = "GRUNDUTTAG", "ANDRINGSAVISERING"  # Bestallningstyp
PRODUCT = "NAVET"
RECORDS_PER_FILE = 500_000  # a larger extract is split into files, as Navet splits one
CHANGE_MINUTES = 3  # between the change times of a notice's records


@dataclass(frozen=True, slots=True)
class DemoDeliveries:
    """The extract and the notices of one demo register, ready to write."""

    records: RegisterRecords
    plan: Plan
    seed: int
    extract_day: dt.date  # the extract's Effektueringsdatum
    notice_days: list[dt.date]  # each notice's, one working day after the other

    def write(
        self, directory: Path, *, gzip: bool = False, records_per_file: int = RECORDS_PER_FILE
    ) -> list[Path]:
        """Write every file into ``directory``; return their paths in the order to import."""
        directory.mkdir(parents=True, exist_ok=True)
        suffix = ".xml.gz" if gzip else ".xml"
        paths = self._write_extract(directory, suffix, records_per_file)
        post_id = self.extract_count + 1
        notices = zip(self.notice_days, self.plan.notices, strict=True)
        for index, (day, posts) in enumerate(notices, 1):
            path = directory / f"navet-{day:%Y%m%d}-andring-001{suffix}"
            numbered = [
                (case, replace(record, post_id=post_id + n, changed_at=_change_time(day, n)))
                for n, (case, record) in enumerate(posts)
            ]  # fmt: skip
            post_id += len(posts)
            order = self._delivery(NOTICE, path, day, (len(posts), len(posts)), (1, 1), index)
            write_file(path, order, numbered)
            paths.append(path)
        return paths

    @property
    def extract_count(self) -> int:
        """How many records the extract holds: today's persons, less the ones it lacks."""
        missing = sum(record is None for record in self.plan.replaced.values())
        return len(self.records.people) - missing + len(self.plan.extra)

    def key_code_rows(self) -> list[KeyCodeRow]:
        """``key_code_area`` rows (``KEY_CODE_COLUMNS``) for every address in the files."""
        return sorted(self.records.key_code_rows() | self.plan.properties)

    def _write_extract(self, directory: Path, suffix: str, per_file: int) -> list[Path]:
        total, day = self.extract_count, self.extract_day
        at = dt.datetime.combine(day, dt.time())
        stream = self.records.stream(1, at, self.plan.replaced, self.plan.extra)
        files = max(1, -(-total // per_file))
        paths = []
        for file_no in range(1, files + 1):
            path = directory / f"navet-{day:%Y%m%d}-grunduttag-{file_no:03d}{suffix}"
            count = min(per_file, total - (file_no - 1) * per_file)
            order = self._delivery(EXTRACT, path, day, (count, total), (files, file_no), 0)
            write_file(path, order, _cases(islice(stream, count)))
            paths.append(path)
        return paths

    def _delivery(
        self, kind: str, path: Path, day: dt.date, counts: tuple[int, int],
        files: tuple[int, int], notice: int,
    ) -> Delivery:  # fmt: skip
        """File ``files[1]`` of ``files[0]`` of a delivery, holding ``counts[0]`` of its
        ``counts[1]`` records; ``notice`` is 1, 2, … for the notices (0: the extract).
        One order for the extract, another for the notices, numbered by LopNr."""
        order_id = f"{self.seed % 10**8:08d}-{kind[:4]}-0001"  # 18 characters
        return Delivery(
            order_id, kind, PRODUCT, path.name, day, *counts, *files, 1 + notice,
            max(1, notice), FULL if kind == EXTRACT else CHANGES,
        )  # fmt: skip


def deliveries(persons: int, seed: int, today: dt.date) -> DemoDeliveries:
    """The deliveries that end in ``generate(persons, seed, today)``.

    Raises:
        NoOneFor: the register is too small to hold every change (150 persons do).
    """
    days = working_days(today, len(NOTICES) + 1)
    changed = [day - dt.timedelta(days=1) for day in days[1:]]  # the day before delivery
    records = RegisterRecords(draw(persons, seed, today))
    scenario = Scenario(records, seed, changed)
    for index, changes in enumerate(NOTICES):
        for change in changes:
            change(scenario, index)
    return DemoDeliveries(records, scenario.plan, seed, days[0], days[1:])


def extract_only(persons: int, seed: int, today: dt.date) -> DemoDeliveries:
    """``generate(persons, seed, today)`` as one full extract of the last working day up to
    ``today``, without notices: for a register too small for every change."""
    records = RegisterRecords(draw(persons, seed, today))
    return DemoDeliveries(records, Plan(), seed, working_days(today, 1)[0], [])


def write_deliveries(
    persons: int, seed: int, today: dt.date, directory: Path, *, gzip: bool = False
) -> list[Path]:
    """Write the demo register's extract and notices; return the files in import order."""
    return deliveries(persons, seed, today).write(directory, gzip=gzip)


def key_code_rows(persons: int, seed: int, today: dt.date) -> list[KeyCodeRow]:
    """The key codes of the properties in ``write_deliveries``' files (same arguments)."""
    return deliveries(persons, seed, today).key_code_rows()


def working_days(today: dt.date, count: int) -> list[dt.date]:
    """The ``count`` weekdays up to ``today``, oldest first (public holidays not left out)."""
    days: list[dt.date] = []
    day = today
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return days[::-1]


def _change_time(delivered: dt.date, index: int) -> dt.datetime:
    """Changes were made the day before their notice, from eight in the morning."""
    start = dt.datetime.combine(delivered - dt.timedelta(days=1), dt.time(8))
    return start + dt.timedelta(minutes=CHANGE_MINUTES * index)


def _cases(records: Iterator[Record]) -> Iterator[tuple[str, Record]]:
    return ((EXTRACT, record) for record in records)
