"""Agent states and device features (do not disturb, forwarding) end to end over CSTA.

The switch's truth (`Switch.snapshot()["agents"]` / `["features"]`) is compared with what the
model holds per device, in the model's own vocabulary.
"""

from __future__ import annotations

import pytest_twisted

from cti import events as ev
from tests.e2e.csta_rig import CALLER

AGENT_STATES = {"ready": "ready", "notReady": "not_ready", "busy": "busy",
                "workingAfterCall": "working_after_call"}
FORWARDING_TYPES = {"forwardImmediate": "immediate", "forwardBusy": "busy",
                    "forwardNoAns": "no_answer"}


def agents_truth(rig):
    return {device: (agent["agent_id"], AGENT_STATES[agent["state"]], agent["reason"])
            for device, agent in rig.switch.snapshot()["agents"].items()}


def agents_belief(rig):
    return {device: (dev.agent.agent_id, dev.agent.state, dev.agent.reason)
            for device, dev in rig.model.devices.items()
            if dev.agent is not None and dev.agent.state != "logged_off"}


def features_truth(rig):
    return {device: (feature["dnd"], {FORWARDING_TYPES[kind]: to
                                      for kind, to in feature["forwards"].items()})
            for device, feature in rig.switch.snapshot()["features"].items()}


def features_belief(rig):
    return {device: (dev.do_not_disturb, dict(dev.forwarding))
            for device, dev in rig.model.devices.items()
            if dev.do_not_disturb or dev.forwarding}


def devices_agree(rig):
    return rig.wait_until(
        lambda: (agents_belief(rig), features_belief(rig)) == (agents_truth(rig),
                                                                features_truth(rig)),
        "the model's agents and features to be the switch's",
    )


@pytest_twisted.inlineCallbacks
def test_agent_states_follow_the_switch_through_a_call(make_rig):
    rig = yield make_rig()
    rig.switch.wrap_up_seconds = 0.2

    yield rig.driver.set_agent_state("1004", "logged_on", agent_id="A4", group="sales")
    yield rig.wait_until(lambda: rig.model.agent("A4") is not None, "the agent to log on")
    assert rig.model.agent("A4").device == "1004"
    yield rig.driver.set_agent_state("1004", "not_ready", reason="7")
    yield devices_agree(rig)
    assert agents_belief(rig) == {"1004": ("A4", "not_ready", "7")}
    yield rig.driver.set_agent_state("1004", "ready")
    yield devices_agree(rig)

    call_id = rig.phones.call(CALLER, "1004")
    yield rig.driver.answer_call(call_id, "1004")
    yield devices_agree(rig)
    assert agents_belief(rig) == {"1004": ("A4", "busy", None)}
    rig.phones.hangup(CALLER)
    yield rig.wait_until(lambda: ev.AGENT_WORKING_AFTER_CALL in rig.names(), "wrap-up")
    yield rig.wait_until(lambda: agents_truth(rig)["1004"][1] == "ready", "wrap-up to end")
    yield devices_agree(rig)
    assert rig.model.agent("A4").state == "ready"

    yield rig.driver.set_agent_state("1004", "logged_off")
    yield devices_agree(rig)
    assert agents_truth(rig) == {}


@pytest_twisted.inlineCallbacks
def test_do_not_disturb_and_forwarding_follow_the_switch(make_rig):
    rig = yield make_rig()

    yield rig.driver.set_do_not_disturb("1003", True)
    yield rig.driver.set_forwarding("1002", True, "1005", "immediate")
    yield rig.driver.set_forwarding("1002", True, "1001", "busy")
    yield devices_agree(rig)
    assert features_belief(rig) == {"1003": (True, {}),
                                    "1002": (False, {"immediate": "1005", "busy": "1001"})}

    call_id = rig.phones.call(CALLER, "1002")
    yield rig.agree()
    assert rig.truth() == {call_id: {CALLER: "connected", "1005": "alerting"}}

    yield rig.driver.set_forwarding("1002", False, kind="immediate")
    yield rig.driver.set_do_not_disturb("1003", False)
    yield devices_agree(rig)
    assert features_belief(rig) == {"1002": (False, {"busy": "1001"})}


@pytest_twisted.inlineCallbacks
def test_a_freshly_logged_on_agent_has_the_switchs_state(make_rig):
    rig = yield make_rig()
    yield rig.driver.set_agent_state("1004", "logged_on", agent_id="A4")
    yield rig.wait_until(lambda: rig.model.agent("A4") is not None, "the agent to log on")
    assert agents_belief(rig) == agents_truth(rig) == {"1004": ("A4", "not_ready", None)}


@pytest_twisted.inlineCallbacks
def test_agent_and_feature_changes_made_while_the_link_was_down_are_resynchronised(make_rig):
    rig = yield make_rig()
    yield rig.driver.set_agent_state("1004", "logged_on", agent_id="A4")
    yield rig.driver.set_agent_state("1004", "ready")
    yield rig.driver.set_do_not_disturb("1003", True)
    yield devices_agree(rig)

    yield rig.stop_listening()
    rig.switch.set_agent_state("1004", "notReady", reason="7")
    rig.switch.set_do_not_disturb("1003", False)
    mark = len(rig.events)
    rig.listen()
    yield rig.driver.ready()
    yield rig.wait_until(lambda: rig.names(mark).count(ev.SNAPSHOT_DEVICE) >= len(rig.monitored),
                         "a snapshot of every device after the reconnect")
    assert (agents_belief(rig), features_belief(rig)) == (agents_truth(rig), features_truth(rig))
