"""`cti bench screenpop --json` runs the whole screen-pop path and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_bench_prints_the_pinned_keys(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--customers", "200",
         "--calls", "10", "--rate", "10", "--agents", "8", "--cache-dir", str(tmp_path),
         "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert {"p50_ms", "p99_ms", "calls_per_second", "customers", "database"} <= set(figures)
    assert figures["database"] == "sqlite" and figures["customers"] == 200
    assert figures["found"] == 10 and figures["missing"] == 0 and figures["refused_busy"] == 0
    assert figures["generated"] == 200
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_calls_refused_because_the_phone_still_holds_the_last_one_are_not_missing_pops(tmp_path):
    """Two agents, five calls a second each, each call held 0.5 s after its pop: the switch
    refuses calls to a phone that is still busy. Those never ring, so no pop is owed for them."""
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--customers", "200",
         "--calls", "10", "--rate", "10", "--agents", "2", "--hold", "0.5",
         "--cache-dir", str(tmp_path), "--json"],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["refused_busy"] > 0 and figures["missing"] == 0
    assert figures["found"] + figures["refused_busy"] == 10


def test_generated_customers_are_reused_by_the_next_run(tmp_path):
    argv = [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--customers", "150",
            "--calls", "5", "--rate", "10", "--agents", "8", "--cache-dir", str(tmp_path),
            "--json"]
    runs = [subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT,
                           env=dict(os.environ, PYTHONPATH=ROOT)) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[-1].stderr
    first, second = (json.loads(r.stdout) for r in runs)
    assert (first["generated"], second["generated"]) == (150, 0)
    assert second["found"] == 5


def test_bad_arguments_are_one_line():
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--calls", "0"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0 and "positive" in done.stderr
