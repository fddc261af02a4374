"""Subscribers of the change feed, as integrated systems follow it: one process holding
many WebSocket connections (the ``websockets`` client, asyncio), a subscription each.

A process is started with a ``Plan`` and a pipe. It connects every subscriber
(graphql-transport-ws, the token in ``connection_init``), subscribes each with ``after``
the head, and says ``ready``; then each subscriber reads until it has ``events``
messages, noting when each arrived (``time.monotonic``, the machine's one clock) and a
digest of what it read — every event's cursor, number and kind, in the order read — and
reads on for ``QUIET`` seconds to see that nothing more comes; one that fails (an
``error``, the connection closed, nothing in time) stops the others. What it sends back:
``Received`` per subscriber, the arrival times of all of them, and the process's CPU
seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

PROTOCOL = "graphql-transport-ws"
QUIET = 0.5  # seconds read on after the last event expected, for one too many
CONNECTING = 20  # connections opened at once
STOPPED = "stopped: another subscriber failed"


@dataclass(frozen=True)
class Plan:
    url: str  # ws://host:port/graphql
    tokens: list[str]  # one subscriber each
    query: str  # the subscription, with a variable $after
    after: str  # the cursor every subscriber starts after
    events: int  # how many each must receive
    idle: float  # seconds without a message that end a subscriber as failed
    compression: str | None = "deflate"  # what the client offers, as most clients do


class Failed(Exception):
    """A subscriber got something other than its next event, or nothing in time."""


@dataclass
class Received:
    count: int = 0
    extra: int = 0  # messages after the expected ones
    digest: str = ""
    problem: str | None = None  # why it stopped early
    arrivals: array = field(default_factory=lambda: array("d"))


def digest_line(cursor: str, personnummer: str, kind: str) -> bytes:
    return f"{cursor} {personnummer} {kind}\n".encode()


async def _open(plan: Plan, token: str) -> ClientConnection:
    connection = await connect(
        plan.url, subprotocols=[PROTOCOL], compression=plan.compression,  # type: ignore[list-item]
        proxy=None, open_timeout=60, max_size=2**20,
    )  # fmt: skip
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await connection.send(orjson.dumps(init).decode())
    ack = orjson.loads(await asyncio.wait_for(connection.recv(), 60))
    if ack.get("type") != "connection_ack":
        raise RuntimeError(f"not acknowledged: {ack}")
    payload = {"query": plan.query, "variables": {"after": plan.after}}
    await connection.send(
        orjson.dumps({"id": "1", "type": "subscribe", "payload": payload}).decode()
    )
    return connection


def _event(message: Any) -> tuple[str, str, str] | str:
    """The event a message carries, or what is wrong with it."""
    if message.get("id") != "1" or message.get("type") != "next":
        return f"unexpected message: {str(message)[:300]}"
    payload = message["payload"]
    if payload.get("errors"):
        return f"errors: {str(payload['errors'])[:300]}"
    event = payload["data"]["changes"]
    return event["cursor"], event["personnummer"], event["kind"]


async def _follow(connection: ClientConnection, plan: Plan, received: Received) -> None:
    hashed, arrivals = hashlib.sha256(), received.arrivals
    try:
        while received.count < plan.events:
            text = await asyncio.wait_for(connection.recv(), plan.idle)
            arrivals.append(time.monotonic())
            event = _event(orjson.loads(text))
            if isinstance(event, str):
                received.problem = event
                raise Failed(event)
            hashed.update(digest_line(*event))
            received.count += 1
        with contextlib.suppress(TimeoutError):
            while True:
                await asyncio.wait_for(connection.recv(), QUIET)
                received.extra += 1
    except TimeoutError:
        received.problem = f"nothing for {plan.idle:g} s after {received.count} events"
        raise Failed(received.problem) from None
    except ConnectionClosed as closed:
        received.problem = f"closed: {closed}"
        raise Failed(received.problem) from None
    except asyncio.CancelledError:
        received.problem = STOPPED
        raise
    finally:
        received.digest = hashed.hexdigest()


async def _clients(plan: Plan, pipe: Connection) -> None:
    gate = asyncio.Semaphore(CONNECTING)

    async def opened(token: str) -> ClientConnection:
        async with gate:
            return await _open(plan, token)

    connections = await asyncio.gather(*(opened(token) for token in plan.tokens))
    received = [Received() for _ in connections]
    pipe.send("ready")
    following = [
        asyncio.ensure_future(_follow(c, plan, r))
        for c, r in zip(connections, received, strict=True)
    ]
    # One that failed fails the burst: the others need not read on.
    _, pending = await asyncio.wait(following, return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    await asyncio.gather(*following, return_exceptions=True)
    await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
    arrivals = [r.arrivals.tobytes() for r in received]
    for r in received:
        r.arrivals = array("d")
    pipe.send((received, arrivals, time.process_time()))


def run(plan: Plan, pipe: Connection) -> None:
    """A process's whole life: connect, say ready, follow, send what was received."""
    try:
        uvloop.run(_clients(plan, pipe))
    except Exception as error:  # the parent reports it, with no figures
        pipe.send(f"{type(error).__name__}: {error}")
