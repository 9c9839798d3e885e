"""`cti bench csta --json` runs the simulator in a child process and reports the pinned keys
(the figures themselves are measured by running the command, never asserted here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "csta", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )


def test_the_report_counts_model_applied_events_over_the_window():
    done = bench("--seconds", "0.5", "--warmup", "0", "--extensions", "3", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["simulator"] == "subprocess" and figures["traffic"] == "burst"
    assert figures["events"] > 0 and figures["calls"] > 0
    rate = figures["events"] / figures["seconds"]
    assert abs(figures["events_per_second"] - rate) <= rate * 0.01
    assert 0.4 < figures["seconds"] < 2.0
    assert figures["driver_cpu_seconds"] > 0 and figures["python"] and figures["cpus"]


def test_bad_arguments_are_one_line():
    done = bench("--extensions", "0")
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "--extensions" in done.stderr
