"""Text from outside — tokens, headers, arguments — that may be stored or searched.

One rule decides what is clean text, for every place that keeps or searches a caller's
text: letters, marks, digits, punctuation, symbols and spaces of any script, nothing
else. Refused are control characters (C0 and C1: PostgreSQL refuses NUL, and a line
break or escape forges lines in logs), format characters (bidi overrides and isolates,
zero-width characters, soft hyphens: they make text read other than it is), line and
paragraph separators, surrogates, private-use and unassigned code points.
"""

from __future__ import annotations

import re
import unicodedata

# Unicode general categories that are not printable text (see the module's docstring).
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def character(char: str) -> str:
    """A character as a message names it: ``U+FF11 FULLWIDTH DIGIT ONE``.

    Never the character itself: a bidi override or a line break quoted in a message
    would do there what it was refused for.
    """
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X} {name}".rstrip()


def unprintable(text: str) -> str | None:
    """The first character that is not clean text and where it is, for a message
    (``U+202E RIGHT-TO-LEFT OVERRIDE at position 4``); None if the text is clean."""
    if text.isascii():  # the usual case, without a look-up per character
        found = _ASCII_CONTROL.search(text)
        return None if found is None else f"{character(found[0])} at position {found.start() + 1}"
    for index, char in enumerate(text):
        if unicodedata.category(char) in REFUSED_CATEGORIES:
            return f"{character(char)} at position {index + 1}"
    return None


# Letters and symbols that show as nothing: Hangul fillers, the blank Braille pattern.
_BLANK_LOOKING = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def blank(text: str) -> bool:
    """True if the text shows nothing: only spaces of any kind, combining marks with
    nothing to sit on, and characters drawn as blank. Kept text that names someone or
    something (an identifier, a case reference) must not be blank."""
    return all(
        char.isspace() or char in _BLANK_LOOKING or unicodedata.category(char).startswith("M")
        for char in text
    )


def printable(text: str) -> bool:
    """True if the text is clean (see ``unprintable``)."""
    return unprintable(text) is None
