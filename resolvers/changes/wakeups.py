"""Waking the followers of the feed when events may have committed.

A wake-up is a hint, never the events: a follower that wakes reads the table from its
own position (``resolvers.changes.feed``), so a lost or doubled wake-up costs at most a
tick of delay or one empty read. The API's listener (``api.change_listener``) wakes them
on PostgreSQL's notification at each import's commit; ``tick`` wakes them anyway, for
events held back by a long transaction (they become readable when it ends, and that may
send no notification) and while the listener is reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib


class Wakeups:
    """One per worker; every follower of the feed waits on it."""

    def __init__(self, tick: float = 1.0) -> None:
        self.tick = tick
        self._next = asyncio.Event()

    def ticket(self) -> asyncio.Event:
        """Take before reading: a wake-up that comes while the read runs is not lost."""
        return self._next

    def wake(self) -> None:
        """Events may have committed: every follower waiting reads again."""
        woken, self._next = self._next, asyncio.Event()
        woken.set()

    async def wait(self, ticket: asyncio.Event) -> None:
        """Until a wake-up since ``ticket`` was taken, or the tick."""
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
        # cancellation that arrives as the wait ends, and a cancelled follower (its
        # subscription completed) would read on.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.tick):
                await ticket.wait()
