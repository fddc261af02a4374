"""The same pages read by every reader, side by side, to show where the time goes.

Page by page, each reader in turn reads its next page, so they share the machine's
moments alike (two shared cores are noisy: a ratio measured so is steadier than two
runs' figures). Each reader's page must hold the same events, in the same order, as the
first reader's (the plain SQL cursor's). From the sums of the page latencies:

- ``read_page`` − ``sql``: the feed's own statement (its snapshot, horizon, filters);
- ``execute`` − ``read_page``: GraphQL execution (and, with ``person``, its statement);
- ``pipeline`` − ``execute``: the access log's write;
- ``http`` − ``pipeline``: auth, JSON, HTTP and uvicorn.
"""

from __future__ import annotations

import time
from typing import Any

from tests.bench.feed.catchup import Tally
from tests.bench.feed.readers import FeedFailed, Reader

# What each step down the ladder adds, by the reader it adds it in.
ADDS = {
    "sql": "a plain keyset statement through asyncpg",
    "read_page": "the feed's statement (snapshot, horizon, filters) and its rows",
    "execute": "GraphQL execution (with `person`: its loader's statement)",
    "pipeline": "the access log's write",
    "http": "auth, JSON encoding, HTTP and uvicorn, the client's decoding",
}


async def side_by_side(readers: list[Reader], pages: int) -> dict[str, Tally]:
    """Up to ``pages`` pages (0: every page) read by each reader in turn."""
    tallies = {reader.name: Tally() for reader in readers}
    after: dict[str, Any] = dict.fromkeys(tallies)
    done: set[str] = set()
    read = 0
    while len(done) < len(readers) and (pages == 0 or read < pages):
        reference = None
        for reader in readers:
            if reader.name in done:
                continue
            began = time.perf_counter()
            page = await reader.page(after[reader.name])
            tallies[reader.name].add(page, time.perf_counter() - began)
            if reference is None:
                reference = page.events
            elif page.events != reference:
                raise FeedFailed(
                    f"{reader.name}'s page {read + 1} differs from {readers[0].name}'s"
                )
            after[reader.name] = page.after
            if not page.more:
                done.add(reader.name)
        read += 1
    return tallies


def breakdown(tallies: dict[str, Tally]) -> list[dict[str, Any]]:
    """Per reader: its page seconds, ratio to the plain statement's, and what it adds."""
    base = sum(tallies["sql"].latencies) or 1e-9
    rows, previous = [], 0.0
    for name, tally in tallies.items():
        seconds = sum(tally.latencies)
        rows.append(
            {
                "reader": name,
                **tally.summary(),
                "ratio_to_sql": round(seconds / base, 2),
                "adds_seconds": round(seconds - previous, 3),
                "adds_ms_per_page": round(1000 * (seconds - previous) / len(tally.latencies), 2),
                "adds": ADDS[name],
            }
        )
        previous = seconds
    return rows
