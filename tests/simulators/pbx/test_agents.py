"""Agents at extensions: log on with ID and password, ready, not ready, after-call work."""

from __future__ import annotations

import pytest

from simulators.pbx import AgentRefused, InvalidState, Switch


def test_agent_life_cycle_events(switch, recorder):
    switch.set_agent_state("1001", "loggedOn", "A1", group="sales")
    switch.set_agent_state("1001", "ready")
    switch.set_agent_state("1001", "notReady", reason="lunch")
    switch.set_agent_state("1001", "workingAfterCall")
    switch.set_agent_state("1001", "loggedOff")
    assert recorder.kinds() == [
        ("agent_logged_on", "1001"), ("agent_ready", "1001"), ("agent_not_ready", "1001"),
        ("agent_working_after_call", "1001"), ("agent_logged_off", "1001"),
    ]
    assert switch.agent_state("1001") is None


def test_not_ready_keeps_its_reason(switch, recorder):
    switch.set_agent_state("1001", "loggedOn", "A1")
    switch.set_agent_state("1001", "notReady", reason="7")
    assert switch.agent_state("1001").reason == "7"
    assert recorder.last("agent_not_ready").details["reason"] == "7"
    assert switch.snapshot()["agents"] == {"1001": {"agent_id": "A1", "state": "notReady",
                                                    "reason": "7"}}


def test_known_agents_need_their_password(clock):
    pbx = Switch(clock, agents={"A1": "secret"})
    pbx.add_extensions(["1001"])
    with pytest.raises(AgentRefused):
        pbx.set_agent_state("1001", "loggedOn", "A1", password="wrong")
    with pytest.raises(AgentRefused):
        pbx.set_agent_state("1001", "loggedOn", "B2", password="secret")
    pbx.set_agent_state("1001", "loggedOn", "A1", password="secret")
    assert pbx.agent_state("1001").agent_id == "A1"


def test_one_agent_cannot_sit_at_two_extensions(switch):
    switch.set_agent_state("1001", "loggedOn", "A1")
    with pytest.raises(InvalidState):
        switch.set_agent_state("1002", "loggedOn", "A1")


def test_state_changes_need_a_logged_on_agent(switch):
    with pytest.raises(InvalidState):
        switch.set_agent_state("1001", "ready")


def test_ready_agent_is_busy_on_a_call_and_ready_again_after(switch, phones, recorder):
    switch.set_agent_state("1001", "loggedOn", "A1")
    switch.set_agent_state("1001", "ready")
    recorder.kinds()
    phones.call("+4930111", "1001")
    phones.answer("1001")
    assert ("agent_busy", "1001") in recorder.kinds()
    phones.hangup("+4930111")
    assert recorder.kinds()[-1] == ("agent_ready", "1001")


def test_wrap_up_time_after_a_call(clock, switch, phones, recorder):
    switch.wrap_up_seconds = 30
    switch.set_agent_state("1001", "loggedOn", "A1")
    switch.set_agent_state("1001", "ready")
    phones.call("+4930111", "1001")
    phones.answer("1001")
    phones.hangup("1001")
    assert switch.agent_state("1001").state == "workingAfterCall"
    clock.advance(30)
    assert switch.agent_state("1001").state == "ready"
    assert recorder.kinds()[-2:] == [("agent_working_after_call", "1001"),
                                     ("agent_ready", "1001")]
