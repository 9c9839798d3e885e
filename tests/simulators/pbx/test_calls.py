"""The switch model alone: call flows, their event sequences, and call-ID changes."""

from __future__ import annotations

import pytest

from simulators.pbx import (
    InvalidCall,
    InvalidConnection,
    InvalidDevice,
    InvalidState,
    NoResources,
    NotForThisDevice,
)


def parties(switch, call_id):
    return dict(switch.snapshot_call(call_id))


def test_make_call_reports_initiation_origination_delivery_and_answer(switch, phones, recorder):
    call_id = switch.make_call("1001", "1002")
    assert recorder.kinds() == [
        ("service_initiated", "1001"), ("originated", "1001"), ("delivered", "1002"),
    ]
    assert parties(switch, call_id) == {"1001": "connected", "1002": "alerting"}
    phones.answer("1002")
    assert recorder.kinds() == [("established", "1002")]
    assert parties(switch, call_id) == {"1001": "connected", "1002": "connected"}
    assert call_id.isdigit()


def test_delivered_event_says_who_is_ringing_and_in_which_state(switch, recorder):
    switch.make_call("1001", "1002")
    delivered = recorder.last("delivered")
    assert (delivered.calling, delivered.called) == ("1001", "1002")
    assert delivered.state_of("1002") == "alerting"
    assert delivered.state_of("1001") == "connected"
    assert delivered.state_of("1009") == "null"


def test_inbound_call_seizes_a_trunk_and_releases_it_when_cleared(switch, phones, recorder):
    call_id = phones.call("+4930123456", "1001")
    delivered = recorder.last("delivered")
    assert delivered.calling == "+4930123456"
    assert ("8001", "connected") in delivered.parties
    assert switch.snapshot_device("8001") == [(call_id, "connected")]
    phones.answer("1001")
    recorder.kinds()
    phones.hangup("+4930123456")
    assert recorder.kinds() == [
        ("connection_cleared", "+4930123456"), ("connection_cleared", "1001"),
        ("call_cleared", None),
    ]
    assert switch.calls == {}
    assert switch.snapshot_device("8001") == []


def test_trunks_run_out(switch, phones):
    phones.call("+4930111", "1001")
    phones.call("+4930222", "1002")
    with pytest.raises(NoResources):
        phones.call("+4930333", "1003")


def test_a_transfer_joining_two_outside_parties_holds_and_frees_both_trunk_channels(
    switch, phones, recorder
):
    call_id = phones.call("+4930111", "1001")
    phones.answer("1001")
    consult_id = switch.consultation_call(call_id, "1001", "+4989222")
    phones.answer("+4989222")
    new_id = switch.transfer_call(call_id, consult_id, "1001")
    assert switch.calls[new_id].trunks == {"8001": "+4930111", "8002": "+4989222"}
    assert switch.snapshot_connections("8001") == [(new_id, "+4930111", "connected")]
    assert switch.snapshot_connections("8002") == [(new_id, "+4989222", "connected")]
    transferred = recorder.last("transferred")
    assert {("8001", "connected"), ("8002", "connected")} <= set(transferred.parties)
    phones.hangup("+4930111")
    assert switch.calls == {}
    assert [t for t in ("8001", "8002") if switch.devices[t].in_use] == []
    phones.call("+4930333", "1003")
    phones.call("+4930444", "1004")


def test_outgoing_call_reaches_the_network_and_the_far_end_answers_later(clock, switch, recorder):
    switch.external_answer_seconds = 4.0
    call_id = switch.make_call("1001", "030123456")
    assert recorder.kinds() == [
        ("service_initiated", "1001"), ("originated", "1001"),
        ("network_reached", "030123456"), ("delivered", "030123456"),
    ]
    clock.advance(4)
    assert recorder.kinds() == [("established", "030123456")]
    assert parties(switch, call_id) == {"1001": "connected", "030123456": "connected"}


def test_hold_and_retrieve(switch, phones, recorder):
    call_id = phones.call("1001", "1002")
    phones.answer("1002")
    recorder.kinds()
    phones.hold("1001")
    assert parties(switch, call_id)["1001"] == "hold"
    phones.retrieve("1001")
    assert recorder.kinds() == [("held", "1001"), ("retrieved", "1001")]
    assert parties(switch, call_id)["1001"] == "connected"


