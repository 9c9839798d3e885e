"""Plain call flows: what the model makes of the events a switch sends for one call."""

from __future__ import annotations

from cti.events import (
    ALERTING,
    CALL_CLEARED,
    CALL_INFORMATION,
    CONNECTED,
    CONNECTION_CLEARED,
    DELIVERED,
    DIGITS_DIALED,
    DIVERTED,
    ESTABLISHED,
    FAIL,
    FAILED,
    HELD,
    HOLD,
    INITIATED,
    NETWORK_REACHED,
    NULL,
    ORIGINATED,
    QUEUED,
    QUEUED_STATE,
    RETRIEVED,
    SERVICE_INITIATED,
    Event,
    iso_time,
)

T0 = 1_700_000_000.0  # the test switch's clock starts here (conftest.Switch)


def parties(call):
    return {c.device: c.state for c in call.connections.values()}


def test_inbound_call_rings_is_answered_and_ends_in_history(model, switch, changes):
    call = switch.send(DELIVERED, "7", "1001", calling="5551234", called="1001",
                       network_called="+498912345")
    assert call is model.find_call("7")
    assert parties(call) == {"5551234": CONNECTED, "1001": ALERTING}
    assert call.state == ALERTING
    assert (call.calling, call.called, call.ani, call.dnis) == (
        "5551234", "1001", "5551234", "+498912345")

    switch.send(ESTABLISHED, "7", "1001", calling="5551234", called="1001")
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED}
    assert call.state == CONNECTED
    assert call.answered == T0 + 2 and call.answered_by == "1001"
    assert [c.call_id for c in model.calls_at("1001")] == ["7"]

    switch.send(CONNECTION_CLEARED, "7", "5551234")
    assert parties(call) == {"1001": CONNECTED}
    switch.send(CONNECTION_CLEARED, "7", "1001")
    switch.send(CALL_CLEARED, "7", cause="normalClearing")

    assert model.find_call("7") is None
    assert model.calls_at("1001") == []
    assert "5551234" not in model.devices, "far ends are forgotten with their last call"
    record = model.history.find("7")
    assert record.parties == ("5551234", "1001")
    assert (record.started, record.answered, record.ended) == (T0 + 1, T0 + 2, T0 + 4)
    assert record.answered_by == "1001"
    assert changes == [("created", "7"), ("updated", "7"), ("updated", "7"), ("ended", "7")]


def test_call_cleared_ends_a_call_that_still_has_connections(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(CALL_CLEARED, "7", cause="normalClearing")
    assert model.calls == {} and model.devices.get("1001") is None
    record = model.history.find("7")
    assert record.cause == "normalClearing"
    assert [s.state for s in record.steps][-2:] == [NULL, NULL]


def test_outbound_make_call_from_dialling_to_answer(model, switch):
    call = switch.send(SERVICE_INITIATED, "9", "1001")
    assert parties(call) == {"1001": INITIATED} and call.state == INITIATED
    switch.send(ORIGINATED, "9", "1001", calling="1001", called="0891234567")
    assert parties(call) == {"1001": CONNECTED}
    switch.send(NETWORK_REACHED, "9", "0891234567", calling="1001", called="0891234567")
    assert parties(call) == {"1001": CONNECTED}, "no state reported, none invented"
    switch.send(DELIVERED, "9", "0891234567", calling="1001", called="0891234567")
    assert parties(call) == {"1001": CONNECTED, "0891234567": ALERTING}
    switch.send(ESTABLISHED, "9", "0891234567", calling="1001", called="0891234567")
    assert call.state == CONNECTED and call.answered_by == "0891234567"
    assert (call.ani, call.dnis) == ("1001", "0891234567")


def test_network_reached_takes_the_state_the_switch_reports(model, switch):
    switch.send(ORIGINATED, "9", "1001", calling="1001", called="0891234567")
    call = switch.send(NETWORK_REACHED, "9", "0891234567", state=CONNECTED)
    assert parties(call) == {"1001": CONNECTED, "0891234567": CONNECTED}


def test_hold_and_retrieve(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(HELD, "7", "1001")
    assert parties(call) == {"5551234": CONNECTED, "1001": HOLD}
    assert call.state == HOLD
    switch.send(RETRIEVED, "7", "1001")
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED}
    assert [(s.event, s.state) for s in call.steps if s.device == "1001"] == [
        (DELIVERED, ALERTING), (ESTABLISHED, CONNECTED), (HELD, HOLD), (RETRIEVED, CONNECTED)]


def test_queued_then_diverted_to_an_agent(model, switch):
    call = switch.send(QUEUED, "7", "800", calling="5551234", called="800")
    assert parties(call) == {"5551234": CONNECTED, "800": QUEUED_STATE}
    assert call.state == QUEUED_STATE and call.queue == "800"
    switch.send(DIVERTED, "7", "800", calling="5551234", called="800")
    assert parties(call) == {"5551234": CONNECTED}
    assert model.find_call("7") is call, "a diverted call lives on until its destination rings"
    switch.send(DELIVERED, "7", "1001", calling="5551234", called="800", last_redirection="800")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234", called="800")
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED}
    assert call.dnis == "800" and call.answered_by == "1001"
    assert list(call.parties) == ["5551234", "800", "1001"]


def test_deflect_moves_the_ringing_call_to_another_device(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", called="1001")
    switch.send(DIVERTED, "7", "1001")
    call = switch.send(DELIVERED, "7", "1002", calling="5551234", called="1001",
                       last_redirection="1001")
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}
    assert model.calls_at("1001") == []
    assert call.called == "1001", "the number the caller dialled stays the call's called number"


