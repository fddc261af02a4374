"""Group commit of the access log: the records of requests finishing together are
written by one statement (``resolvers.audit.access_log.write``), each request waiting for
its own rows."""

from __future__ import annotations

import asyncio

import asyncpg

from resolvers.audit import access_log
from resolvers.audit.access_log import AccessRecord, Origin


def _expire(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_exception(TimeoutError("the access log was not written in time"))


class AccessLogWriter:
    """Writes what concurrent requests showed together: group commit.

    Each request still waits until its own rows are committed before its answer may
    leave, and learns if they were not. But while one statement is being written,
    the requests finishing meanwhile queue up and go together in the next, so that a
    busy worker spends one round trip and one commit (a disk flush) on many requests.
    A request alone is written at once.
    """

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self.pool = pool
        self.timeout = timeout
        self._queue: list[tuple[Origin, AccessRecord, asyncio.Future[None]]] = []
        self._writing = False
        self._task: asyncio.Future[None] | None = None

    async def write(self, origin: Origin, record: AccessRecord) -> None:
        """Return once the record is committed; raise if it could not be, in time."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.append((origin, record, done))
        if not self._writing:
            self._writing = True
            # Kept: the event loop holds tasks only weakly.
            self._task = asyncio.ensure_future(self._write_queued())
        # Queued behind one slow statement at most: then the request gives up.
        expiry = loop.call_later(self.timeout * 2, _expire, done)
        try:
            await done
        finally:
            expiry.cancel()

    async def _write_queued(self) -> None:
        try:
            while self._queue:
                # A request that stopped waiting (timed out) was refused: not shown.
                batch = [queued for queued in self._queue if not queued[2].done()]
                self._queue = []
                if len(batch) > 1 and not await self._settle(batch):
                    # One request's rows may be what failed: the others must not pay
                    # for it, so each is tried alone.
                    for queued in batch:
                        if not queued[2].done():
                            await self._settle([queued])
                elif len(batch) == 1:
                    await self._settle(batch)
        finally:
            self._writing = False

    async def _settle(self, batch: list[tuple[Origin, AccessRecord, asyncio.Future[None]]]) -> bool:
        """Write a batch and tell its requests; False if it failed and had several."""
        try:
            entries = [(origin, record) for origin, record, _ in batch]
            # Through the module: the benchmark's unlogged server replaces it there.
            await access_log.write(self.pool, entries, timeout=self.timeout)
        except Exception as error:
            if len(batch) > 1:
                return False
            if not batch[0][2].done():
                batch[0][2].set_exception(error)
            return True
        for *_, done in batch:
            if not done.done():
                done.set_result(None)
        return True
