"""Hearing that events committed: one LISTEN connection per worker, waking its followers.

An import notifies ``resolvers.changes.notify.CHANNEL`` as it commits; PostgreSQL delivers
the notification to every listening session at the commit. Each worker holds one
dedicated connection to the primary (``DATABASE_URL``: a replica delivers no
notifications, and PgBouncer's transaction pooling passes none) and wakes its
subscriptions (``Wakeups.wake``) on each. A notification is a hint only: the
subscriptions read the events from the table, so one lost while the connection was down
costs a tick of delay at most (``Wakeups.tick`` keeps them reading meanwhile). When the
connection drops it is opened again, after a delay that doubles up to ``MAX_BACKOFF``,
and every follower is woken once it listens again: events may have committed unheard.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg

from api.logs import describe
from resolvers.changes.notify import CHANNEL
from resolvers.changes.wakeups import Wakeups
from resolvers.db import database_unavailable

logger = logging.getLogger("vastfolket.api")

APPLICATION_NAME = "vastfolket-api-listener"  # how it shows in pg_stat_activity
FIRST_BACKOFF = 0.5  # seconds before the first reconnection
MAX_BACKOFF = 30.0
# A connection that went silent (a network partition sends no reset) is found out by a
# statement of its own this often, answered within CHECK_TIMEOUT.
CHECK_EVERY = 30.0
CHECK_TIMEOUT = 5.0


class ChangeListener:
    """LISTENs on the change channel for one worker, while ``run`` runs."""

    def __init__(self, url: str, wakeups: Wakeups) -> None:
        self.url = url
        self.wakeups = wakeups
        self.listening = asyncio.Event()  # set while a connection listens

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff."""
        delay = FIRST_BACKOFF
        while True:
            try:
                await self._listen()
                logger.warning("the change listener lost its connection; connecting again")
                delay = FIRST_BACKOFF  # it had listened: this drop starts afresh
            except Exception as error:
                if not database_unavailable(error):  # a bug: its traceback, then on
                    logger.exception("the change listener failed; connecting again")
                else:
                    logger.warning("the change listener cannot reach the database (%s); "
                                   "connecting again in %g s", describe(error), delay)  # fmt: skip
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    async def _listen(self) -> None:
        connection = await asyncpg.connect(
            self.url, server_settings={"application_name": APPLICATION_NAME}
        )
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            await connection.add_listener(CHANNEL, self._notified)
            self.listening.set()
            self.wakeups.wake()  # what committed while no one listened
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):  # not wait_for: it can eat a cancel
                    async with asyncio.timeout(CHECK_EVERY):
                        await lost.wait()
                if not lost.is_set():
                    await connection.execute("SELECT 1", timeout=CHECK_TIMEOUT)
        finally:
            self.listening.clear()
            connection.terminate()

    def _notified(self, *_notification: object) -> None:
        self.wakeups.wake()


@contextlib.asynccontextmanager
async def listening(url: str, wakeups: Wakeups) -> AsyncIterator[ChangeListener]:
    """A listener running for the duration of the block (the app's lifespan)."""
    listener = ChangeListener(url, wakeups)
    task = asyncio.create_task(listener.run())
    try:
        yield listener
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
