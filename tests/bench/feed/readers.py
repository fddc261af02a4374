"""Ways to read the feed's pages, from the HTTP answer down to a plain SQL keyset cursor.

Every reader reads the page after a position of its own and returns the events as
``(personnummer, kind)`` in order, where the next page starts and whether more follow:

- ``http``: the real server, over HTTP (auth, the pipeline, JSON, uvicorn);
- ``pipeline``: ``api.operation.Pipeline.run`` in this process (execution and the access
  log's write, no HTTP or JSON);
- ``execute``: ``Engine.execute`` in this process (GraphQL execution only);
- ``read_page``: ``resolvers.changes.feed.read_page`` (the feed's statement);
- ``sql``: one plain keyset statement through asyncpg, the limit.
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import asyncpg
import httpx
import orjson
from graphql import ExecutionResult

from api.operation import Pipeline, Transport
from resolvers.changes import feed
from resolvers.db import Database
from resolvers.domain.access import Viewer
from schema.changes.feed import SCAN_PER_PAGE
from schema.context import build_context
from schema.engine import Engine

PAGE_SIZE = 1000

# What an integrator asks: the number and kind only, or with the person's name and
# registered address (docs/changes.md).
SELECTIONS = {
    "number": "personnummer kind",
    "person": "personnummer kind person { firstNames lastName "
    "registeredAddress { line2 postalCode postalTown } }",
}

# The limit: the same pages by a keyset cursor over what the feed lists (the view that
# leaves out what it must not show: migration 0013), with the person's name and address
# joined in for the "person" selection.
PLAIN = {
    "number": """
SELECT e.xid::text::bigint AS xid, e.position, e.personnummer, e.kind
FROM visible_change_event AS e
WHERE (e.xid, e.position) > ($1::text::xid8, $2::bigint)
ORDER BY e.xid, e.position
LIMIT $3
""",
    "person": """
SELECT e.xid::text::bigint AS xid, e.position, e.personnummer, e.kind,
       p.first_names, p.last_name, a.line2, a.postal_code, a.postal_town
FROM visible_change_event AS e
LEFT JOIN person AS p ON p.personnummer = e.personnummer
LEFT JOIN address AS a ON a.person_id = p.id AND a.kind = 'F'
WHERE (e.xid, e.position) > ($1::text::xid8, $2::bigint)
ORDER BY e.xid, e.position
LIMIT $3
""",
}


def operation(selection: str) -> str:
    return (
        "query Catchup($after: String, $first: Int!) { changes(after: $after, first: "
        f"$first) {{ edges {{ node {{ {SELECTIONS[selection]} }} }} "
        "pageInfo { hasNextPage endCursor } } }"
    )


class FeedFailed(Exception):
    """A page came back with errors: no figures are reported for a failing feed."""


class Page(NamedTuple):
    events: list[tuple[str, str]]  # (personnummer, kind), in feed order
    after: Any  # where the next page starts, in the reader's own terms
    more: bool


class Reader(Protocol):
    name: str

    async def page(self, after: Any) -> Page: ...


def _answer(data: dict[str, Any] | None, errors: object) -> Page:
    if errors or data is None or data.get("changes") is None:
        raise FeedFailed(f"the feed answered with errors: {str(errors)[:300]}")
    connection = data["changes"]
    events = [(edge["node"]["personnummer"], edge["node"]["kind"]) for edge in connection["edges"]]
    info = connection["pageInfo"]
    return Page(events, info["endCursor"], info["hasNextPage"])


class HttpReader:
    name = "http"

    def __init__(self, client: httpx.AsyncClient, url: str, token: str, selection: str) -> None:
        self.client, self.url, self.query = client, url, operation(selection)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    async def page(self, after: Any) -> Page:
        body = {"query": self.query, "variables": {"after": after, "first": PAGE_SIZE}}
        response = await self.client.post(
            self.url, content=orjson.dumps(body), headers=self.headers
        )
        if response.status_code != 200:
            raise FeedFailed(f"HTTP {response.status_code}: {response.text[:300]}")
        answer = orjson.loads(response.content)
        return _answer(answer.get("data"), answer.get("errors"))


class InProcess:
    """The app's engine and pipeline, run in this process on a pool of its own."""

    def __init__(self, engine: Engine, database: Database, viewer: Viewer) -> None:
        self.engine, self.database, self.viewer = engine, database, viewer
        self.pipeline = Pipeline(engine)
        self.requests = 0

    def transport(self) -> Transport:
        self.requests += 1
        return Transport(self.database, f"feed-bench-{self.requests}")


class PipelineReader:
    name = "pipeline"

    def __init__(self, app: InProcess, selection: str) -> None:
        self.app, self.prepared = app, app.engine.prepare(operation(selection))

    async def page(self, after: Any) -> Page:
        variables = {"after": after, "first": PAGE_SIZE}
        outcome = await self.app.pipeline.run(
            self.prepared, variables, None, self.app.viewer, self.app.transport()
        )
        if outcome.result is None:
            raise FeedFailed(f"refused: {outcome.refusal}")
        return _answer(outcome.result.data, outcome.result.errors)


class ExecuteReader:
    name = "execute"

    def __init__(self, app: InProcess, selection: str) -> None:
        self.app, self.prepared = app, app.engine.prepare(operation(selection))

    async def page(self, after: Any) -> Page:
        app = self.app
        context = build_context(app.database, app.viewer, limits=app.engine.limits)
        variables = {"after": after, "first": PAGE_SIZE}
        result: ExecutionResult = await app.engine.execute(self.prepared, context, variables, None)
        return _answer(result.data, result.errors)


class ReadPageReader:
    name = "read_page"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def page(self, after: Any) -> Page:
        page = await feed.read_page(self.pool, after, feed.Filters(), PAGE_SIZE, scan=SCAN_PER_PAGE)
        return Page([(e.personnummer, e.kind) for e in page.events], page.end, page.more)


class SqlReader:
    name = "sql"

    def __init__(self, pool: asyncpg.Pool, selection: str) -> None:
        self.pool, self.statement = pool, PLAIN[selection]

    async def page(self, after: Any) -> Page:
        xid, position = after or (0, 0)
        rows = await self.pool.fetch(self.statement, str(xid), position, PAGE_SIZE)
        if rows:
            xid, position = rows[-1]["xid"], rows[-1]["position"]
        events = [(row["personnummer"], row["kind"]) for row in rows]
        return Page(events, (xid, position), len(rows) == PAGE_SIZE)
