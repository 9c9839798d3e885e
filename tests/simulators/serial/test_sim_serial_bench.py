"""`cti bench serial` runs end to end and reports consistent figures (not a timed test: the
numbers are checked for consistency with each other, not for speed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ENV = dict(os.environ, PYTHONPATH=ROOT)


def _bench(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cti.cli", "bench", "serial", "--json", *argv],
                          capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=60)


def test_the_bench_reports_its_figures_as_json():
    result = _bench("--calls", "6")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["baud"] == 115200 and figures["events"] == 6 * 4  # ring, answer, release, end
    assert 30 < figures["avg_frame_bytes"] < 80
    assert abs(figures["line_capacity_events_per_second"]
               - 115200 / 10 / figures["avg_frame_bytes"]) < 1
    # The pacing holds: nothing goes faster than the line could carry.
    assert 0 < figures["events_per_second"] <= figures["line_capacity_events_per_second"] * 1.05


def test_bad_bench_arguments_are_one_line_errors():
    result = _bench("--baud", "0")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--baud" in result.stderr
