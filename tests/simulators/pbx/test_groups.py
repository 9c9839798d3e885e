"""Hunt groups, ACD queue devices and routing through an application, with task.Clock."""

from __future__ import annotations

import pytest

from simulators.pbx import SwitchError


def ringing(switch, call_id):
    return sorted(d for d, s in switch.snapshot_call(call_id) if s == "alerting")


@pytest.fixture
def hunt(switch):
    switch.add_pilot("5000", ["1001", "1002", "1003"], "hunt", ring_seconds=10)
    return switch


def test_hunt_group_rings_members_in_turn(hunt, phones):
    first = phones.call("+4930111", "5000")
    assert ringing(hunt, first) == ["1001"]
    second = phones.call("+4930222", "5000")
    assert ringing(hunt, second) == ["1002"]
    phones.hangup("+4930111")
    third = phones.call("+4930111", "5000")
    assert ringing(hunt, third) == ["1003"]


def test_hunt_moves_on_when_a_member_does_not_answer(clock, hunt, phones, recorder):
    call_id = phones.call("+4930111", "5000")
    recorder.kinds()
    clock.advance(10)
    assert ringing(hunt, call_id) == ["1002"]
    assert recorder.kinds() == [
        ("diverted", "1001"), ("queued", "5000"), ("diverted", "5000"), ("delivered", "1002"),
    ]


def test_delivery_from_a_pilot_names_the_pilot(hunt, phones, recorder):
    phones.call("+4930111", "5000")
    delivered = recorder.last("delivered")
    assert (delivered.called, delivered.last_redirection) == ("5000", "5000")


def test_linear_always_starts_at_the_first_free_member(switch, phones):
    switch.add_pilot("5001", ["1004", "1005"], "linear")
    first = phones.call("+4930111", "5001")
    assert ringing(switch, first) == ["1004"]
    phones.hangup("+4930111")
    second = phones.call("+4930222", "5001")
    assert ringing(switch, second) == ["1004"]


def test_ring_all_rings_everyone_and_the_first_answer_wins(switch, phones, recorder):
    switch.add_pilot("5002", ["1004", "1005", "1006"], "ring-all")
    call_id = phones.call("+4930111", "5002")
    assert ringing(switch, call_id) == ["1004", "1005", "1006"]
    recorder.kinds()
    phones.answer("1005")
    assert dict(switch.snapshot_call(call_id)) == {"+4930111": "connected", "1005": "connected"}
    assert sorted(recorder.kinds()) == [
        ("connection_cleared", "1004"), ("connection_cleared", "1006"), ("established", "1005"),
    ]


def test_calls_wait_at_the_pilot_until_a_member_is_free(hunt, phones):
    for number in ("1001", "1002", "1003"):
        phones.call(number, "1009")
    waiting = phones.call("+4930111", "5000")
    assert hunt.snapshot_device("5000") == [(waiting, "queued")]
    phones.hangup("1002")
    assert ringing(hunt, waiting) == ["1002"]
    assert hunt.snapshot_device("5000") == []


def test_dnd_members_are_skipped(hunt, phones):
    hunt.set_do_not_disturb("1001", True)
    call_id = phones.call("+4930111", "5000")
    assert ringing(hunt, call_id) == ["1002"]


def test_agents_must_be_ready_to_get_group_calls(hunt, phones):
    hunt.set_agent_state("1001", "loggedOn", "A1")
    call_id = phones.call("+4930111", "5000")
    assert ringing(hunt, call_id) == ["1002"]


def test_acd_queue_parks_calls_until_the_application_takes_them(switch, phones, recorder):
    call_id = phones.call("+4930111", "6000")
    queued = recorder.last("queued")
    assert (queued.device, queued.details["queue_count"]) == ("6000", 1)
    assert switch.snapshot_device("6000") == [(call_id, "queued")]
    switch.deflect_call(call_id, "6000", "1001")
    assert dict(switch.snapshot_call(call_id)) == {"+4930111": "connected", "1001": "alerting"}


def test_single_step_transfer_takes_a_call_off_the_queue(switch, phones):
    call_id = phones.call("+4930111", "6000")
    result = switch.single_step_transfer(call_id, "6000", "1002")
    assert result != call_id
    assert dict(switch.snapshot_call(result)) == {"+4930111": "connected", "1002": "alerting"}
    assert switch.snapshot_device("6000") == []


def test_caller_hanging_up_in_the_queue_ends_the_call(switch, phones):
    call_id = phones.call("+4930111", "6000")
    phones.hangup("+4930111")
    assert call_id not in switch.calls
    assert switch.snapshot_device("6000") == []


def test_route_request_then_route_select(hunt, phones, recorder):
    reg = hunt.route_register("5000")
    call_id = phones.call("+4930111", "5000")
    request = recorder.last("route_request")
    assert request.details["registration"] == reg
    assert request.details["pilot"] == "5000"
    assert request.call_id == call_id
    assert ringing(hunt, call_id) == []
    recorder.kinds()
    hunt.route_select(reg, request.details["xref"], "1003")
    assert recorder.kinds() == [("diverted", "5000"), ("delivered", "1003"), ("route_end", "5000")]
    assert ringing(hunt, call_id) == ["1003"]


def test_unanswered_route_request_falls_back_to_the_groups_distribution(clock, hunt, phones,
                                                                        recorder):
    hunt.route_register(None)
    call_id = phones.call("+4930111", "5000")
    clock.advance(hunt.route_timeout - 0.1)
    assert ringing(hunt, call_id) == []
    clock.advance(0.1)
    assert ringing(hunt, call_id) == ["1001"]
    end = recorder.last("route_end")
    assert end.details["error"] == "routeTimer"


def test_route_end_from_the_application_falls_back_at_once(hunt, phones, recorder):
    reg = hunt.route_register("5000")
    call_id = phones.call("+4930111", "5000")
    hunt.route_end(reg, recorder.last("route_request").details["xref"])
    assert ringing(hunt, call_id) == ["1001"]


def test_route_select_to_an_unknown_number_is_refused_and_the_route_stays(hunt, phones,
                                                                         recorder):
    reg = hunt.route_register("5000")
    phones.call("+4930111", "5000")
    xref = recorder.last("route_request").details["xref"]
    with pytest.raises(SwitchError):
        hunt.route_select(reg, xref, "42")
    with pytest.raises(SwitchError):
        hunt.route_select(reg, "999", "1001")
    assert xref in hunt.routes


def test_caller_hanging_up_during_routing_ends_the_route(hunt, phones, recorder):
    hunt.route_register("5000")
    phones.call("+4930111", "5000")
    phones.hangup("+4930111")
    assert recorder.last("route_end").details["error"] == "callCleared"
    assert hunt.routes == {}


def test_route_registration_only_for_pilots(switch):
    with pytest.raises(SwitchError):
        switch.route_register("1001")
