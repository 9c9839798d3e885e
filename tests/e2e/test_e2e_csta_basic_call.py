"""A call from outside to an extension, and one from an extension out, end to end over CSTA."""

from __future__ import annotations

import pytest_twisted

from cti import events as ev
from tests.e2e.csta_rig import CALLER, EXTERNAL, TRUNK


@pytest_twisted.inlineCallbacks
def test_inbound_call_is_delivered_answered_and_cleared_in_both_session_styles(
        make_rig, session_style):
    rig = yield make_rig(session_style)
    assert rig.driver.session_id is not None or session_style == "system-status"

    call_id = rig.phones.call(CALLER, "1001")
    yield rig.agree()
    call = rig.model.find_call(call_id)
    assert call.to_dict()["state"] == "alerting"
    assert (call.calling, call.called) == (CALLER, "1001") == rig.numbers()[call_id]
    assert rig.switch.calls[call_id].trunk == TRUNK

    yield rig.driver.answer_call(call_id, "1001")
    yield rig.agree()
    assert rig.truth()[call_id] == {CALLER: "connected", "1001": "connected"}
    assert call.to_dict()["state"] == "connected"
    assert call.answered_by == "1001"

    rig.phones.hangup(CALLER)
    yield rig.agree()
    assert rig.model.calls == {} and rig.switch.calls == {}
    record = rig.model.history.find(call_id)
    assert (record.calling, record.called, record.answered_by) == (CALLER, "1001", "1001")
    assert record.parties == (CALLER, "1001")
    assert [s.state for s in record.steps if s.device == "1001"] == [
        "alerting", "connected", "null"]
    assert rig.names().count(ev.CALL_CLEARED) == 1  # one monitor on the call, one copy


@pytest_twisted.inlineCallbacks
def test_make_call_through_the_driver_reaches_the_outside_and_ends_when_the_agent_hangs_up(
        make_rig):
    rig = yield make_rig()

    call_id = yield rig.driver.make_call("1002", EXTERNAL)
    assert call_id in rig.switch.calls
    yield rig.wait_until(lambda: ev.DELIVERED in rig.names(), "the far end to ring")
    call = rig.model.find_call(call_id)
    assert (call.calling, call.called) == ("1002", EXTERNAL) == rig.numbers()[call_id]
    assert rig.truth()[call_id] == {"1002": "connected", EXTERNAL: "alerting"}

    rig.phones.answer(EXTERNAL)
    yield rig.agree()
    assert rig.belief()[call_id] == {"1002": "connected", EXTERNAL: "connected"}

    yield rig.driver.clear_connection(call_id, "1002")
    yield rig.agree()
    assert rig.model.calls == {}
    record = rig.model.history.find(call_id)
    assert record.answered_by == EXTERNAL
    assert record.called == EXTERNAL


@pytest_twisted.inlineCallbacks
def test_an_outgoing_call_shows_the_far_end_alerting_until_it_answers(make_rig):
    rig = yield make_rig()

    call_id = yield rig.driver.make_call("1002", EXTERNAL)
    yield rig.wait_until(lambda: ev.DELIVERED in rig.names(), "the far end to ring")
    assert rig.truth()[call_id] == {"1002": "connected", EXTERNAL: "alerting"}
    assert rig.belief()[call_id] == rig.truth()[call_id]


@pytest_twisted.inlineCallbacks
def test_internal_call_between_two_monitored_extensions_is_one_call_seen_twice(make_rig):
    rig = yield make_rig()

    call_id = yield rig.driver.make_call("1001", "1003")
    yield rig.agree()
    yield rig.driver.answer_call(call_id, "1003")
    yield rig.agree()
    assert rig.belief() == {call_id: {"1001": "connected", "1003": "connected"}}
    established = [e for e in rig.events if e.event == ev.ESTABLISHED]
    assert sorted(e.monitor for e in established) == ["1001", "1003"]

    yield rig.driver.clear_call(call_id)
    yield rig.agree()
    assert rig.model.history.find(call_id).parties == ("1001", "1003")
