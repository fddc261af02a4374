"""The selections' benchmark runs end to end on a tiny register, so that it cannot rot
unseen: the real command in a subprocess, on an embedded PostgreSQL of its own; its
figures are checked for sense (every registered person in the file, once), not speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PERSONS = 200


def test_the_selections_benchmark_produces_and_downloads_every_registered_person(
    tmp_path: Path,
) -> None:
    out = tmp_path / "results.json"
    command = [sys.executable, "-m", "tests.bench.selections", "--persons", str(PERSONS),
               "--bench-dir", str(tmp_path / "bench"), "--out", str(out)]  # fmt: skip
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "produced and downloaded" in result.stderr
    figures = json.loads(out.read_text(encoding="utf-8"))
    # The demo register holds some who are never selected (protected, deceased, …).
    assert 0 < figures["rows"] == figures["persons_selected"] < PERSONS
    assert figures["file_bytes"] > figures["rows"] * 20
    assert figures["preview_seconds"] > 0 and figures["produced_seconds"] > 0
    assert figures["total_seconds"] >= figures["produced_seconds"]
    for process in ("api", "worker"):
        assert 0 < figures["rss_start_mib"][process] <= figures["rss_peak_mib"][process]