def consulting(switch, phones):
    """1001 talks to 1002, holds it, consults 1003 who answers."""
    first = phones.call("1001", "1002")
    phones.answer("1002")
    second = phones.consult("1001", "1003")
    phones.answer("1003")
    return first, second


def test_consultation_holds_the_first_call_and_makes_a_second(switch, phones, recorder):
    first, second = consulting(switch, phones)
    assert second != first
    assert [k for k in recorder.kinds() if k[0] in ("held", "service_initiated")][-2:] == [
        ("held", "1001"), ("service_initiated", "1001"),
    ]
    assert parties(switch, first) == {"1001": "hold", "1002": "connected"}
    assert parties(switch, second) == {"1001": "connected", "1003": "connected"}


def test_transfer_joins_the_others_in_a_new_call(switch, phones, recorder):
    first, second = consulting(switch, phones)
    recorder.kinds()
    result = phones.transfer("1001")
    assert result not in (first, second)
    assert recorder.kinds() == [("transferred", "1001")]
    assert set(switch.calls) == {result}
    assert parties(switch, result) == {"1002": "connected", "1003": "connected"}


def test_transferred_event_names_old_and_new_connections(switch, phones, recorder):
    first, second = consulting(switch, phones)
    result = phones.transfer("1001")
    event = recorder.last("transferred")
    assert event.call_id == result
    assert event.details["primary_old_call"] == first
    assert event.details["secondary_old_call"] == second
    assert event.details["to_device"] == "1003"
    assert sorted(event.details["connections"]) == [("1002", result, first), ("1003", result, second)]
    assert event.state_of("1001") == "null"


def test_transfer_while_the_consulted_party_still_rings(switch, phones):
    phones.call("1001", "1002")
    phones.answer("1002")
    phones.consult("1001", "1003")
    result = phones.transfer("1001")
    assert parties(switch, result) == {"1002": "connected", "1003": "alerting"}
    phones.answer("1003")
    assert parties(switch, result) == {"1002": "connected", "1003": "connected"}


def test_conference_keeps_the_active_call_and_ends_the_held_one(switch, phones, recorder):
    first, second = consulting(switch, phones)
    result = phones.conference("1001")
    assert result == second
    assert set(switch.calls) == {second}
    assert parties(switch, second) == {"1001": "connected", "1002": "connected",
                                       "1003": "connected"}
    event = recorder.last("conferenced")
    assert (event.details["primary_old_call"], event.details["secondary_old_call"]) == (
        first, second)
    assert ("1002", second, first) in event.details["connections"]
    assert not any(e.kind == "call_cleared" for e in recorder.events)


def test_a_conference_survives_one_party_leaving(switch, phones):
    _, second = consulting(switch, phones)
    phones.conference("1001")
    phones.hangup("1001")
    assert parties(switch, second) == {"1002": "connected", "1003": "connected"}


def test_alternate_swaps_held_and_active(switch, phones, recorder):
    first, second = consulting(switch, phones)
    recorder.kinds()
    phones.alternate("1001")
    assert recorder.kinds() == [("held", "1001"), ("retrieved", "1001")]
    assert parties(switch, first)["1001"] == "connected"
    assert parties(switch, second)["1001"] == "hold"


def test_reconnect_drops_the_consultation_and_retrieves(switch, phones, recorder):
    first, second = consulting(switch, phones)
    recorder.kinds()
    phones.reconnect("1001")
    assert recorder.kinds() == [
        ("connection_cleared", "1001"), ("connection_cleared", "1003"), ("call_cleared", None),
        ("retrieved", "1001"),
    ]
    assert set(switch.calls) == {first}


def test_deflect_moves_a_ringing_call_and_keeps_its_id(switch, phones, recorder):
    call_id = phones.call("+4930123", "1001")
    recorder.kinds()
    phones.deflect("1001", "1002")
    assert recorder.kinds() == [("diverted", "1001"), ("delivered", "1002")]
    assert parties(switch, call_id) == {"+4930123": "connected", "1002": "alerting"}
    assert recorder.events == []


