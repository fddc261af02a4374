"""Medians of the rounds per workload and connection count, as a table and as JSON."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from tests.bench.rounds import Round

# Per server, the median over rounds of each of these.
METRICS = (
    "rps",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "cpu_ms_per_request",
    "db_cpu_ms_per_request",
    "statements_per_request",
    "top_statement_ms",
)
HEADLINE_CONNECTIONS = 32


def _median(rounds: list[Round], metric: str) -> float:
    return round(statistics.median(getattr(r, metric) for r in rounds), 3)


def _ratio(ours: float, peer: float) -> float | None:
    return round(ours / peer, 3) if peer else None


def _rounded(done: Round) -> dict[str, Any]:
    values = done.as_json()
    for key in ("server", "workload", "connections"):
        del values[key]
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in values.items()}


def summarise(rounds: list[Round]) -> dict[str, Any]:
    """``{workload: {headline numbers…, "connections": {"1": {…}, "32": {…}}}}``.

    The headline numbers of a workload are those at 32 connections (or, if 32 was not
    measured, at the most connections measured).
    """
    workloads: dict[str, Any] = {}
    for name in dict.fromkeys(r.workload for r in rounds):
        per_connections: dict[str, Any] = {}
        for connections in sorted({r.connections for r in rounds if r.workload == name}):
            chosen = [r for r in rounds if r.workload == name and r.connections == connections]
            entry: dict[str, Any] = {}
            for server in ("ours", "peer"):
                mine = [r for r in chosen if r.server == server]
                for metric in METRICS:
                    entry[f"{server}_{metric}"] = _median(mine, metric)
                entry[f"{server}_rounds"] = [_rounded(r) for r in mine]
            entry["ratio"] = _ratio(entry["ours_rps"], entry["peer_rps"])
            entry["p99_ratio"] = _ratio(entry["ours_p99_ms"], entry["peer_p99_ms"])
            entry["cpu_ratio"] = _ratio(
                entry["ours_cpu_ms_per_request"], entry["peer_cpu_ms_per_request"]
            )
            per_connections[str(connections)] = entry
        headline_key = (
            str(HEADLINE_CONNECTIONS)
            if str(HEADLINE_CONNECTIONS) in per_connections
            else max(per_connections, key=int)
        )
        headline = per_connections[headline_key]
        workloads[name] = {
            "headline_connections": int(headline_key),
            "ours_rps": headline["ours_rps"],
            "peer_rps": headline["peer_rps"],
            "ratio": headline["ratio"],
            "ours_p99_ms": headline["ours_p99_ms"],
            "peer_p99_ms": headline["peer_p99_ms"],
            "connections": per_connections,
        }
    return workloads


def write_results(
    path: Path,
    machine: dict[str, Any],
    settings: dict[str, Any],
    workloads: dict[str, Any],
) -> None:
    document = {"machine": machine, "settings": settings, "workloads": workloads}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


PEER_TITLES = {
    "postgraphile": "PostGraphile 5, 1 Node process",
    "unlogged": "this API without access log writes, 1 uvicorn worker",
    "search-before": "this API with the name search before migration 0008, 1 uvicorn worker",
}


def print_table(
    console: Console, workloads: dict[str, Any], rounds_per_server: int, peer: str
) -> None:
    table = Table(
        title=f"ours (1 uvicorn worker) vs peer ({PEER_TITLES[peer]}): "
        f"medians of {rounds_per_server} rounds",
    )
    for header in ("workload", "conns", "ours req/s", "peer req/s", "ratio ours/peer"):
        table.add_column(header, justify="right" if header != "workload" else "left")
    for header in ("p50 ms ours/peer", "p99 ms ours/peer", "CPU ms/req ours/peer"):
        table.add_column(header, justify="right")
    table.add_column("DB CPU ms/req ours/peer", justify="right")
    table.add_column("SQL/req ours/peer", justify="right")
    table.add_column("top SQL ms ours/peer", justify="right")
    for name, workload in workloads.items():
        for connections, e in workload["connections"].items():
            table.add_row(
                name,
                connections,
                _fmt(e["ours_rps"]),
                _fmt(e["peer_rps"]),
                _fmt(e["ratio"], 2),
                f"{_fmt(e['ours_p50_ms'])} / {_fmt(e['peer_p50_ms'])}",
                f"{_fmt(e['ours_p99_ms'])} / {_fmt(e['peer_p99_ms'])}",
                f"{_fmt(e['ours_cpu_ms_per_request'], 2)} / "
                f"{_fmt(e['peer_cpu_ms_per_request'], 2)}",
                f"{_fmt(e['ours_db_cpu_ms_per_request'], 2)} / "
                f"{_fmt(e['peer_db_cpu_ms_per_request'], 2)}",
                f"{_fmt(e['ours_statements_per_request'], 2)} / "
                f"{_fmt(e['peer_statements_per_request'], 2)}",
                f"{_fmt(e['ours_top_statement_ms'], 2)} / {_fmt(e['peer_top_statement_ms'], 2)}",
            )
    console.print(table)
