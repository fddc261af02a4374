"""The feed benchmark's command line: ``python -m tests.bench.feed [options]``."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.feed.readers import SELECTIONS
from tests.bench.options import ROOT

DESCRIPTION = """\
The change feed as an integrator reads it. On the benchmark's embedded PostgreSQL
(BENCH_DIR), in a database of its own: the demo register and EVENTS change events.
1. Catch-up: one client pages through every event with `first: 1000` through the real
   server over HTTP (one uvicorn worker), once per selection: the number and kind only
   (`number`, target: 1 000 000 events in under 60 s), then with the person's name and
   registered address (`person`). Whole-run time, events/s, page p50/p99, CPU.
2. Side by side: the same pages read, page by page in turn, over HTTP, through the
   pipeline and the engine in this process, by `read_page`, and by a plain SQL keyset
   cursor: the ratios to plain SQL, and what each step adds.
A table on stderr and a JSON file (--out).
With --subscribers N, the subscribers' benchmark instead: the feed pushed over WebSocket
to N subscribers (its options: --subscribers N --help).
"""


@dataclass(frozen=True)
class Options:
    persons: int
    events: int
    transactions: int
    selections: tuple[str, ...]
    ladder_pages: int
    profile_pages: int
    out: Path
    bench_dir: Path
    target_seconds: float = 60.0

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values.update(out=str(self.out), bench_dir=str(self.bench_dir))
        values["selections"] = list(self.selections)
        return values


def _selections(text: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = sorted(set(names) - set(SELECTIONS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SELECTIONS)}, not {unknown}")
    return names


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.feed",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--persons", type=int, default=300_000, help="register size (default 300000)")
    add("--events", type=int, default=1_000_000, help="change events (default 1000000)")
    add("--transactions", type=int, default=5, help="transactions writing them (default 5)")
    add("--selections", type=_selections, default=tuple(SELECTIONS),
        help="what each event is read with, comma-separated (default number,person)")  # fmt: skip
    add("--ladder-pages", type=int, default=200,
        help="pages read side by side per selection (default 200; 0: every page)")  # fmt: skip
    add("--profile", type=int, default=0, metavar="PAGES", dest="profile_pages",
        help="also profile this many pages per selection with cProfile, in this process "
        "through the ASGI app (default 0: no profile); the top functions are printed and "
        "the profiles written to BENCH_DIR/feed-SELECTION.prof")  # fmt: skip
    add("--out", type=Path, default=Path("bench-feed-results.json"), help="results file")
    add("--bench-dir", type=Path, default=ROOT / ".bench",
        help="the embedded PostgreSQL's and the Navet files' folder (default .bench/)")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("persons", "events", "transactions"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    for name, flag in (("ladder_pages", "--ladder-pages"), ("profile_pages", "--profile")):
        if getattr(args, name) < 0:
            parser.error(f"{flag} must not be negative")
    return Options(
        persons=args.persons,
        events=args.events,
        transactions=args.transactions,
        selections=args.selections,
        ladder_pages=args.ladder_pages,
        profile_pages=args.profile_pages,
        out=args.out,
        bench_dir=args.bench_dir.resolve(),
    )