def test_single_step_transfer_gives_a_new_call_id(switch, phones, recorder):
    call_id = phones.call("+4930123", "1001")
    phones.answer("1001")
    recorder.kinds()
    result = phones.single_step_transfer("1001", "1002")
    assert result != call_id
    assert recorder.kinds() == [("transferred", "1001"), ("delivered", "1002")]
    assert parties(switch, result) == {"+4930123": "connected", "1002": "alerting"}
    assert call_id not in switch.calls


@pytest.mark.parametrize("participation", ["silent", "whisper", "active"])
def test_single_step_conference_adds_a_supervisor(switch, phones, recorder, participation):
    call_id = phones.call("+4930123", "1001")
    phones.answer("1001")
    result = switch.single_step_conference(call_id, "1009", participation)
    assert result == call_id
    assert parties(switch, call_id)["1009"] == "connected"
    assert switch.calls[call_id].connections["1009"].participation == participation
    assert recorder.last("conferenced").device == "1009"


def test_digits_are_reported(switch, phones, recorder):
    phones.call("1001", "1002")
    phones.answer("1002")
    phones.digits("1001", "12#")
    assert recorder.last("digits_dialed").details == {"digits": "12#"}


def test_clear_call_drops_everyone(switch, phones, recorder):
    call_id = phones.call("1001", "1002")
    recorder.kinds()
    switch.clear_call(call_id)
    assert recorder.kinds() == [
        ("connection_cleared", "1001"), ("connection_cleared", "1002"), ("call_cleared", None),
    ]
    assert switch.calls == {}
    assert recorder.events == []


def test_call_cleared_reaches_the_devices_that_were_in_the_call(switch, phones, recorder):
    phones.call("1001", "1002")
    phones.hangup("1001")
    assert set(recorder.last("call_cleared").devices) == {"1001", "1002"}


def test_busy_extension_fails_the_call(clock, switch, phones, recorder):
    phones.call("1002", "1003")
    recorder.kinds()
    call_id = phones.call("+4930123", "1002")
    assert recorder.kinds() == [("failed", "1002")]
    assert recorder.events == []
    assert parties(switch, call_id)["1002"] == "fail"
    clock.advance(switch.busy_release_seconds)
    assert call_id not in switch.calls


def test_do_not_disturb_refuses_calls(switch, phones, recorder):
    switch.set_do_not_disturb("1002", True)
    assert recorder.kinds() == [("do_not_disturb", "1002")]
    phones.call("1001", "1002")
    failed = recorder.last("failed")
    assert failed.cause == "doNotDisturb"


def test_forward_immediate_diverts_before_ringing(switch, phones, recorder):
    switch.set_forwarding("1002", "forwardImmediate", "1003", True)
    assert recorder.last("forwarding").details == {"type": "forwardImmediate", "on": True,
                                                   "to": "1003"}
    recorder.kinds()
    call_id = phones.call("1001", "1002")
    assert recorder.kinds()[-2:] == [("diverted", "1002"), ("delivered", "1003")]
    assert parties(switch, call_id) == {"1001": "connected", "1003": "alerting"}


def test_forward_on_busy_and_on_no_answer(clock, switch, phones):
    switch.set_forwarding("1002", "forwardBusy", "1004", True)
    switch.set_forwarding("1003", "forwardNoAns", "1005", True)
    phones.call("1006", "1002")
    busy_call = phones.call("1001", "1002")
    assert "1004" in parties(switch, busy_call)
    late = phones.call("+4930123", "1003")
    clock.advance(switch.devices["1003"].no_answer_seconds)
    assert parties(switch, late) == {"+4930123": "connected", "1005": "alerting"}


def test_forwarding_off(switch, phones):
    switch.set_forwarding("1002", "forwardImmediate", "1003", True)
    switch.set_forwarding("1002", "forwardImmediate", None, False)
    call_id = phones.call("1001", "1002")
    assert "1002" in parties(switch, call_id)


