"""Erlang C / Erlang A figures against published values and independent formulas."""

import json
import math
from fractions import Fraction

import pytest

from cti import cli
from cti.acd import erlang


@pytest.mark.parametrize(
    ("agents", "p_wait", "service_level", "asa"),
    # The textbook case: 100 calls per 30 minutes, AHT 180 s (10 Erlangs), 80/20 target.
    [(11, 0.6821, 0.3896, 122.8), (12, 0.4494, 0.6402, 40.4), (13, 0.2853, 0.7956, 17.1),
     (14, 0.1741, 0.8884, 7.8)],
)
def test_published_erlang_c_figures(agents, p_wait, service_level, asa):
    assert erlang.p_wait(agents, 10.0) == pytest.approx(p_wait, abs=5e-5)
    assert erlang.service_level(agents, 10.0, 180, 20) == pytest.approx(service_level, abs=5e-5)
    assert erlang.asa(agents, 10.0, 180) == pytest.approx(asa, abs=0.05)


def test_agents_needed_for_the_target_service_level():
    assert erlang.agents_needed(10.0, 180, 20, 0.8) == 14
    assert erlang.agents_needed(10.0, 180, 20, 0.7) == 13


def _exact_erlang_c(agents, load):
    """The closed formula of field-notes.md in exact rational arithmetic."""
    a = Fraction(load)
    top = a**agents / math.factorial(agents) * Fraction(agents, agents - a)
    return float(top / (sum(a**k / math.factorial(k) for k in range(agents)) + top))


@pytest.mark.parametrize(("agents", "load"), [(1, 0.5), (2, 1.5), (7, 3.25), (25, 21.5),
                                              (60, 55)])
def test_recurrence_matches_the_closed_formula(agents, load):
    assert erlang.p_wait(agents, load) == pytest.approx(_exact_erlang_c(agents, load), rel=1e-12)


def test_erlang_b_known_value():
    assert erlang.erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-6)


def test_large_centers_stay_finite_and_ordered():
    values = [erlang.p_wait(n, 4900.0) for n in (4901, 4950, 5000, 5100)]
    assert all(0.0 < v < 1.0 for v in values)
    assert values == sorted(values, reverse=True)
    assert erlang.agents_needed(4900.0, 180, 20, 0.8) > 4900


def test_overload_has_no_finite_wait():
    assert erlang.p_wait(10, 10.0) == 1.0
    assert erlang.asa(10, 12.0, 60) == math.inf
    assert erlang.service_level(10, 12.0, 60, 20) == 0.0


def test_erlang_a_tends_to_erlang_c_when_callers_are_patient():
    a = erlang.erlang_a(14, 10.0 / 180, 180, patience=1e9)
    assert a.p_wait == pytest.approx(erlang.p_wait(14, 10.0), rel=1e-4)
    assert a.asa == pytest.approx(erlang.asa(14, 10.0, 180), rel=1e-3)
    assert a.p_abandon < 1e-6


def test_erlang_a_is_stable_beyond_full_load():
    figures = erlang.erlang_a(10, 12.0 / 60, 60, patience=60)
    assert 0 < figures.p_abandon < 1
    assert figures.p_abandon < figures.p_wait <= 1
    # Served load cannot exceed the agents: occupancy = (1 - P(abandon)) * A / N <= 1.
    assert figures.occupancy == pytest.approx((1 - figures.p_abandon) * 12 / 10, rel=1e-9)


def test_bad_erlang_inputs_are_refused():
    with pytest.raises(ValueError, match="agents"):
        erlang.p_wait(0, 1.0)
    with pytest.raises(ValueError, match="target service level"):
        erlang.agents_needed(10, 180, 20, 1.0)


def test_cti_erlang_prints_the_contract_keys(capsys):
    assert cli.main(["erlang", "--rate", "200", "--aht", "180", "--agents", "14",
                     "--target-sl", "0.8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["p_wait"] == pytest.approx(0.1741, abs=5e-5)
    assert out["service_level"] == pytest.approx(0.8884, abs=5e-5)
    assert out["asa"] == pytest.approx(7.84, abs=0.01)
    assert out["occupancy"] == pytest.approx(10 / 14)
    assert out["agents_needed"] == 14


def test_cti_erlang_with_patience_adds_erlang_a(capsys):
    assert cli.main(["erlang", "--rate", "200", "--aht", "180", "--agents", "12",
                     "--patience", "60", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert 0 < out["erlang_a"]["p_abandon"] < out["p_wait"]


def test_cti_erlang_overloaded_reports_unstable(capsys):
    assert cli.main(["erlang", "--rate", "400", "--aht", "180", "--agents", "14", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["stable"], out["asa"], out["p_wait"]) == (False, None, 1.0)


@pytest.mark.parametrize("argv", [
    ["erlang", "--rate", "100", "--aht", "0", "--agents", "3"],
    ["erlang", "--rate", "100", "--aht", "60"],
    ["erlang", "--rate", "x", "--aht", "60", "--agents", "3"],
    ["erlang", "--rate", "100", "--aht", "60", "--agents", "3", "--target-sl", "80"],
])
def test_cti_erlang_bad_arguments_fail_in_one_line(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cti: error: ") and err.count("\n") == 1
