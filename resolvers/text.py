"""Text from outside — tokens, headers, arguments — that may be stored or searched."""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> bool:
    """No control characters: PostgreSQL refuses NUL in text, and none belongs in a
    name, an identifier or a case reference."""
    return _CONTROL.search(text) is None