def test_auto_answer_after_the_ring_delay(clock, switch, phones):
    switch.devices["1002"].auto_answer = 2.0
    call_id = phones.call("1001", "1002")
    clock.advance(1.9)
    assert parties(switch, call_id)["1002"] == "alerting"
    clock.advance(0.1)
    assert parties(switch, call_id)["1002"] == "connected"


def test_call_ids_are_never_reused(switch, phones):
    seen = set()
    for _ in range(5):
        call_id = phones.call("1001", "1002")
        assert call_id not in seen
        seen.add(call_id)
        phones.hangup("1001")


@pytest.mark.parametrize(
    ("action", "error"),
    [
        (lambda s: s.make_call("1001", "42"), InvalidDevice),
        (lambda s: s.make_call("7777", "1002"), InvalidDevice),
        (lambda s: s.make_call("6000", "1002"), NotForThisDevice),
        (lambda s: s.answer_call("99", "1001"), InvalidCall),
        (lambda s: s.answer_call(s.make_call("1001", "1002"), "1003"), InvalidConnection),
        (lambda s: s.answer_call(s.make_call("1001", "1002"), "1001"), InvalidState),
        (lambda s: s.retrieve_call(s.make_call("1001", "1002"), "1001"), InvalidState),
        (lambda s: s.hold_call(s.inbound_call("+4930123", "6000"), "6000"), InvalidState),
        (lambda s: s.inbound_call("1001", "1002"), InvalidDevice),
        (lambda s: s.set_forwarding("1001", "forwardSometimes", "1002", True), Exception),
    ],
)
def test_invalid_requests_are_refused_with_their_ecma_error(switch, action, error):
    with pytest.raises(error) as info:
        action(switch)
    assert info.value.category and info.value.value


def test_errors_carry_ecma_categories():
    assert (InvalidCall().category, InvalidCall().value) == ("operation", "invalidCallID")
    assert (InvalidState().category, InvalidState().value) == (
        "stateIncompatibility", "invalidObjectState")


def test_refused_requests_change_nothing(switch, phones, recorder):
    call_id = phones.call("1001", "1002")
    before = switch.snapshot()
    recorder.kinds()
    with pytest.raises(InvalidState):
        switch.hold_call(call_id, "1002")
    with pytest.raises(InvalidDevice):
        switch.deflect_call(call_id, "1002", "42")
    assert switch.snapshot() == before
    assert recorder.events == []


def test_snapshot_is_the_truth_about_every_call(switch, phones):
    call_id = phones.call("+4930123", "1001")
    assert switch.snapshot()["calls"] == {
        call_id: {"call_id": call_id, "calling": "+4930123", "called": "1001",
                  "parties": [{"device": "+4930123", "state": "connected"},
                              {"device": "1001", "state": "alerting"}]},
    }


def test_close_cancels_pending_timers(clock, switch, phones):
    switch.devices["1002"].auto_answer = 5.0
    phones.call("1001", "1002")
    switch.close()
    assert clock.getDelayedCalls() == []


def test_a_listening_supervisor_does_not_keep_the_call_up(switch, phones):
    call_id = phones.call("+4930123", "1001")
    phones.answer("1001")
    phones.join("1009", "1001", "silent")
    phones.hangup("1001")
    assert call_id not in switch.calls
    assert switch.snapshot_device("1009") == []


def test_out_of_service_telephones_fail_calls_until_back(switch, phones, recorder):
    switch.set_in_service("1002", False)
    assert recorder.kinds() == [("out_of_service", "1002")]
    phones.call("1001", "1002")
    assert recorder.last("failed").cause == "blocked"
    phones.hangup("1001")
    switch.set_in_service("1002", True)
    assert recorder.last("back_in_service").device == "1002"
    call_id = phones.call("1001", "1002")
    assert dict(switch.snapshot_call(call_id))["1002"] == "alerting"


def test_transfer_to_a_party_already_on_the_held_call_leaves_one_leg(switch, phones):
    phones.call("1001", "1002")
    phones.answer("1002")
    phones.consult("1001", "1002")
    result = phones.transfer("1001")
    assert result not in switch.calls
    assert switch.devices["1002"].connections == []
    assert switch.calls == {}
