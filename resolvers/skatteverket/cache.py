"""A small in-memory cache of upstream answers: bounded, each entry for a fixed time.

An official clicking the same person again, or a screen asking for them twice, should
not cost a second call (and a second fee) at Skatteverket. Entries live in this
process only and expire after ``ttl`` seconds, so a change at Skatteverket shows
within that time; the register itself is never written. When full, the least recently
used entry gives way. ``cachetools.TTLCache`` keeps the entries; this class only adds
that a zero size or time turns caching off.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from cachetools import TTLCache

V = TypeVar("V")


class TimedCache(Generic[V]):
    def __init__(
        self, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_size = max_size
        self.enabled = ttl > 0 and max_size > 0
        # TTLCache refuses a size of 0; a disabled cache keeps one unused slot.
        self._entries: TTLCache[str, V] = TTLCache(max(max_size, 1), max(ttl, 0), timer=clock)

    def get(self, key: str) -> V | None:
        return self._entries.get(key)

    def put(self, key: str, value: V) -> None:
        if self.enabled:
            self._entries[key] = value

    def __len__(self) -> int:
        self._entries.expire()
        return len(self._entries)
