"""Who is asking: the authority tier and the caller's identity."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class Tier(IntEnum):
    """Authority tiers; a higher tier sees everything a lower one sees."""

    BASIC = 1
    EXTENDED = 2
    RELATIONS = 3


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated caller, as the token describes them."""

    subject: str
    tier: Tier
    organisation: str | None = None
    client: str | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
