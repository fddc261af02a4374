"""Cursors: opaque to callers, and read back as strictly as any other input.

A cursor is the URL-safe base64 of ``kind:position``, one kind per list: ``r`` a page
of an interval (the last personnummer listed), ``s`` of a name search (how many ranked
matches came before), ``a`` of the access log (``request.entry``), ``c`` of the change
feed (``xid.position``: where in commit-safe order a reader stands). A cursor is
accepted only in the very form this module writes: canonical base64 of ASCII text,
the kind of the list it is passed to, and a position in ASCII digits within the range
the list can have. Anything else — edited, truncated, from another list — is refused
with ``BAD_USER_INPUT`` before it reaches a query.
"""

from __future__ import annotations

import base64
import binascii

from resolvers.domain.personnummer import NumberError, is_canonical, parse_natural
from schema.errors import BadUserInput

RANGE, SEARCH, LOG, CHANGES = "r", "s", "a", "c"
# Ids of the access log are bigint: a position must stay below the largest.
MAX_LOG_ID = 2**63 - 2
NOT_A_CURSOR = (
    "`after` is not a cursor from this list: pass the `endCursor` (or an edge's "
    "`cursor`) that this field returned"
)


class _Refused(Exception):
    pass


def encode_cursor(kind: str, position: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode("ascii")).decode("ascii")


def _position(cursor: str, kind: str) -> str:
    try:
        raw = base64.b64decode(cursor.encode("ascii"), altchars=b"-_", validate=True)
        text = raw.decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise _Refused from None
    prefix, _, position = text.partition(":")
    # Canonical only: base64 with other padding bits or without '=' is another text.
    if prefix != kind or not position or encode_cursor(kind, position) != cursor:
        raise _Refused
    return position


def range_position(cursor: str | None) -> str:
    """The last personnummer of the previous page of an interval; "" for the first page."""
    if cursor is None:
        return ""
    try:
        position = _position(cursor, RANGE)
    except _Refused:
        position = ""
    if not is_canonical(position):
        raise BadUserInput(NOT_A_CURSOR, argument="after")
    return position


def search_offset(cursor: str | None, max_matches: int) -> int:
    """How many ranked matches the previous pages of a name search held."""
    if cursor is None:
        return 0
    try:
        return parse_natural(_position(cursor, SEARCH), max_matches)
    except (_Refused, NumberError):
        raise BadUserInput(NOT_A_CURSOR, argument="after") from None


def log_position(cursor: str | None, newest: tuple[int, int]) -> tuple[int, int]:
    """The (request, entry) of the last log entry of the previous page; ``newest``, above
    every entry, for the first page."""
    if cursor is None:
        return newest
    try:
        request, dot, entry = _position(cursor, LOG).partition(".")
        if not dot:
            raise _Refused
        position = (parse_natural(request, MAX_LOG_ID), parse_natural(entry, MAX_LOG_ID))
    except (_Refused, NumberError):
        raise BadUserInput(NOT_A_CURSOR, argument="after") from None
    if min(position) < 1:  # ids and entries count from 1
        raise BadUserInput(NOT_A_CURSOR, argument="after")
    return position


def change_position(cursor: str) -> tuple[int, int]:
    """The (xid, position) a change-feed cursor stands at; position 0 is before every
    event of its transaction."""
    try:
        xid, dot, position = _position(cursor, CHANGES).partition(".")
        if not dot:
            raise _Refused
        return parse_natural(xid, MAX_LOG_ID), parse_natural(position, MAX_LOG_ID)
    except (_Refused, NumberError):
        raise BadUserInput(NOT_A_CURSOR, argument="after") from None


def change_cursor(position: tuple[int, int]) -> str:
    return encode_cursor(CHANGES, f"{position[0]}.{position[1]}")
