"""The subscribers' benchmark's command line: ``python -m tests.bench.feed --subscribers N``."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.options import ROOT

SELECTIONS = {
    "number": "cursor kind personnummer",
    "person": "cursor kind personnummer person { firstNames lastName "
    "registeredAddress { line2 postalCode postalTown } }",
}

DESCRIPTION = """\
The change feed pushed to many subscribers over WebSocket. On the benchmark's embedded
PostgreSQL (BENCH_DIR), database `vastfolket_fanout`: the demo register imported once.
Each burst: SUBSCRIBERS subscribers (graphql-transport-ws, the `websockets` client, in
CLIENT_PROCESSES processes on this machine) follow `changes` after the head; a change
notice of CHANGES persons of the register (one CHANGED event each) is applied through
the importer in one transaction; every subscriber must receive every event once, in
order. Reported: the delay from the import's commit to each delivery (p50/p99/max),
messages/s, CPU per message of the server, PostgreSQL and the clients, the server's
resident memory. Every server asked for (WORKERS x DEFLATE, and BEFORE's code) runs at
once and the bursts take turns, so that they share the machine's moments alike.
A table on stderr and a JSON file (--out).
"""


@dataclass(frozen=True)
class FanoutOptions:
    subscribers: int
    persons: int
    changes: tuple[int, ...]
    selections: tuple[str, ...]
    workers: tuple[int, ...]
    deflate: tuple[bool, ...]
    before: str | None
    rounds: int
    client_processes: int
    profile: bool
    out: Path
    bench_dir: Path

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values.update(out=str(self.out), bench_dir=str(self.bench_dir))
        return values


def _listed(kind: Any, choices: dict[str, Any] | None = None) -> Any:
    def parse(text: str) -> tuple[Any, ...]:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        try:
            values = tuple(dict.fromkeys(choices[p] if choices else kind(p) for p in parts))
        except (KeyError, ValueError):
            raise argparse.ArgumentTypeError(f"not a list of {kind.__name__}: {text!r}") from None
        if not values:
            raise argparse.ArgumentTypeError("give at least one")
        return values

    return parse


def parse(argv: list[str] | None = None) -> FanoutOptions:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.feed", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    add = parser.add_argument
    add("--subscribers", type=int, required=True, help="subscribers per burst")
    add("--persons", type=int, default=300_000, help="register size (default 300000)")
    add("--changes", type=_listed(int), default=(20_000, 1000),
        help="changes per import, one burst each (default 20000,1000)")  # fmt: skip
    add("--selections", type=_listed(str, {name: name for name in SELECTIONS}),
        default=tuple(SELECTIONS), help="number, person (default both)")  # fmt: skip
    add("--workers", type=_listed(int), default=(1,), help="uvicorn workers (default 1)")
    add("--deflate", type=_listed(str, {"on": True, "off": False}), default=(True,),
        help="permessage-deflate on, off or on,off (default on)")  # fmt: skip
    add("--before", metavar="REV", help="also serve this commit's code (git archive into "
        "BENCH_DIR/trees/), side by side")  # fmt: skip
    add("--rounds", type=int, default=1, help="bursts per server and size (default 1)")
    add("--client-processes", type=int, default=2, help="client processes (default 2)")
    add("--profile", action="store_true",
        help="also profile a burst per size and selection on a server under cProfile")  # fmt: skip
    add("--out", type=Path, default=Path("bench-fanout-results.json"), help="results file")
    add("--bench-dir", type=Path, default=ROOT / ".bench",
        help="the embedded PostgreSQL's folder (default .bench/)")  # fmt: skip
    args = parser.parse_args(argv)
    for name in ("subscribers", "persons", "rounds", "client_processes"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if min(args.changes) < 1 or min(args.workers) < 1:
        parser.error("--changes and --workers must be at least 1")
    if max(args.changes) > args.persons:
        parser.error("--changes must not exceed --persons: each change is of a person")
    return FanoutOptions(
        args.subscribers, args.persons, args.changes, args.selections, args.workers,
        args.deflate, args.before, args.rounds, args.client_processes, args.profile,
        args.out, args.bench_dir.resolve(),
    )  # fmt: skip
