"""Parallel alerting: one deflect or route select that rings several extensions at once.

The first extension to answer takes the call and the others are cleared; a call alerting at
several devices moves as one (deflecting it from one of them clears the rest), so an
application takes an unanswered ring-all call back with a single request.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from simulators.pbx import Handsets, Switch, SwitchError
from tests.simulators.pbx.test_invariants import check


def parties(switch, call_id):
    return dict(switch.snapshot_call(call_id))


def ringing(switch, call_id):
    return sorted(d for d, s in switch.snapshot_call(call_id) if s == "alerting")


@pytest.fixture
def queued(switch, phones):
    """A caller waiting at queue device 6000."""
    return phones.call("+4930111", "6000")


def test_a_deflect_with_further_destinations_rings_every_one(switch, queued, recorder):
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003"])
    assert ringing(switch, queued) == ["1001", "1002", "1003"]
    assert recorder.kinds() == [
        ("diverted", "6000"), ("delivered", "1001"), ("delivered", "1002"),
        ("delivered", "1003"),
    ]
    assert switch.snapshot_device("6000") == []


def test_the_first_to_answer_wins_and_the_others_are_cleared(switch, phones, queued, recorder):
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003"])
    recorder.kinds()
    phones.answer("1002")
    assert parties(switch, queued) == {"+4930111": "connected", "1002": "connected"}
    assert recorder.kinds() == [
        ("connection_cleared", "1001"), ("connection_cleared", "1003"), ("established", "1002"),
    ]
    assert switch.snapshot_device("1001") == [] and switch.snapshot_device("1003") == []


def test_deflecting_from_one_alerting_device_takes_the_call_back_once(switch, queued, recorder):
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003"])
    recorder.kinds()
    switch.deflect_call(queued, "1002", "6000")
    assert parties(switch, queued) == {"+4930111": "connected", "6000": "queued"}
    assert recorder.kinds() == [
        ("connection_cleared", "1001"), ("connection_cleared", "1003"), ("diverted", "1002"),
        ("queued", "6000"),
    ]


def test_a_call_moves_from_a_ringing_group_to_another_group(switch, queued):
    switch.deflect_call(queued, "6000", "1001", also=["1002"])
    switch.deflect_call(queued, "1001", "1002", also=["1003"])
    assert ringing(switch, queued) == ["1002", "1003"]


def test_clearing_one_alerting_device_leaves_the_others_ringing(switch, queued):
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003"])
    switch.clear_connection(queued, "1003")
    assert ringing(switch, queued) == ["1001", "1002"]


def test_the_caller_hanging_up_clears_every_alerting_device(switch, phones, queued):
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003"])
    phones.hangup("+4930111")
    assert queued not in switch.calls
    assert all(switch.snapshot_device(n) == [] for n in ("1001", "1002", "1003"))


def test_devices_that_cannot_ring_are_left_out(switch, phones, queued):
    phones.call("1002", "1009")
    switch.set_do_not_disturb("1003", True)
    switch.deflect_call(queued, "6000", "1001", also=["1002", "1003", "1004"])
    assert ringing(switch, queued) == ["1001", "1004"]


def test_when_none_can_ring_the_first_is_offered_alone_and_fails(switch, phones, queued,
                                                                recorder):
    switch.set_do_not_disturb("1001", True)
    switch.set_do_not_disturb("1002", True)
    recorder.kinds()
    switch.deflect_call(queued, "6000", "1001", also=["1002"])
    assert recorder.kinds()[-1] == ("failed", "1001")
    assert ringing(switch, queued) == []


@pytest.mark.parametrize("also", [["1001"], ["6000"], ["42"], ["+4930999"]],
                         ids=["twice", "queue-device", "unknown", "outside"])
def test_a_bad_list_is_refused_and_the_call_stays_where_it_was(switch, queued, also):
    with pytest.raises(SwitchError):
        switch.deflect_call(queued, "6000", "1001", also=also)
    assert parties(switch, queued) == {"+4930111": "connected", "6000": "queued"}


def test_route_select_with_further_destinations_rings_every_one(switch, phones, recorder):
    switch.add_pilot("5000", ["1001", "1002", "1003"], "hunt")
    reg = switch.route_register("5000")
    call_id = phones.call("+4930111", "5000")
    xref = recorder.last("route_request").details["xref"]
    recorder.kinds()
    switch.route_select(reg, xref, "1003", also=["1001"])
    assert ringing(switch, call_id) == ["1001", "1003"]
    assert recorder.kinds() == [
        ("diverted", "5000"), ("delivered", "1003"), ("delivered", "1001"), ("route_end", "5000"),
    ]
    phones.answer("1001")
    assert parties(switch, call_id) == {"+4930111": "connected", "1001": "connected"}


def test_an_unanswered_routed_group_goes_back_to_its_pilot_in_one_step(switch, phones, recorder):
    switch.add_pilot("5000", ["1001", "1002", "1003"], "hunt")
    reg = switch.route_register("5000")
    call_id = phones.call("+4930111", "5000")
    switch.route_select(reg, recorder.last("route_request").details["xref"], "1001",
                        also=["1002", "1003"])
    recorder.kinds()
    switch.deflect_call(call_id, "1003", "5000")
    assert ringing(switch, call_id) == []
    kinds = recorder.kinds()
    assert kinds[:3] == [("connection_cleared", "1001"), ("connection_cleared", "1002"),
                         ("diverted", "1003")]
    assert kinds[3:] == [("queued", "5000"), ("route_request", "5000")]


def test_a_ringing_agent_answering_frees_the_others_for_their_next_call(switch, phones, queued):
    """Cleared extensions are free at once: the next queued call may ring them."""
    switch.deflect_call(queued, "6000", "1001", also=["1002"])
    phones.answer("1001")
    second = phones.call("+4930222", "6000")
    switch.deflect_call(second, "6000", "1002")
    assert ringing(switch, second) == ["1002"]


GROUP = ["1001", "1002", "1003"]
GROUP_ACTIONS = st.lists(st.one_of(
    st.tuples(st.sampled_from(["answer", "reject"]), st.sampled_from(GROUP)),
    st.tuples(st.just("take_back"), st.sampled_from(GROUP)),
    st.tuples(st.just("again"), st.lists(st.sampled_from(GROUP), min_size=1, max_size=3,
                                         unique=True)),
    st.tuples(st.just("hangup"), st.just("+4930111")),
    st.tuples(st.just("tick"), st.floats(min_value=0, max_value=5)),
), max_size=12)


@settings(max_examples=200, deadline=None)
@given(GROUP_ACTIONS)
def test_whatever_happens_to_a_ringing_group_one_answer_at_most_and_no_leftover_ringing(actions):
    """Answers, rejections, take-backs and new groups in any order: at most one member talks,
    nobody rings once someone talks, and the bookkeeping stays consistent."""
    clock = Clock()
    switch = Switch(clock, external_answer_seconds=None)
    switch.add_extensions(GROUP)
    switch.add_queue("6000")
    phones = Handsets(switch)
    call_id = phones.call("+4930111", "6000")
    switch.deflect_call(call_id, "6000", GROUP[0], also=GROUP[1:])
    steps = {
        "answer": lambda device: switch.answer_call(call_id, device),
        "reject": lambda device: switch.clear_connection(call_id, device),
        "take_back": lambda device: switch.deflect_call(call_id, device, "6000"),
        "again": lambda group: switch.deflect_call(call_id, "6000", group[0], also=group[1:]),
        "hangup": phones.hangup,
        "tick": clock.advance,
    }
    for name, arg in actions:
        try:
            steps[name](arg)
        except SwitchError:
            pass
        check(switch)
        call = switch.calls.get(call_id)
        states = [c.state for d, c in call.connections.items() if d in GROUP] if call else []
        assert states.count("connected") <= 1
        if "connected" in states:
            assert "alerting" not in states
    switch.close()
    assert clock.getDelayedCalls() == []
