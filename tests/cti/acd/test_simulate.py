"""Virtual-time simulation, with queueing theory as the oracle.

With Poisson arrivals, exponential handling, no abandonment and one FIFO queue the engine is an
M/M/N system, so the simulated P(wait), ASA and service level must agree with Erlang C. The
tolerance comes from the run itself: callers are cut into consecutive batches, whose means are
nearly independent, and the estimate must lie within four standard errors of the theory. Runs
are seeded, so the outcome is deterministic; sizes keep each run to about a second.
"""

import json
import math
import statistics

import pytest

from cti import cli
from cti.acd import STRATEGIES, erlang
from cti.acd.simulate import Traffic, simulate

BATCHES = 20


def batch_mean(values):
    size = len(values) // BATCHES
    means = [statistics.fmean(values[i * size:(i + 1) * size]) for i in range(BATCHES)]
    return statistics.fmean(means), statistics.stdev(means) / math.sqrt(BATCHES)


def agrees(estimate, theory, floor=0.0):
    mean, error = estimate
    return abs(mean - theory) <= 4 * error + floor, (mean, error, theory)


@pytest.mark.parametrize(("agents", "load", "calls", "seed"), [
    (5, 3.5, 24_000, 11),     # 70 % occupancy
    (10, 8.5, 24_000, 12),    # 85 %
    (30, 27.0, 30_000, 13),   # 90 %, a long correlation time
])
def test_mmn_simulation_agrees_with_erlang_c(agents, load, calls, seed):
    aht, sl = 60.0, 20.0
    rate = load / aht * 3600
    traffic = Traffic(agents=agents, rate=rate, aht=aht, hours=calls / rate + 1, seed=seed,
                      sl_seconds=sl, warmup=3600)
    result = simulate(traffic)
    waits = [wait for _, wait, answered in result.calls if answered]
    assert len(waits) == len(result.calls) > 0.9 * calls    # nobody abandons

    p_wait = batch_mean([wait > 0 for wait in waits])
    asa = batch_mean(waits)
    level = batch_mean([wait <= sl for wait in waits])
    theory_p = erlang.p_wait(agents, load)
    theory_asa = erlang.asa(agents, load, aht)
    theory_sl = erlang.service_level(agents, load, aht, sl)

    ok, detail = agrees(p_wait, theory_p)
    assert ok, detail
    ok, detail = agrees(asa, theory_asa)
    assert ok, detail
    ok, detail = agrees(level, theory_sl)
    assert ok, detail
    # The runs are long enough for the check to have teeth: it would catch a 10 % error in
    # the offered load (a lost, doubled or mis-timed caller), and the errors are small.
    assert not agrees(p_wait, erlang.p_wait(agents, load * 1.1))[0]
    assert not agrees(asa, erlang.asa(agents, load * 1.1, aht))[0]
    assert p_wait[1] < 0.03 and asa[1] < 0.25 * theory_asa and level[1] < 0.03

    figures = result.figures
    assert figures["p_wait"] == pytest.approx(statistics.fmean(w > 0 for w in waits), abs=1e-6)
    assert figures["service_level"] == pytest.approx(
        statistics.fmean(w <= sl for w in waits), abs=1e-6)
    assert figures["occupancy"] == pytest.approx(load / agents, abs=0.03)


def test_simulated_abandonment_agrees_with_erlang_a():
    agents, load, aht, patience = 10, 9.0, 60.0, 120.0
    rate = load / aht * 3600
    result = simulate(Traffic(agents=agents, rate=rate, aht=aht, hours=25_000 / rate,
                              patience=patience, seed=21, warmup=3600))
    abandoned = batch_mean([not answered for _, _, answered in result.calls])
    theory = erlang.erlang_a(agents, rate / 3600, aht, patience).p_abandon
    ok, detail = agrees(abandoned, theory)
    assert ok, detail
    assert result.figures["abandoned"] > 0
    assert result.figures["erlang_a"]["p_abandon"] == pytest.approx(theory, abs=1e-6)


def test_after_call_work_adds_to_handling_time_and_occupancy():
    result = simulate(Traffic(agents=10, rate=300, aht=60, hours=20, wrapup=30, seed=5,
                              warmup=3600))
    # Offered work: 300/h x (60 + 30) s = 7.5 Erlangs on 10 agents.
    assert result.figures["occupancy"] == pytest.approx(0.75, abs=0.03)
    assert result.figures["aht_measured"] == pytest.approx(90, rel=0.05)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_runs_the_same_traffic_without_losing_callers(strategy):
    figures = simulate(Traffic(agents=8, rate=400, aht=60, hours=3, strategy=strategy,
                               seed=3)).figures
    assert figures["offered"] > 1000
    # Nobody hangs up, so every caller is answered except the few still waiting at the end.
    assert 0 <= figures["offered"] - figures["answered"] < 20
    assert figures["abandoned"] == 0
    assert figures["occupancy"] == pytest.approx(400 * 60 / 3600 / 8, abs=0.08)


def test_runs_are_deterministic_by_seed():
    traffic = Traffic(agents=5, rate=200, aht=60, hours=2, seed=9, patience=30)
    first, again = simulate(traffic).figures, simulate(traffic).figures
    first.pop("wall_seconds")
    again.pop("wall_seconds")
    assert first == again


def test_cti_simulate_prints_the_contract_keys(capsys):
    assert cli.main(["simulate", "--agents", "20", "--rate", "900", "--aht", "60",
                     "--hours", "1", "--strategy", "round-robin", "--seed", "4",
                     "--patience", "90", "--sl-seconds", "15", "--wrapup", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("offered", "answered", "abandoned", "p_wait", "asa", "service_level",
                "service_level_2", "occupancy", "wall_seconds", "simulated_seconds"):
        assert key in out, key
    assert out["simulated_seconds"] == 3600
    assert out["offered"] >= out["answered"] + out["abandoned"] - 1
    assert out["sl_seconds"] == 15


@pytest.mark.parametrize("argv", [
    ["simulate", "--agents", "5", "--rate", "100", "--aht", "60", "--strategy", "fastest"],
    ["simulate", "--agents", "0", "--rate", "100", "--aht", "60"],
    ["simulate", "--agents", "5", "--rate", "100", "--aht", "60", "--patience", "-1"],
    ["simulate", "--agents", "5", "--rate", "100"],
])
def test_cti_simulate_bad_arguments_fail_in_one_line(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("cti: error: ") and err.count("\n") == 1
