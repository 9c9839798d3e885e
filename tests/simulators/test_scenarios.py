"""Scenario files: parsing (pure) and running on the switch's clock."""

from __future__ import annotations

import os

import pytest
from twisted.internet.task import Clock

from simulators.pbx import Switch
from simulators.scenarios import ScenarioError, ScenarioRunner, Step, load_scenario, parse_scenario

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "simulators", "examples")


def test_times_absolute_relative_and_implicit():
    steps = parse_scenario("""
        # comment line
        1     call +4930123 -> 1001
        +2.5  answer 1001     # trailing comment
              hold 1001
        wait 3
              hangup 1001
        10    dnd 1002 on
    """)
    assert steps == [
        Step(1.0, "call", ("+4930123", "1001"), 3),
        Step(3.5, "answer", ("1001",), 4),
        Step(3.5, "hold", ("1001",), 5),
        Step(6.5, "hangup", ("1001",), 7),
        Step(10.0, "dnd", ("1002", "on"), 8),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ring 1001", "line 1: unknown action 'ring'"),
        ("answer", "line 1: usage: answer DEVICE"),
        ("5 answer 1001\n2 hangup 1001", "line 2: time 2 goes back"),
        ("wait soon", "line 1: usage: wait SECONDS"),
        ("+1", "line 1: a time with no action"),
        ("dnd 1001 maybe", "usage: dnd DEVICE on|off"),
        ("-3 answer 1001", "line 1: bad time '-3'"),
    ],
)
def test_bad_lines_are_reported_with_their_number(text, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(text)


def test_missing_file_is_a_scenario_error(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(str(tmp_path / "nope.scn"))


def small_switch(clock):
    switch = Switch(clock, external_answer_seconds=None)
    switch.add_extensions(str(n) for n in range(1000, 1010))
    return switch


def test_the_example_runs_cleanly_to_the_end():
    clock = Clock()
    switch = small_switch(clock)
    runner = ScenarioRunner(switch, load_scenario(os.path.join(EXAMPLES, "reception.scn")),
                            strict=True)
    results = []
    runner.start().addBoth(results.append)
    clock.pump([0.5] * 60)
    assert results == [None]
    assert runner.errors == []
    assert switch.calls == {}


def test_steps_happen_at_their_times():
    clock = Clock()
    switch = small_switch(clock)
    runner = ScenarioRunner(switch, parse_scenario("1 call 1001 -> 1002\n+2 answer 1002"))
    runner.start()
    clock.advance(0.9)
    assert switch.calls == {}
    clock.advance(0.1)
    (call_id,) = switch.calls
    clock.advance(1.9)
    assert dict(switch.snapshot_call(call_id))["1002"] == "alerting"
    clock.advance(0.1)
    assert dict(switch.snapshot_call(call_id))["1002"] == "connected"


def test_a_refused_step_is_recorded_and_the_run_goes_on():
    clock = Clock()
    switch = small_switch(clock)
    runner = ScenarioRunner(switch, parse_scenario("answer 1001\ncall 1001 -> 1002"))
    runner.start()
    clock.advance(0)
    assert [line for line, _ in runner.errors] == [1]
    assert len(switch.calls) == 1


def test_strict_runs_stop_at_the_first_refusal_or_failed_expectation():
    clock = Clock()
    switch = small_switch(clock)
    runner = ScenarioRunner(switch, parse_scenario("call 1001 -> 1002\nexpect 1002 connected\n"
                                                   "hangup 1001"), strict=True)
    failures = []
    runner.start().addErrback(failures.append)
    clock.advance(0)
    assert "expected 1002 connected" in str(failures[0].value)
    assert len(switch.calls) == 1


def test_every_action_has_a_runner_method():
    from simulators.scenarios import ACTIONS

    assert all(hasattr(ScenarioRunner, "_do_" + action) for action in ACTIONS)


def test_agent_and_feature_actions():
    clock = Clock()
    switch = small_switch(clock)
    runner = ScenarioRunner(switch, parse_scenario(
        "login 1001 A1 pw\nready 1001\nnotready 1001 lunch\nforward 1002 busy 1003\n"
        "dnd 1004 on\nacw 1001"), strict=True)
    runner.start()
    clock.advance(0)
    assert runner.errors == []
    assert switch.agent_state("1001").state == "workingAfterCall"
    assert switch.devices["1002"].forwards == {"forwardBusy": "1003"}
    assert switch.devices["1004"].dnd
