"""`cti bench acd` runs the real engine and reports the contract keys (no timing asserted)."""

import json

import pytest

from cti import cli
from cti.bench import acd


def test_bench_reports_decision_rates_with_the_crowd_waiting():
    result = acd.run(["--agents", "200", "--queues", "20", "--waiting", "100",
                      "--steps", "500"])
    for key in ("decisions_per_second", "p50_us", "p99_us", "waiting_callers"):
        assert key in result, key
    assert result["waiting_callers"] >= 100
    assert 0 < result["p50_us"] <= result["p99_us"] <= result["max_us"]
    assert result["baseline"]["agents"] == 20
    assert result["p99_ratio_to_baseline"] > 0


def test_bench_through_the_cli_prints_one_json_object(capsys):
    assert cli.main(["bench", "acd", "--agents", "50", "--queues", "5", "--waiting", "20",
                     "--steps", "100", "--no-baseline", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["agents"] == 50 and "baseline" not in out


@pytest.mark.parametrize("argv", [["--agents", "5"], ["--queues", "2", "--queues-per-agent",
                                                      "3"]])
def test_bench_bad_arguments_fail_in_one_line(capsys, argv):
    assert cli.main(["bench", "acd", *argv]) == 2
    assert capsys.readouterr().err.startswith("cti: error: ")
