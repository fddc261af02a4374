"""The feed benchmark runs end to end on a tiny register, so that it cannot rot unseen.

The real command in a subprocess, on an embedded PostgreSQL of its own: its figures are
checked for sense (every event read once by every reader, latencies ordered), not speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.bench.feed.catchup import Tally, Unread, check
from tests.bench.feed.readers import Page

ROOT = Path(__file__).resolve().parent.parent
EVENTS, PERSONS = 3000, 120
READERS = ["sql", "read_page", "execute", "pipeline", "http"]  # the limit first
KINDS = {"CHANGED", "CREATED", "DEREGISTERED", "LEFT", "NUMBER_CHANGED", "PROTECTED"}


def test_the_feed_benchmark_reads_every_event_once_through_every_reader(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [
        sys.executable, "-m", "tests.bench.feed", "--persons", str(PERSONS),
        "--events", str(EVENTS), "--transactions", "3", "--ladder-pages", "0",
        "--profile", "2", "--bench-dir", str(tmp_path / "bench"), "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    for title in ("Catch-up over HTTP", "side by side", "pg_stat_statements", "cProfile"):
        assert title in result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["machine"]["cores"] >= 1
    for selection, figures in document["catchup"].items():
        # 3 full pages, then an empty one that says nothing follows.
        assert (figures["events"], figures["pages"]) == (EVENTS, 4), selection
        assert set(figures["kinds"]) == KINDS
        assert figures["kinds"]["CHANGED"] > EVENTS / 2
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["events_per_second"] > 0 and figures["server_cpu_ms_per_1000"] > 0
        assert any("change_event" in s["query"] for s in figures["statements"])
    for selection, rows in document["ladder"].items():
        assert [row["reader"] for row in rows] == READERS
        assert all(row["events"] == EVENTS for row in rows), selection
        assert rows[0]["ratio_to_sql"] == 1.0 and all(row["ratio_to_sql"] > 0 for row in rows)
    assert set(document["catchup"]) == set(document["ladder"]) == {"number", "person"}
    assert all(document["profile"][selection] for selection in ("number", "person"))


def test_a_reader_that_missed_or_repeated_an_event_is_refused() -> None:
    want = Tally(kinds=Counter({"CHANGED": 2}), numbers=2 * 198001011234)
    read = Tally()
    read.add(Page([("198001011234", "CHANGED")], None, False), 0.01)
    with pytest.raises(Unread):
        check("a reader", read, want)
    read.add(Page([("198001011234", "CHANGED")], None, False), 0.01)
    check("a reader", read, want)
    read.add(Page([("198001011234", "CHANGED")], None, False), 0.01)
    with pytest.raises(Unread):
        check("a reader", read, want)
