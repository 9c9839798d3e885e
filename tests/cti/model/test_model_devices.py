"""Agent state and device features as the switch reports them."""

from __future__ import annotations

from cti.events import (
    AGENT_BUSY,
    AGENT_LOGGED_OFF,
    AGENT_LOGGED_ON,
    AGENT_NOT_READY,
    AGENT_READY,
    AGENT_WORKING_AFTER_CALL,
    BACK_IN_SERVICE,
    CONNECTED,
    DELIVERED,
    DO_NOT_DISTURB,
    ESTABLISHED,
    FORWARDING,
    OUT_OF_SERVICE,
    iso_time,
)

T0 = 1_700_000_000.0  # the test switch's clock starts here (conftest.Switch)


def test_agent_goes_through_its_states(model, switch):
    states = []
    model.add_device_listener(
        lambda kind, dev: states.append((kind, dev.agent.state if dev.agent else None)))
    switch.send(AGENT_LOGGED_ON, None, "1001", agent_id="A17")
    switch.send(AGENT_NOT_READY, None, "1001", agent_id="A17", reason="lunch")
    switch.send(AGENT_READY, None, "1001", agent_id="A17")
    switch.send(AGENT_BUSY, None, "1001", agent_id="A17")
    switch.send(AGENT_WORKING_AFTER_CALL, None, "1001", agent_id="A17")
    switch.send(AGENT_LOGGED_OFF, None, "1001", agent_id="A17")
    assert states == [("agent", s) for s in (
        "logged_on", "not_ready", "ready", "busy", "working_after_call", "logged_off")]
    agent = model.agent("A17")
    assert (agent.device, agent.state, agent.reason, agent.since) == (
        "1001", "logged_off", None, T0 + 6)


def test_not_ready_reason_and_since(model, switch):
    switch.send(AGENT_NOT_READY, None, "1001", agent_id="A17", reason="lunch")
    switch.send(AGENT_NOT_READY, None, "1001", agent_id="A17", reason="lunch", on=("1001",))
    assert model.agent("A17").since == T0 + 1, "a repeat does not restart the clock"
    switch.send(AGENT_NOT_READY, None, "1001", agent_id="A17", reason="meeting")
    agent = model.agent("A17")
    assert (agent.reason, agent.since) == ("meeting", T0 + 3)
    assert agent.to_dict() == {"agent_id": "A17", "device": "1001", "state": "not_ready",
                               "reason": "meeting", "since": iso_time(T0 + 3)}


def test_repeated_agent_events_notify_once(model, switch):
    seen = []
    model.add_device_listener(lambda kind, dev: seen.append(kind))
    switch.send(AGENT_READY, None, "1001", agent_id="A17", on=("1001", "1001", "800"))
    assert seen == ["agent"]


def test_agent_event_without_a_device_uses_the_agents_last_device(model, switch):
    switch.send(AGENT_LOGGED_ON, None, "1001", agent_id="A17")
    switch.send(AGENT_READY, None, None, agent_id="A17")
    assert model.device("1001").agent.state == "ready"
    assert switch.send(AGENT_READY, None, None, agent_id="nobody") is None
    assert model.ignored == 1


def test_agent_moving_to_another_seat_leaves_the_old_one(model, switch):
    switch.send(AGENT_LOGGED_ON, None, "1001", agent_id="A17")
    switch.send(AGENT_LOGGED_ON, None, "1002", agent_id="A17")
    assert model.agent("A17").device == "1002"
    assert model.device("1001") is None or model.device("1001").agent is None


def test_agent_event_without_agent_id_keeps_the_known_one(model, switch):
    switch.send(AGENT_LOGGED_ON, None, "1001", agent_id="A17")
    switch.send(AGENT_READY, None, "1001")
    assert model.agent("A17").state == "ready"


def test_do_not_disturb_on_and_off(model, switch):
    switch.send(DO_NOT_DISTURB, None, "1001", data={"do_not_disturb": "true"})
    assert model.device("1001").do_not_disturb
    switch.send(DO_NOT_DISTURB, None, "1001", data={"on": False})
    assert model.device("1001") is None, "a device with nothing to remember is forgotten"
    switch.send(DO_NOT_DISTURB, None, "1001", state="on")
    assert model.device("1001").do_not_disturb
    assert switch.send(DO_NOT_DISTURB, None, "1001", data={"do_not_disturb": "maybe"}) is None
    assert model.device("1001").do_not_disturb and model.ignored == 1, "unknown: ignored"


def test_forwarding_by_type_as_the_csta_codec_reports_it(model, switch):
    switch.send(FORWARDING, None, "1001", data={
        "forward_status": "true", "forwarding_type": "forwardImmediate", "forward_to": "1002"})
    switch.send(FORWARDING, None, "1001", data={
        "forward_status": "true", "forwarding_type": "forwardNoAns", "forward_to": "8000"})
    dev = model.device("1001")
    assert dev.forwarding == {"immediate": "1002", "no_answer": "8000"}
    switch.send(FORWARDING, None, "1001", data={
        "forward_status": "false", "forwarding_type": "forwardImmediate"})
    assert dev.forwarding == {"no_answer": "8000"}
    assert dev.to_dict()["forwarding"] == [{"type": "no_answer", "to": "8000"}]


def test_forwarding_as_the_simulator_reports_it(model, switch):
    switch.send(FORWARDING, None, "1001", data={"type": "forwardBusy", "on": True, "to": "1009"})
    assert model.device("1001").forwarding == {"busy": "1009"}
    switch.send(FORWARDING, None, "1001", data={"type": "forwardBusy", "on": False, "to": None})
    assert model.device("1001") is None


def test_out_of_service_and_back(model, switch):
    seen = []
    model.add_device_listener(lambda kind, dev: seen.append((kind, dev.in_service)))
    switch.send(OUT_OF_SERVICE, None, "1001")
    assert not model.device("1001").in_service
    switch.send(OUT_OF_SERVICE, None, "1001")
    switch.send(BACK_IN_SERVICE, None, "1001")
    assert seen == [("device", False), ("device", True)]


def test_device_json_view(model, switch):
    switch.send(AGENT_READY, None, "1001", agent_id="A17", on=("1001",))
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    view = model.device("1001").to_dict()
    assert view["device"] == "1001" and view["monitored"] is True
    assert view["connections"] == [{"call_id": "7", "state": CONNECTED}]
    assert view["agent"]["agent_id"] == "A17" and view["agent"]["state"] == "ready"
    assert (view["do_not_disturb"], view["forwarding"], view["in_service"]) == (False, [], True)
