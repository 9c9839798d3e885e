"""`cti bench screenpop --json` runs the whole screen-pop path and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_prints_the_pinned_keys():
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--customers", "200",
         "--calls", "10", "--agents", "2", "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert {"p50_ms", "p99_ms", "calls_per_second", "customers", "database"} <= set(figures)
    assert figures["database"] == "sqlite" and figures["customers"] == 200
    assert figures["found"] == 10
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]


def test_bad_arguments_are_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--calls", "0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "positive" in done.stderr
