"""The benchmark's command line: ``python -m tests.bench [options]``."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tests.bench.workloads import WORKLOADS

ROOT = Path(__file__).resolve().parents[2]
PEERS = ("postgraphile", "unlogged", "search-before")


@dataclass(frozen=True)
class Options:
    persons: int
    rounds: int
    duration: int
    warmup: int
    connections: tuple[int, ...]
    workloads: tuple[str, ...]
    out: Path
    inputs: int
    bench_dir: Path
    peer: str = "postgraphile"

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        values["out"] = str(self.out)
        values["bench_dir"] = str(self.bench_dir)
        values["connections"] = list(self.connections)
        values["workloads"] = list(self.workloads)
        return values


def _numbers(text: str) -> tuple[int, ...]:
    try:
        numbers = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not numbers or min(numbers) < 1:
        raise argparse.ArgumentTypeError("give one or more positive numbers, e.g. 1,32")
    return numbers


def _workloads(text: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = sorted(set(names) - set(WORKLOADS))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(WORKLOADS)}, not {unknown}")
    return names


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench",
        description="Side-by-side benchmark of the API (one uvicorn worker) and PostGraphile 5 "
        "(one Node process) on the same embedded PostgreSQL register.",
    )
    add = parser.add_argument
    add("--persons", type=int, default=300_000, help="register size (default 300000)")
    add("--rounds", type=int, default=3, help="measured rounds per server (default 3)")
    add("--duration", type=int, default=20, help="seconds per round (default 20)")
    add("--warmup", type=int, default=5, help="warm-up seconds per server (default 5)")
    add("--connections", type=_numbers, default=(1, 32), help="wrk connections (default 1,32)")
    add(
        "--workloads",
        type=_workloads,
        default=tuple(WORKLOADS),
        help="comma-separated (default person,page,search)",
    )
    add("--out", type=Path, default=Path("bench-results.json"), help="results file")
    add("--inputs", type=int, default=2000, help="inputs drawn per workload (default 2000)")
    add(
        "--peer",
        choices=PEERS,
        default="postgraphile",
        help="what to compare with: PostGraphile 5 (default); this API with the access "
        "log's writes skipped, to measure what logging costs; or this API sending the name "
        "search statement of before migration 0008 (tests/bench/search_before.py)",
    )
    args = parser.parse_args(argv)
    for name in ("persons", "rounds", "duration", "inputs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return Options(
        persons=args.persons,
        rounds=args.rounds,
        duration=args.duration,
        warmup=args.warmup,
        connections=args.connections,
        workloads=args.workloads,
        out=args.out,
        inputs=args.inputs,
        bench_dir=ROOT / ".bench",
        peer=args.peer,
    )
