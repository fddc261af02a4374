"""The subscribers' benchmark runs end to end on a tiny register, so that it cannot rot
unseen, and its check refuses a subscriber that missed, repeated or reordered an event.

The real command in a subprocess, on an embedded PostgreSQL of its own: a handful of
subscribers over real WebSockets, a change notice of a few hundred persons through the
importer (more than one batch of the subscription), every event checked to have reached
every subscriber once, in order. Its figures are checked for sense, not speed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from array import array
from pathlib import Path

import pytest

from tests.bench.feed.burst import Undelivered, gathered
from tests.bench.feed.subscribers import STOPPED, Received, digest_line

ROOT = Path(__file__).resolve().parent.parent
SUBSCRIBERS, CHANGES, PERSONS = 4, 600, 900  # 600 events: two batches of the subscription


def test_every_subscriber_receives_every_event_once_in_order(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    command = [
        sys.executable, "-m", "tests.bench.feed", "--subscribers", str(SUBSCRIBERS),
        "--persons", str(PERSONS), "--changes", str(CHANGES), "--client-processes", "2",
        "--deflate", "on,off", "--bench-dir", str(tmp_path / "bench"), "--out", str(out),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Subscribers: one import's events pushed" in result.stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    bursts = document["bursts"]
    assert {(b["selection"], b["server"]) for b in bursts} == {
        (selection, f"ours 1w {deflate}")
        for selection in ("number", "person") for deflate in ("deflate", "plain")
    }  # fmt: skip
    for burst in bursts:
        assert burst["messages"] == SUBSCRIBERS * CHANGES, burst
        assert 0 < burst["first_ms"] <= burst["p50_ms"] <= burst["p99_ms"] <= burst["max_ms"]
        assert burst["messages_per_second"] > 0 and burst["server_cpu_us_per_message"] > 0
        assert 0 < burst["rss_before_mib"] <= burst["rss_peak_mib"]


def _received(events: list[tuple[str, str, str]], *, extra: int = 0) -> Received:
    hashed = hashlib.sha256()
    for event in events:
        hashed.update(digest_line(*event))
    return Received(len(events), extra, hashed.hexdigest())


EVENTS = [(f"c{n}", f"19800101{n:04d}", "CHANGED") for n in range(3)]


@pytest.mark.parametrize(
    "read",
    [
        _received(EVENTS[:2]),  # one missed
        _received([EVENTS[0], EVENTS[0], EVENTS[2]]),  # one repeated, one missed
        _received([EVENTS[1], EVENTS[0], EVENTS[2]]),  # out of order
        _received(EVENTS, extra=1),  # one too many
    ],
)
def test_a_subscriber_that_did_not_read_each_event_once_in_order_is_refused(
    read: Received,
) -> None:
    want = _received(EVENTS)
    times = array("d", [1.0, 2.0, 3.0]).tobytes()
    assert gathered([([want], [times], 0.1)], 3, want.digest)[0] == 3
    with pytest.raises(Undelivered):
        gathered([([want, read], [times, times], 0.1)], 3, want.digest)


def test_the_subscriber_that_failed_is_named_not_those_it_stopped() -> None:
    stopped = Received(1, 0, "", problem=STOPPED)
    failed = Received(2, 0, "", problem="errors: AUDIT_UNAVAILABLE")
    times = array("d", [1.0]).tobytes()
    with pytest.raises(Undelivered, match="AUDIT_UNAVAILABLE"):
        gathered([([stopped, failed], [times, times], 0.1)], 3, "digest")
