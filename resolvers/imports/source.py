"""What the importer reads and answers: a source of records, its options, its outcome.

A source is what ``resolvers.imports.navet.open_delivery`` opens (``NavetFile``): the
delivery it belongs to, its records in file order, and the file's sha256, known once the
records are read to the end. A source refuses a malformed file by raising from its
records (a ``ValueError``, the reader's ``NavetFormatError``, naming file, record,
PostId, element and reason), possibly only at the end (a count that does not match).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from resolvers.changes.retention import DEFAULT_RETENTION
from resolvers.imports.records import Delivery, Record


class Source(Protocol):
    @property
    def delivery(self) -> Delivery | None: ...

    def records(self) -> Iterator[Record]: ...

    @property
    def sha256(self) -> str: ...


class Progress(Protocol):
    """Told how far an import has come: records read, then that they are being applied."""

    def read(self, records: int) -> None: ...

    def applying(self) -> None: ...


class NoProgress:
    def read(self, records: int) -> None:
        pass

    def applying(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Options:
    """How to apply a file.

    ``full``: treat it as a full extract whatever it says. ``dry_run``: do the work and
    roll it back. ``wait``: wait for another import to finish rather than refuse.
    ``sha256_hint``: the file's sha256 if the caller knows it before reading (a file
    already applied is then recognised without reading it again). ``retention``: change
    events older than this are pruned as an applied file commits.
    """

    region: str = "14"
    full: bool = False
    dry_run: bool = False
    wait: bool = False
    sha256_hint: str | None = None
    progress: Progress = field(default_factory=NoProgress)
    retention: dt.timedelta = DEFAULT_RETENTION


APPLIED, ALREADY_APPLIED, DRY_RUN = "applied", "already applied", "dry run"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one file: ``status`` APPLIED, ALREADY_APPLIED or DRY_RUN."""

    name: str
    status: str
    kind: str | None = None
    records: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    file_id: int | None = None  # the ledger row (applied, or the earlier one)
    seconds: float = 0.0
    pruned: int = 0  # change events past the retention, pruned as the file applied


class ImportRefused(Exception):
    """The file was refused; nothing of it was applied. The message names the file and,
    where one is to blame, the record (PostId) and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        # The reader's refusals name the file already.
        super().__init__(reason if reason.startswith(name) else f"{name}: {reason}")
        self.name, self.reason = name, reason


class ImportBusy(Exception):
    """Another import holds the lock."""

    def __init__(self) -> None:
        super().__init__("another import is running; try again later, or use --wait")