def test_failed_call_to_a_busy_number(model, switch):
    switch.send(ORIGINATED, "9", "1001", calling="1001", called="1002")
    call = switch.send(FAILED, "9", "1002", calling="1001", called="1002", cause="busy")
    assert parties(call) == {"1001": CONNECTED, "1002": FAIL}
    assert call.state == FAIL
    switch.send(CONNECTION_CLEARED, "9", "1001")
    switch.send(CONNECTION_CLEARED, "9", "1002")
    assert model.find_call("9") is None and model.history.find("9").answered is None


def test_monitoring_started_mid_call_established_first(model, switch, changes):
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234", called="1001")
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED}
    assert call.started == T0 + 1 and call.answered == T0 + 1
    assert changes == [("created", "7")]


def test_events_about_calls_the_model_never_saw_are_ignored_quietly(model, switch):
    for name in (CONNECTION_CLEARED, CALL_CLEARED, DIVERTED, DIGITS_DIALED, CALL_INFORMATION):
        assert switch.send(name, "404", "1001") is None
    assert model.calls == {} and model.history.total == 0
    assert model.ignored == 5


def test_malformed_and_unknown_events_never_raise(model):
    for event in (
        Event(DELIVERED, T0),                              # no call ID
        Event(ESTABLISHED, T0, call_id="7"),               # no device
        Event("private_vendor_thing", T0, call_id="7", device="1001"),
        Event(HELD, T0, call_id="8", device="1001", state="weird"),
        Event(NETWORK_REACHED, T0, call_id="9", device="1001", state="weird"),
    ):
        model.apply(event)
    assert set(model.calls) == {"7", "8", "9"}
    assert parties(model.calls["7"]) == {}
    assert parties(model.calls["8"]) == {"1001": HOLD}, "the event fixes the state, not the field"
    assert parties(model.calls["9"]) == {}
    assert model.ignored == 2 and model.events == 5


def test_late_delivered_does_not_unanswer_a_call(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    assert parties(call)["1001"] == CONNECTED


def test_a_device_that_left_is_not_brought_back_by_the_calling_number(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(CONNECTION_CLEARED, "7", "5551234")
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    assert parties(call) == {"1001": CONNECTED}


def test_digits_and_call_information_are_kept_on_the_call(model, switch):
    switch.send(ORIGINATED, "9", "1001", calling="1001", called="0800")
    switch.send(DIGITS_DIALED, "9", "1001", digits="0800123")
    call = switch.send(CALL_INFORMATION, "9", "1001", data={"account": "42"})
    assert call.digits == {"1001": "0800123"}
    assert call.data == {"account": "42"}


def test_user_data_from_the_switch_merges_into_the_call(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", data={"correlator_data": "abc"})
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234", data={"user_data": "x"})
    assert call.data == {"correlator_data": "abc", "user_data": "x"}


def test_event_details_in_the_data_field_are_not_call_data(model, switch):
    call = switch.send(QUEUED, "7", "800", calling="5551234",
                       data={"number_queued": "3", "call_linkage": {"globalCallID": "G1"}})
    switch.send(DIVERTED, "7", "800", data={"new_destination": "1001"})
    assert call.data == {"call_linkage": {"globalCallID": "G1"}}


def test_call_json_view_has_the_api_fields(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", called="800")
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234", called="800")
    model.attach_data("7", {"order": 17})
    view = call.to_dict()
    assert view["call_id"] == "7" and view["state"] == CONNECTED
    assert view["parties"] == [{"device": "5551234", "state": CONNECTED},
                               {"device": "1001", "state": CONNECTED}]
    assert (view["calling"], view["called"], view["ani"], view["dnis"]) == (
        "5551234", "800", "5551234", "800")
    assert view["data"] == {"order": 17}
    assert view["aliases"] == []
    assert view["started"] == iso_time(T0 + 1) and view["answered"] == iso_time(T0 + 2)
    assert view["ended"] is None
    view["data"]["order"] = 99
    assert call.data == {"order": 17}, "the view is a copy"


def test_every_event_name_of_the_contract_is_handled_or_deliberately_ignored(model):
    import cti.events as vocabulary
    from cti.model import IGNORED_EVENTS

    names = {
        value for key, value in vars(vocabulary).items()
        if key.isupper() and isinstance(value, str) and key not in {
            "NULL", "INITIATED", "ALERTING", "CONNECTED", "HOLD", "QUEUED_STATE", "FAIL"}
    }
    assert names >= vocabulary.CALL_EVENTS | vocabulary.AGENT_EVENTS | vocabulary.DEVICE_EVENTS
    assert names - model.handled_events == IGNORED_EVENTS
    assert not model.handled_events & IGNORED_EVENTS


def test_ani_prefers_the_outside_caller_when_the_consultation_was_seen_first():
    from cti.events import TRANSFERRED, Party
    from cti.model import Model

    model = Model(is_internal=lambda number: len(number) == 4)
    model.apply(Event(ESTABLISHED, T0 + 1, "B", "1002", calling="1001", called="1002"))
    model.apply(Event(ESTABLISHED, T0 + 2, "A", "1001", calling="5551234", called="800"))
    call = model.apply(Event(TRANSFERRED, T0 + 3, "C", "1001", old_call_ids=("A", "B"),
                             parties=(Party("C", "5551234"), Party("C", "1002"))))
    assert (call.ani, call.dnis) == ("5551234", "800")
    assert call.calling == "1001" and call.started == T0 + 1


def test_ani_upgrades_from_an_inside_number_to_the_outside_one(model):
    model.mark_monitored(["1001"])
    model.apply(Event(DELIVERED, T0, "7", "1002", calling="1001"))
    call = model.apply(Event(ESTABLISHED, T0 + 1, "7", "1002", calling="1001",
                             network_calling="+4989555"))
    assert call.ani == "+4989555" and call.calling == "1001"
