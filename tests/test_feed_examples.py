"""The integrator's guide's example clients, run as an integrator runs them, against a
real server: what they print is what a system following the feed would apply."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from api.auth import mint_dev_token
from api.database import ensure_database
from api.settings import Settings
from resolvers.changes import retention
from resolvers.domain.access import Tier
from resolvers.imports.records import SKYDDAD
from tests.factories import number
from tests.importing import RESET, apply, changes, full_extract, names, record
from tests.running import Server, fresh_env, run

EXAMPLES = Path(__file__).parents[1] / "docs" / "examples"


class Served:
    def __init__(self, server: Server, database_url: str, token: str) -> None:
        self.server, self.database_url, self.token = server, database_url, token


@pytest.fixture(scope="module")
def served(server_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("examples")
    url = asyncio.run(ensure_database(server_uri, "vastfolket_feed_examples"))
    env = fresh_env(root / "data", DATABASE_URL=url)
    server = Server.serve(env)
    try:
        settings = Settings(data_dir=root / "data")
        token = mint_dev_token(settings, subject="journal", tier=Tier.BASIC, roles=["feed"])
        yield Served(server, url, token)
    finally:
        server.stop()


def poll(served: Served, cursor_file: Path) -> tuple[int, list[dict], str]:
    url = f"{served.server.base}/graphql"
    command = [sys.executable, str(EXAMPLES / "feed_poller.py"), "--once",
               "--url", url, "--cursor-file", str(cursor_file)]  # fmt: skip
    done = run(command, {"VASTFOLKET_TOKEN": served.token, "PATH": "/usr/bin:/bin"}, timeout=60)
    assert done.returncode in (0, 3), done.stdout + done.stderr
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines()], done.stderr


async def reset(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(RESET)
    finally:
        await connection.close()


def test_the_poller_joins_at_the_head_then_follows_and_resumes(
    served: Served, tmp_path: Path
) -> None:
    asyncio.run(reset(served.database_url))
    before, after, later = number(), number(), number()
    asyncio.run(apply(served.database_url, full_extract(record(before, 1), record(later, 2))))
    cursor = tmp_path / "feed.cursor"
    code, printed, _ = poll(served, cursor)
    assert (code, printed) == (0, [])  # a new system starts from now: its load has the rest
    asyncio.run(apply(served.database_url, changes(record(after, 3))))
    code, printed, _ = poll(served, cursor)
    assert [(e["personnummer"], e["kind"]) for e in printed] == [(after, "CREATED")]
    assert printed[0]["person"]["lastName"] == "Svensson"
    asyncio.run(apply(served.database_url, changes(
        record(before, 4, names=names(last="Ek")), record(later, 5, protection=SKYDDAD),
    )))  # fmt: skip
    code, printed, _ = poll(served, cursor)  # resumed from the file: nothing twice
    assert printed == [
        {**printed[0], "personnummer": before, "kind": "CHANGED", "parts": ["NAMES"]},
        {"purge": later},
    ]
    assert printed[0]["person"]["lastName"] == "Ek"


def test_the_poller_says_reload_when_its_cursor_has_expired(served: Served, tmp_path: Path) -> None:
    asyncio.run(reset(served.database_url))
    cursor = tmp_path / "feed.cursor"
    assert poll(served, cursor)[0] == 0
    asyncio.run(apply(served.database_url, changes(record(number(), 1), record(number(), 2))))
    asyncio.run(apply(served.database_url, changes(record(number(), 3))))
    asyncio.run(_age_and_prune(served.database_url))
    code, printed, stderr = poll(served, cursor)
    assert (code, printed) == (3, [])
    assert "reload needed" in stderr


async def _age_and_prune(database_url: str) -> None:
    """As if every event but the last import's had grown older than the retention, and
    an operator ran `vastfolket changes prune`."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute(
            "UPDATE change_event SET applied_at = now() - interval '100 days' "
            "WHERE xid < (SELECT max(xid) FROM change_event)"
        )
        await retention.prune(connection, dt.timedelta(days=90))
    finally:
        await connection.close()


def test_the_subscriber_gets_each_event_as_it_is_applied_and_resumes(
    served: Served, tmp_path: Path
) -> None:
    asyncio.run(reset(served.database_url))
    cursor = tmp_path / "feed.cursor"
    first, second = number(), number()
    url = f"ws://127.0.0.1:{served.server.port}/graphql"
    command = [sys.executable, str(EXAMPLES / "feed_subscriber.py"), "--stop-after", "2",
               "--url", url, "--cursor-file", str(cursor)]  # fmt: skip
    env = {"VASTFOLKET_TOKEN": served.token, "PATH": "/usr/bin:/bin"}
    # Where its population load began (here: nothing loaded): the head, taken first, so
    # that what commits while it connects is still its to receive.
    head = httpx.post(f"{served.server.base}/graphql", json={"query": "{ changesHead }"},
                      headers={"Authorization": f"Bearer {served.token}"})  # fmt: skip
    cursor.write_text(head.json()["data"]["changesHead"])
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as subscriber:
        asyncio.run(apply(served.database_url, changes(record(first, 1), record(second, 2))))
        out, _ = subscriber.communicate(timeout=30)
    assert subscriber.returncode == 0
    assert [json.loads(line)["personnummer"] for line in out.splitlines()] == [first, second]
    # Stopped; meanwhile a protection. Started again, it resumes after the last it handled.
    asyncio.run(apply(served.database_url, changes(record(first, 3, protection=SKYDDAD))))
    command[command.index("--stop-after") + 1] = "1"
    done = run(command, env, timeout=30)
    assert [json.loads(line) for line in done.stdout.splitlines()] == [{"purge": first}]
