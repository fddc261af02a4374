"""Reading a Navet delivery file (``Navetavisering`` XML, plain or gzip) as a stream.

    with open_delivery(path) as navet:
        navet.delivery              # Delivery, or None when the file has no Aviseringsinformation
        for record in navet.records():
            ...
        navet.sha256, navet.records_read

Memory stays flat however large the file: lxml's ``iterparse`` hands over each
``Folkbokforingspost`` when it ends, and once read it is cleared and dropped with
everything before it. The parser loads no DTD, expands no entity and opens no network
connection; a file with a DOCTYPE is refused. Every problem with the file is a
``NavetFormatError`` naming the file, the record, its PostId and the element.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from lxml import etree

from resolvers.imports.delivery import read_delivery
from resolvers.imports.elements import ElementError
from resolvers.imports.record import read_record
from resolvers.imports.records import Delivery, Record

ROOT, INFORMATION, RECORD, RECORDS = (
    "Navetavisering", "Aviseringsinformation", "Folkbokforingspost", "Folkbokforingsposter",
)  # fmt: skip
_GZIP_MAGIC = b"\x1f\x8b"
_POSITION = re.compile(r", line \d+, column \d+$")
_UNREADABLE = (OSError, EOFError, zlib.error)  # a damaged gzip stream, a failing disk


class NavetFormatError(ValueError):
    """The file is not a Navet delivery the register can take; ``str()`` says where and why:
    ``notice.xml: record 17 (PostId 1234): Personpost/Namn/Efternamn: longer than 60 characters``.
    """

    def __init__(
        self, file: str, reason: str, *, line: int | None = None, record: int | None = None,
        post_id: int | None = None, path: str | None = None,
    ) -> None:  # fmt: skip
        self.file, self.reason, self.line = file, reason, line
        self.record, self.post_id, self.path = record, post_id, path
        where = [file] + ([f"line {line}"] if line else [])
        if record is not None:
            where.append(f"record {record}" + (f" (PostId {post_id})" if post_id else ""))
        super().__init__(": ".join([*where, *([path] if path else []), reason]))


class _Hashing:
    """The file's raw bytes, as stored, counted into a SHA-256 as the parser reads them."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        return data


def _decompressed(hashing: _Hashing) -> _Hashing | gzip.GzipFile:
    """The file's XML: gzip is known by its first two bytes, whatever the file's name."""
    compressed = hashing.raw.read(2) == _GZIP_MAGIC
    hashing.raw.seek(0)
    if not compressed:
        return hashing
    # The protocol asks for seek(), which GzipFile uses only when it is itself asked to seek.
    return gzip.GzipFile(fileobj=hashing, mode="rb")  # type: ignore[call-overload]


class NavetFile:
    """An open delivery file; ``records()`` reads it once, from the first record to the end."""

    def __init__(self, path: str | Path) -> None:
        self.name = Path(path).name
        self.records_read = 0
        self.delivery: Delivery | None = None
        self._raw = open(path, "rb")  # noqa: SIM115 - closed by close(), the context's exit
        try:
            self._hashing = _Hashing(self._raw)
            self._events = etree.iterparse(
                _decompressed(self._hashing), events=("end",), tag=(INFORMATION, RECORD),
                load_dtd=False, resolve_entities=False, no_network=True,
                remove_comments=True, remove_pis=True,
            )  # fmt: skip
            self._first = self._header()
        except BaseException:
            self._raw.close()
            raise
        self._sha256: str | None = None
        self._started = False

    def _header(self) -> etree._Element | None:
        """Reads up to the first record, taking Aviseringsinformation on the way; returns
        that record (None in a file without records)."""
        element = self._next()
        if element is not None and element.tag == INFORMATION:
            parent = element.getparent()
            if parent is None or parent.getparent() is not None:
                raise self._error(f"{INFORMATION} is not the root's child")
            try:
                self.delivery = read_delivery(element)
            except ElementError as error:
                raise self._error(error.reason, path=error.path(element.getparent())) from None
            element.clear()
            element = self._next()
        return element

    def _next(self) -> etree._Element | None:
        try:
            _, element = next(self._events)
        except StopIteration:
            self._check_document(self._events.root)
            return None
        except etree.XMLSyntaxError as error:
            reason = _POSITION.sub("", error.msg)  # the line is named in front
            raise self._error(f"not well-formed XML: {reason}", line=error.lineno) from None
        except _UNREADABLE as error:
            raise self._error(f"cannot be read: {error}") from None
        if self.records_read == 0:
            self._check_document(element.getroottree().getroot())
        return element

    def _check_document(self, root: etree._Element | None) -> None:
        if root is None or root.tag != ROOT:
            found = "none" if root is None else repr(str(root.tag)[:40])
            line = None if root is None else root.sourceline
            reason = f"not a Navet file: the root element is {found}, not {ROOT}"
            raise self._error(reason, line=line)
        if root.getroottree().docinfo.doctype:
            raise self._error("a document type declaration (DOCTYPE) is not allowed")

    def records(self) -> Iterator[Record]:
        """Every record, in file order; at the end the file's count is checked against
        ``Utfil/AntalPoster`` and ``sha256`` becomes known."""
        if self._started:
            raise RuntimeError("records() reads the file once")
        self._started = True
        element = self._first
        self._first = None
        while element is not None:
            yield self._record(element)
            parent = element.getparent()
            element.clear()
            while element.getprevious() is not None:  # what came before it: done
                del parent[0]
            element = self._next()
        self._finish()

    def _record(self, element: etree._Element) -> Record:
        self.records_read += 1
        if element.tag != RECORD:
            where = f"{element.tag} among the records"  # a second Aviseringsinformation
            raise self._error(where, record=self.records_read)
        parent = element.getparent()
        if parent is None or parent.tag != RECORDS:
            raise self._error(f"{RECORD} outside {RECORDS}", record=self.records_read)
        try:
            return read_record(element)
        except ElementError as error:
            raise self._error(
                error.reason, record=self.records_read, post_id=error.post_id,
                path=error.path(element),
            ) from None  # fmt: skip

    def _finish(self) -> None:
        expected = self.delivery.records_in_file if self.delivery else None
        if expected is not None and expected != self.records_read:
            raise self._error(
                f"Utfil/AntalPoster says {expected} records, the file holds {self.records_read}"
            )
        while self._hashing.read(1 << 20):  # anything the parser left unread counts too
            pass
        self._sha256 = self._hashing.digest.hexdigest()

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the file's bytes as stored (compressed, if it is)."""
        if self._sha256 is None:
            raise RuntimeError("the file's SHA-256 is known once records() has read it all")
        return self._sha256

    def _error(self, reason: str, **where: object) -> NavetFormatError:
        return NavetFormatError(self.name, reason, **where)  # type: ignore[arg-type]

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> NavetFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def open_delivery(path: str | Path) -> NavetFile:
    """Open a delivery file and read its Aviseringsinformation (see the module's doc).

    Raises:
        NavetFormatError: the file is not a Navet delivery, or its header is malformed.
        OSError: the file cannot be opened.
    """
    return NavetFile(path)
