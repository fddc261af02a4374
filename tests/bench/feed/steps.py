"""Where a subscriber's message goes: the steps of one batch timed apart, in this process.

A subscription is started on the engine as the pipeline starts it (its real source, on
the benchmark's database), and its first batch after a position is taken apart, each
step timed over the whole batch and divided by its events (medians of the repetitions):

- ``read``: the source's batch (``read_page``; with ``person``, the batch's persons
  loaded in one statement), wall time, PostgreSQL's included;
- ``execute, graphql-core per event``: the selection on each event as graphql-core runs
  a subscription's event (an executor per event), the engine's own path before;
- ``execute, compiled``: the same on the fast path (``schema.engine.events``);
- ``access log``: the batch's record written (one statement), wall time;
- ``JSON``: each ``next`` message encoded (orjson, as the API's socket does);
- ``frame``, ``frame + deflate``: each message framed as ``websockets`` frames it, plain
  and with permessage-deflate as uvicorn negotiates it.

What the server spends beyond these per message (the measured CPU less their sum) is
the asyncio tasks, the protocol handler, the ASGI send and the socket's writes.
"""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from collections.abc import Awaitable
from typing import Any

import asyncpg
import orjson
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Frame, Opcode

from api.settings import Settings
from resolvers.audit import access_log
from resolvers.changes.wakeups import Wakeups
from resolvers.db import Database
from resolvers.domain.access import Tier, Viewer
from schema.build import build_schema
from schema.context import build_context
from schema.engine import Engine
from schema.engine.engine import Stream

VIEWER = Viewer("fanout-steps", Tier.BASIC, client="fanout-steps", roles=frozenset({"feed"}))
REPEATS = 5


def _deflate() -> PerMessageDeflate:
    """The extension as uvicorn's server and the ``websockets`` client agree on it."""
    return PerMessageDeflate(False, False, 12, 12, {"memLevel": 5})


async def _timed(spent: list[float], step: Awaitable[Any]) -> Any:
    began = time.perf_counter()
    result = await step
    spent.append(time.perf_counter() - began)
    return result


async def steps(pool: asyncpg.Pool, query: str, after: str) -> dict[str, Any]:
    """Microseconds per event of each step, for the batch after ``after``, and the bytes
    of a message framed, plain and deflated."""
    engine = Engine(build_schema(), Settings().limits())
    prepared, database = engine.prepare(query), Database(pool)
    spent: dict[str, list[float]] = defaultdict(list)
    events = 0
    for _ in range(REPEATS):
        context = build_context(database, VIEWER, wakeups=Wakeups())
        stream = await engine.subscribe(prepared, context, {"after": after})
        assert isinstance(stream, Stream), stream
        batch = await _timed(spent["read"], anext(stream.batches))
        general = Stream(stream._executor, stream.batches)  # no compiled event reader
        await _timed(spent["execute, graphql-core per event"], general.results(batch))
        context.next_batch()
        results = await _timed(spent["execute, compiled"], stream.results(batch))
        origin = access_log.Origin(VIEWER, "Fanout", "changes", "fanout-steps", None)
        entries = [(origin, context.next_batch())]
        await _timed(spent["access log"], access_log.write(pool, entries, timeout=10))
        messages = await _timed(spent["JSON"], _encoded(results))
        plain = await _timed(spent["frame"], _framed(messages, []))
        deflated = await _timed(spent["frame + deflate"], _framed(messages, [_deflate()]))
        await stream.aclose()
        events = len(batch)
    return {
        "us_per_event": {
            name: round(1e6 * statistics.median(times) / events, 2) for name, times in spent.items()
        },
        "bytes_per_message": {"plain": round(plain / events), "deflate": round(deflated / events)},
        "events": events,
    }


async def _encoded(results: list[Any]) -> list[bytes]:
    return [
        orjson.dumps({"id": "1", "type": "next", "payload": {"data": result.data}})
        for result in results
    ]


async def _framed(messages: list[bytes], extensions: list[Any]) -> int:
    return sum(
        len(Frame(Opcode.TEXT, message).serialize(mask=False, extensions=extensions))
        for message in messages
    )
