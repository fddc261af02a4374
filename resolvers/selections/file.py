"""A selection's file as an export writes it: its format (``export_of``: the COPY's
statement and options) and the ``Sink`` the COPY streams into, which counts, hashes and
reports the rows written as they pass, so the extract is never held in memory.

A running export reports its rows at the first rows, then every ``PROGRESS_SECONDS``.
Nothing is ever raised into the COPY: asyncpg, given an exception by its output while
the server has already sent the COPY's end, waits for ever. What stops the export — a
report finding the attempt no longer holds the order (``Superseded``), a file that
cannot be written — is kept in ``stopped``, the rest of the rows dropped, and ``stop``
asked to cancel the COPY (the server then ends it with an error); the export raises it
once the COPY has returned.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

from resolvers.selections import fields
from resolvers.selections.criteria import SELECTED_WITH_ADDRESS

BOM = "\ufeff".encode()  # so that a spreadsheet reads the file as UTF-8 (å, ä, ö)
PROGRESS_SECONDS = 1.0  # how often a running export records the rows written


class Superseded(Exception):
    """The order was cancelled, or taken up by a later attempt, while this one ran."""


class FileUnwritable(Exception):
    """The files directory refused the file (full, missing, not writable)."""


class Sink:
    """The file being written: its bytes counted and hashed as they pass; rows counted
    by line (no field holds a line break) for the order's progress, which answers False
    once the attempt no longer holds the order."""

    def __init__(
        self, path: Path, first: bytes, header_lines: int,
        progress: Callable[[int], Awaitable[bool]], stop: Callable[[], Awaitable[None]],
    ) -> None:  # fmt: skip
        self.path = path
        self.progress = progress
        self.stop = stop
        self.stopped: Exception | None = None
        self.reported = time.monotonic() - PROGRESS_SECONDS  # the first rows are reported
        self.digest = hashlib.sha256()
        self.size = 0
        self.lines = -header_lines
        try:
            self.file = path.open("wb")
        except OSError as error:
            raise FileUnwritable from error
        self.write_bytes(first)

    def write_bytes(self, chunk: bytes) -> None:
        try:
            self.file.write(chunk)
        except OSError as error:
            raise FileUnwritable from error
        self.digest.update(chunk)
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")

    async def write(self, chunk: bytes) -> None:
        """The COPY's output: never raises (see the module's doc)."""
        if self.stopped is not None:
            return
        try:
            self.write_bytes(chunk)
            if time.monotonic() - self.reported >= PROGRESS_SECONDS:
                self.reported = time.monotonic()
                if not await self.progress(max(self.lines, 0)):
                    raise Superseded  # cancelled, or taken up by a later attempt
        except Exception as error:
            self.stopped = error
            # Not cancelled (its connection lost too): the COPY runs to its end, dropped.
            with contextlib.suppress(Exception):
                await self.stop()

    def close(self) -> None:
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
        except OSError as error:
            raise FileUnwritable from error


class Export(NamedTuple):
    """What a COPY of an order writes: its statement, its options, what the file opens with."""

    query: str
    options: dict[str, Any]
    first: bytes
    header_lines: int
    suffix: str


# The selected persons, each with their registered address, as the file lists them.
IN_ORDER = f"{SELECTED_WITH_ADDRESS}\nORDER BY p.personnummer"


def export_of(names: tuple[str, ...], file_format: str) -> Export:
    if file_format == "CSV":
        query = f"SELECT {fields.csv_select(names)} {IN_ORDER}"
        options = {"format": "csv", "header": True, "delimiter": ";"}
        return Export(query, options, BOM, 1, "csv")
    # One JSON text per line; as CSV with a quote and delimiter JSON never holds raw
    # (it escapes control characters), COPY writes each text as it is.
    query = f"SELECT {fields.json_select(names)} {IN_ORDER}"
    options = {"format": "csv", "quote": "\x01", "delimiter": "\x02"}
    return Export(query, options, b"", 0, "ndjson")
