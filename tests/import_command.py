"""``python -m tests.import_command import FILE…``: the real command line, with a stand-in
for the Navet XML reader that reads files written by ``write_file`` (pickled records),
so that the command is tested apart from parsing.

The stand-in behaves as the reader does: ``open_delivery(path)`` is a context manager
giving ``.delivery``, ``.records()`` and ``.sha256`` (of the file's bytes, known once the
records are read), and refuses a malformed file by raising from ``records()``.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.importing import NavetFormatError, RecordsFile


@dataclass
class StandInFile(RecordsFile):
    path: Path | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.path else super().name

    @property
    def sha256(self) -> str:
        super().sha256  # noqa: B018 (known only once read to the end)
        assert self.path is not None
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def write_file(path: Path, source: RecordsFile) -> Path:
    path.write_bytes(pickle.dumps(source))
    return path


@contextmanager
def open_delivery(path: Path) -> Iterator[StandInFile]:
    try:
        source: RecordsFile = pickle.loads(Path(path).read_bytes())
    except pickle.UnpicklingError:
        raise NavetFormatError(f"{Path(path).name}: not a Navetavisering file") from None
    yield StandInFile(source.items, source.delivery, source.fail_at, source.fail_at_end,
                      path=Path(path))  # fmt: skip


if __name__ == "__main__":
    reader = types.ModuleType("resolvers.imports.navet")
    reader.open_delivery = open_delivery  # type: ignore[attr-defined]
    sys.modules["resolvers.imports.navet"] = reader
    from api.cli import app

    sys.argv[0] = "vastfolket"
    app()
