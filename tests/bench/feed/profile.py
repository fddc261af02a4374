"""Where a page's time goes inside the API: cProfile over pages read in this process.

The ASGI app is built as the tests build it (``create_app`` on a pool) and called through
``httpx.ASGITransport``: the same middleware, pipeline, engine and JSON as the server,
without uvicorn and the socket. Attribution, not speed: cProfile slows Python calls
several times, so its seconds are only compared with each other.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from api.app import create_app
from api.settings import Settings
from tests.bench.feed.readers import HttpReader
from tests.bench.options import ROOT

TOP = 25


async def profile_pages(
    pool: asyncpg.Pool, settings: Settings, token: str, selection: str, pages: int, out: Path
) -> list[dict[str, Any]]:
    """Profile ``pages`` pages from the beginning; the functions that took the most time
    of their own (``tottime``), and the profile written to ``out``."""
    app = create_app(settings, pool=pool)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        reader = HttpReader(client, "/graphql", token, selection)
        await reader.page(None)  # the text prepared, the plans made: not what is measured
        profiler, after = cProfile.Profile(), None
        profiler.enable()
        for _ in range(pages):
            page = await reader.page(after)
            after = page.after
            if not page.more:
                break
        profiler.disable()
    profiler.dump_stats(out)
    return top_functions(profiler)


def top_functions(profiler: cProfile.Profile | Path) -> list[dict[str, Any]]:
    stats = pstats.Stats(profiler if isinstance(profiler, cProfile.Profile) else str(profiler),
                         stream=io.StringIO())  # fmt: skip
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (path, line, function), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(path)}:{line}({function})",
                "calls": calls,
                "own_seconds": round(own, 3),
                "own_share": round(own / total, 3) if total else 0.0,
                "cumulative_seconds": round(cumulative, 3),
            }
        )
    rows.sort(key=lambda row: row["own_seconds"], reverse=True)
    return rows[:TOP]


def _short(path: str) -> str:
    """A path from the tree or site-packages, without the folders before it."""
    for marker in ("site-packages/", f"{ROOT}/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
