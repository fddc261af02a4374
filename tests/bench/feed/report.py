"""The feed benchmark's figures: tables on stderr and ``bench-feed-results.json``."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.bench.feed.ladder import ADDS


def write_results(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def print_catchup(console: Console, catchup: dict[str, Any], target: float) -> None:
    table = Table(title="Catch-up over HTTP: one client, `first: 1000`, from the beginning")
    for header in ("selection", "events", "seconds", "events/s", "p50 ms", "p99 ms"):
        table.add_column(header, justify="left" if header == "selection" else "right")
    for header in ("server CPU", "database CPU", "client CPU"):
        table.add_column(f"{header} ms/1000", justify="right")
    for selection, figures in catchup.items():
        seconds = figures["seconds"]
        if selection == "number":  # the target, scaled to the events read
            limit = target * figures["events"] / 1_000_000
            mark = "[green]" if seconds <= limit else "[red]"
            seconds_text = f"{mark}{_n(seconds, 1)}[/] (target {_n(limit, 1)})"
        else:
            seconds_text = _n(seconds, 1)
        table.add_row(
            selection, _n(figures["events"]), seconds_text,
            _n(figures["wall_events_per_second"]), _n(figures["p50_ms"], 1),
            _n(figures["p99_ms"], 1), _n(figures["server_cpu_ms_per_1000"], 1),
            _n(figures["database_cpu_ms_per_1000"], 1), _n(figures["client_cpu_ms_per_1000"], 1),
        )  # fmt: skip
    console.print(table)


def print_statements(console: Console, catchup: dict[str, Any]) -> None:
    table = Table(title="The database's time during each catch-up (pg_stat_statements)")
    for header in ("selection", "statement", "calls", "total s", "mean ms"):
        table.add_column(
            header, justify="left" if header in ("selection", "statement") else "right"
        )
    for selection, figures in catchup.items():
        for statement in figures["statements"]:
            table.add_row(
                selection, statement["query"][:70], _n(statement["calls"]),
                _n(statement["total_seconds"], 2), _n(statement["mean_ms"], 2),
            )  # fmt: skip
    console.print(table)


def print_ladder(console: Console, ladder: dict[str, list[dict[str, Any]]]) -> None:
    table = Table(title="The same pages side by side, read in turn: where the time goes")
    for header in ("selection", "reader", "pages", "page s", "ratio to sql", "p50 ms", "p99 ms"):
        table.add_column(header, justify="left" if header in ("selection", "reader") else "right")
    table.add_column("adds ms/page", justify="right")
    table.add_column("what the step adds")
    for selection, rows in ladder.items():
        for row in rows:
            table.add_row(
                selection, row["reader"], _n(row["pages"]), _n(row["page_seconds"], 2),
                _n(row["ratio_to_sql"], 2), _n(row["p50_ms"], 1), _n(row["p99_ms"], 1),
                _n(row["adds_ms_per_page"], 2), ADDS[row["reader"]],
            )  # fmt: skip
    console.print(table)


def print_profile(console: Console, profiles: dict[str, list[dict[str, Any]]]) -> None:
    for selection, rows in profiles.items():
        table = Table(title=f"cProfile, {selection}: the functions with the most time of their own")
        for header in ("function", "calls", "own s", "share", "cumulative s"):
            table.add_column(header, justify="left" if header == "function" else "right")
        for row in rows:
            table.add_row(
                row["function"][-70:], _n(row["calls"]), _n(row["own_seconds"], 3),
                f"{100 * row['own_share']:.1f}%", _n(row["cumulative_seconds"], 3),
            )  # fmt: skip
        console.print(table)


# The subscribers' bursts: each column's header and the figures it shows (one number
# each, or several joined), with their digits.
FANOUT_COLUMNS = (
    ("delay ms\nfirst · p50 · p99 · max", ("first_ms", "p50_ms", "p99_ms", "max_ms"), 0),
    ("messages/s", ("messages_per_second",), 0),
    ("CPU µs/message\nserver · PostgreSQL · clients",
     ("server_cpu_us_per_message", "database_cpu_us_per_message", "client_cpu_us_per_message"), 1),
    ("server RSS MiB\nidle · connected · peak",
     ("rss_before_mib", "rss_connected_mib", "rss_peak_mib"), 0),
)  # fmt: skip


def fanout_medians(bursts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per size, selection and server, in the order run: each figure's median of rounds."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for burst in bursts:
        groups.setdefault((burst["changes"], burst["selection"], burst["server"]), []).append(burst)
    rows = []
    for (changes, selection, server), found in groups.items():
        runs = [run for run in found if "failed" not in run]
        row = {"changes": changes, "selection": selection, "server": server, "rounds": len(runs),
               "failed": [run["failed"] for run in found if "failed" in run]}  # fmt: skip
        rows.append(row)
        if not runs:
            continue
        row.update(subscribers=runs[0]["subscribers"], messages=runs[0]["messages"])
        for _, keys, _ in FANOUT_COLUMNS:
            row.update({key: statistics.median(run[key] for run in runs) for key in keys})
    return rows


def _why(failure: str) -> str:
    """A failed burst in a few words: the code the server ended a subscription with."""
    code = re.search(r"'code': '([A-Z_]+)'", failure)
    return code.group(1) if code else failure[:60]


def print_fanout(console: Console, bursts: list[dict[str, Any]]) -> None:
    table = Table(title="Subscribers: one import's events pushed to each subscriber (delays "
                  "from the import's commit; medians of the rounds)")  # fmt: skip
    for header in ("changes", "selection", "server", "rounds", "messages"):
        table.add_column(header, justify="left" if header in ("selection", "server") else "right")
    for header, _, _ in FANOUT_COLUMNS:
        table.add_column(header, justify="right", no_wrap=True)
    for row in fanout_medians(bursts):
        rounds = str(row["rounds"]) + (f" ({len(row['failed'])} failed)" if row["failed"] else "")
        if "messages" not in row:
            failed = f"[red]failed[/red] ({_why(row['failed'][0])})"
            table.add_row(_n(row["changes"]), row["selection"], row["server"], rounds, "–", failed)
            continue
        figures = [" · ".join(_n(row[key], digits) for key in keys)
                   for _, keys, digits in FANOUT_COLUMNS]  # fmt: skip
        table.add_row(_n(row["changes"]), row["selection"], row["server"], rounds,
                      _n(row["messages"]), *figures)  # fmt: skip
    console.print(table)


def print_steps(console: Console, parts: dict[str, dict[str, Any]]) -> None:
    table = Table(title="A batch's steps timed apart in this process: µs per event "
                  "(medians of 5 batches)")  # fmt: skip
    table.add_column("step")
    for selection in parts:
        table.add_column(selection, justify="right")
    names = dict.fromkeys(name for part in parts.values() for name in part["us_per_event"])
    for name in names:
        table.add_row(name, *(_n(part["us_per_event"].get(name, 0), 2) for part in parts.values()))
    for kind in ("plain", "deflate"):
        sizes = [_n(part["bytes_per_message"][kind]) for part in parts.values()]
        table.add_row(f"bytes a message, {kind}", *sizes)
    console.print(table)
