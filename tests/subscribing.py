"""Subscribing to a real server over a real WebSocket (the `websockets` client), as an
integrated system does: graphql-transport-ws, the token in connection_init.

Also the server's database: a fresh one per server, served under a role of its own (not
a superuser), so that a test can take a grant away as an operator's mistake would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from api.auth import mint_dev_token
from api.database import with_database
from api.settings import Settings
from resolvers.db import migrate
from resolvers.domain.access import Tier
from tests.factories import number
from tests.running import Server, fresh_env

PROTOCOL = "graphql-transport-ws"
ROLE = "vastfolket_ws_api"
GRANTS = f"""
GRANT CREATE, USAGE ON SCHEMA public TO {ROLE};
GRANT ALL ON ALL TABLES IN SCHEMA public TO {ROLE};
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {ROLE};
"""
FOLLOW = """
subscription Follow($after: String, $filter: ChangeFilter) {
  changes(after: $after, filter: $filter) { cursor personnummer kind person { lastName } }
}
"""

_days = itertools.count()
_heads = itertools.count()


def fresh_numbers(count: int) -> list[str]:
    """Numbers no test of the session has used: each on a birth date of its own."""
    start = dt.date(1931, 1, 1)
    return [number(start + dt.timedelta(days=next(_days))) for _ in range(count)]


async def served_database(server_uri: str, name: str) -> tuple[str, str]:
    """A fresh, migrated database: its URL for its owner, and for the role the server
    runs as (granted what the API uses, as docs/operations.md has it, and more)."""
    admin = await asyncpg.connect(server_uri)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.execute(f"CREATE DATABASE {name}")
        if not await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", ROLE):
            await admin.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{ROLE}'")
    finally:
        await admin.close()
    owner = with_database(server_uri, name)
    connection = await asyncpg.connect(owner)
    try:
        await migrate(connection)
        await connection.execute(GRANTS)
    finally:
        await connection.close()
    parts = urlsplit(owner)
    served = parts._replace(netloc=f"{ROLE}:{ROLE}@{parts.netloc.rsplit('@', 1)[-1]}")
    return owner, urlunsplit(served)


class Served:
    """A server, its database (as its owner: the importer's side) and its data dir."""

    def __init__(self, server: Server, owner_url: str, data_dir: str) -> None:
        self.server, self.owner_url, self.data_dir = server, owner_url, data_dir

    def token(self, subject: str, **claims: Any) -> str:
        return token(self.data_dir, subject, **claims)


# Small bounds, so that the tests reach them in moments.
SETTINGS = {
    "VASTFOLKET_WS_MAX_SUBSCRIPTIONS": "3",
    "VASTFOLKET_WS_MAX_CONNECTIONS_PER_CALLER": "2",
    "VASTFOLKET_WS_SEND_TIMEOUT_SECONDS": "1",
    "VASTFOLKET_JWT_LEEWAY_SECONDS": "0",
    "VASTFOLKET_SHUTDOWN_DRAIN_SECONDS": "0",
    "VASTFOLKET_CLIENT_TIMEOUT_SECONDS": "2",
}


@contextlib.contextmanager
def serving(
    server_uri: str, engine: str, tmp: pytest.TempPathFactory, database: str,
    *, workers: int = 1, **settings: str,
) -> Iterator[Served]:  # fmt: skip
    """`vastfolket serve` on a fresh database of its own, with ``SETTINGS`` and these."""
    owner, url = asyncio.run(served_database(server_uri, database))
    data_dir = str(tmp.mktemp("ws"))
    token(data_dir, "warm-up")  # the development key, before the server reads it
    env = fresh_env(
        tmp.mktemp("ws-env"), DATABASE_URL=url, VASTFOLKET_DATA_DIR=data_dir,
        VASTFOLKET_DEMO_PERSONS="0", VASTFOLKET_ENGINE=engine, **{**SETTINGS, **settings},
    )  # fmt: skip
    server = Server.serve(env, workers=workers)
    try:
        yield Served(server, owner, data_dir)
    finally:
        status = server.stop()
    assert status == 0, server.output
    # Only the access log refused (a permission taken away) is logged with its trace.
    unexpected = ("unexpected error", "Exception in", "Task exception")
    assert not any(text in server.output for text in unexpected), server.output


def token(data_dir: str | Path, subject: str, *, tier: Tier = Tier.BASIC,
          roles: tuple[str, ...] = ("feed",), ttl: int = 3600) -> str:  # fmt: skip
    settings = Settings(data_dir=Path(data_dir))
    return mint_dev_token(settings, subject=subject, tier=tier, roles=list(roles),
                          organisation="1480", ttl_seconds=ttl)  # fmt: skip


class Subscriber:
    """One WebSocket connection to the server's /graphql."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self, timeout: float = 15) -> dict[str, Any]:
        return dict(json.loads(await asyncio.wait_for(self.connection.recv(), timeout)))

    async def init(self, payload: dict[str, Any] | None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, ident: str, query: str = FOLLOW, **variables: Any) -> None:
        payload = {"query": query, "variables": variables}
        await self.send({"id": ident, "type": "subscribe", "payload": payload})

    async def head(self) -> str:
        """Where the feed stands now: ``changesHead``, asked on this connection."""
        ident = f"head-{next(_heads)}"
        await self.subscribe(ident, "query { changesHead }")
        answer = await self.receive()
        assert answer["id"] == ident and answer["type"] == "next", answer
        assert await self.receive() == {"id": ident, "type": "complete"}
        return str(answer["payload"]["data"]["changesHead"])

    async def follow(self, ident: str, query: str = FOLLOW) -> None:
        """Subscribe from where the feed stands now: what commits from here on is sent."""
        await self.subscribe(ident, query, after=await self.head())

    async def events(self, ident: str, count: int, timeout: float = 15) -> list[dict]:
        """The next ``count`` events of the subscription ``ident``, as they come."""
        found: list[dict] = []
        while len(found) < count:
            message = await self.receive(timeout)
            assert message.get("id") == ident and message["type"] == "next", message
            assert "errors" not in message["payload"], message
            found.append(message["payload"]["data"]["changes"])
        return found

    async def quiet(self, seconds: float) -> None:
        """Nothing arrives for ``seconds``."""
        with contextlib.suppress(TimeoutError):
            message = await self.receive(seconds)
            raise AssertionError(f"unexpected message: {message}")

    async def closed(self, timeout: float = 15) -> tuple[int | None, str | None]:
        """Read until the server closes: the code and reason it closed with."""
        try:
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        except ConnectionClosed as closed:
            frame = closed.rcvd
            return (frame.code, frame.reason) if frame else (None, None)


@contextlib.asynccontextmanager
async def connected(
    server: Server,
    *,
    subprotocols: tuple[str, ...] | None = (PROTOCOL,),
    **options: Any,
) -> AsyncIterator[Subscriber]:
    """Connected, offering ``subprotocols`` (None: no header)."""
    uri = f"ws://127.0.0.1:{server.port}/graphql"
    offered: Any = None if subprotocols is None else list(subprotocols)
    async with connect(uri, subprotocols=offered, open_timeout=15, **options) as connection:
        yield Subscriber(connection)


@contextlib.asynccontextmanager
async def following(server: Server, bearer: str, **options: Any) -> AsyncIterator[Subscriber]:
    """Connected and acknowledged with ``bearer``."""
    async with connected(server, **options) as subscriber:
        ack = await subscriber.init({"Authorization": f"Bearer {bearer}"})
        assert ack == {"type": "connection_ack"}, ack
        yield subscriber


@contextlib.contextmanager
def small_receive_buffer(port: int, size: int = 4096) -> Iterator[socket.socket]:
    """A connected socket that takes little before its sender must wait."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
    sock.connect(("127.0.0.1", port))
    sock.setblocking(False)
    with sock:
        yield sock


@pytest.fixture
async def owner(served: Served) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the served database's owner (the module's ``served`` fixture)."""
    connection = await asyncpg.connect(served.owner_url)
    yield connection
    await connection.close()
