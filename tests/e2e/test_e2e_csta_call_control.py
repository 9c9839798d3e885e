"""Hold, consultation transfer, conference and single-step transfer, driven through the driver.

Every step is checked against the switch's own truth; the call-ID changes of transfer and
conference are checked against what the model promises on top of it: the resulting call has
the old IDs as aliases and keeps the caller's numbers and the data attached to it.
"""

from __future__ import annotations

import pytest_twisted
from twisted.internet import defer

from cti import events as ev
from tests.e2e.csta_rig import CALLER, EXTERNAL, TRUNKS


@defer.inlineCallbacks
def answered_inbound_call(rig, extension="1001"):
    """CALLER rings `extension`, which answers through the driver; fires with the call ID."""
    call_id = rig.phones.call(CALLER, extension)
    yield rig.agree()
    yield rig.driver.answer_call(call_id, extension)
    yield rig.agree()
    return call_id


@defer.inlineCallbacks
def consult(rig, call_id, device, target):
    """`device` puts `call_id` on hold and calls `target`, which answers; fires with its ID."""
    consult_id = yield rig.driver.consultation_call(call_id, device, target)
    yield rig.agree()
    assert rig.truth()[call_id][device] == "hold"
    assert rig.truth()[consult_id] == {device: "connected", target: "alerting"}
    yield rig.driver.answer_call(consult_id, target)
    yield rig.agree()
    return consult_id


@pytest_twisted.inlineCallbacks
def test_hold_and_retrieve_follow_the_switch(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    call = rig.model.find_call(call_id)

    yield rig.driver.hold_call(call_id, "1001")
    yield rig.agree()
    assert rig.truth()[call_id] == {CALLER: "connected", "1001": "hold"}
    assert call.state == "hold"

    yield rig.driver.retrieve_call(call_id, "1001")
    yield rig.agree()
    assert rig.truth()[call_id] == {CALLER: "connected", "1001": "connected"}
    assert call.state == "connected"
    assert [(s.event, s.state) for s in call.steps if s.device == "1001"][-2:] == [
        (ev.HELD, "hold"), (ev.RETRIEVED, "connected")]


@pytest_twisted.inlineCallbacks
def test_consultation_transfer_gives_a_new_call_that_keeps_the_callers_record(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    rig.model.attach_data(call_id, {"order": "A-17"})
    consult_id = yield consult(rig, call_id, "1001", "1002")

    new_id = yield rig.driver.transfer_call(call_id, consult_id, "1001")
    yield rig.agree()
    assert new_id not in (call_id, consult_id)
    assert rig.truth() == {new_id: {CALLER: "connected", "1002": "connected"}}
    call = rig.model.find_call(new_id)
    assert call.call_id == new_id
    assert sorted(call.aliases) == sorted([call_id, consult_id])
    assert rig.model.find_call(call_id) is call and rig.model.find_call(consult_id) is call
    assert (call.ani, call.dnis) == (CALLER, "1001")
    assert call.data == {"order": "A-17"}
    assert rig.model.calls_at("1001") == []

    rig.phones.hangup(CALLER)
    yield rig.agree()
    record = rig.model.history.find(call_id)
    assert record.call_id == new_id and record.data == {"order": "A-17"}
    assert set(record.parties) == {CALLER, "1001", "1002"}


@pytest_twisted.inlineCallbacks
def test_conference_joins_three_parties_under_the_consultation_calls_id(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    rig.model.attach_data(call_id, {"ticket": "T-9"})
    consult_id = yield consult(rig, call_id, "1001", "1003")

    kept = yield rig.driver.conference_call(call_id, consult_id, "1001")
    yield rig.agree()
    assert kept == consult_id
    assert rig.truth() == {kept: {CALLER: "connected", "1001": "connected", "1003": "connected"}}
    call = rig.model.find_call(call_id)
    assert call.call_id == kept and call.aliases == [call_id]
    assert (call.ani, call.dnis) == (CALLER, "1001")
    assert call.data == {"ticket": "T-9"}
    assert call.state == "connected"

    yield rig.driver.clear_connection(kept, "1001")
    yield rig.agree()
    assert rig.truth() == {kept: {CALLER: "connected", "1003": "connected"}}
    rig.phones.hangup("1003")
    yield rig.agree()
    assert rig.model.calls == {}
    assert rig.model.history.find(call_id).call_id == kept


@pytest_twisted.inlineCallbacks
def test_single_step_transfer_rings_the_target_under_a_new_id_with_the_data(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    rig.model.attach_data(call_id, {"order": "B-2"})

    new_id = yield rig.driver.single_step_transfer(call_id, "1001", "1004")
    yield rig.agree()
    assert new_id != call_id
    assert rig.truth() == {new_id: {CALLER: "connected", "1004": "alerting"}}
    call = rig.model.find_call(call_id)
    assert call.call_id == new_id and call.aliases == [call_id]
    assert (call.ani, call.dnis) == (CALLER, "1001")
    assert call.data == {"order": "B-2"}

    yield rig.driver.answer_call(new_id, "1004")
    yield rig.agree()
    assert rig.truth() == {new_id: {CALLER: "connected", "1004": "connected"}}
    rig.phones.hangup("1004")
    yield rig.agree()
    assert rig.model.history.find(call_id).data == {"order": "B-2"}


@pytest_twisted.inlineCallbacks
def test_transfer_before_the_target_answers_leaves_the_target_ringing(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    consult_id = yield rig.driver.consultation_call(call_id, "1001", "1002")
    yield rig.agree()

    new_id = yield rig.driver.transfer_call(call_id, consult_id, "1001")
    yield rig.wait_until(lambda: rig.names().count(ev.TRANSFERRED) == 2, "both monitors' copies")
    assert rig.truth() == {new_id: {CALLER: "connected", "1002": "alerting"}}
    assert rig.belief() == rig.truth()


@pytest_twisted.inlineCallbacks
def test_transfer_before_the_target_answers_ends_well_once_it_answers(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    consult_id = yield rig.driver.consultation_call(call_id, "1001", "1002")
    yield rig.agree()
    new_id = yield rig.driver.transfer_call(call_id, consult_id, "1001")

    yield rig.driver.answer_call(new_id, "1002")
    yield rig.agree()
    assert rig.truth() == {new_id: {CALLER: "connected", "1002": "connected"}}
    assert rig.model.find_call(call_id).aliases == [call_id, consult_id]


@pytest_twisted.inlineCallbacks
def test_consulting_an_outside_number_shows_it_ringing_until_it_answers(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    consult_id = yield rig.driver.consultation_call(call_id, "1001", EXTERNAL)
    yield rig.agree()
    assert rig.belief()[consult_id] == {"1001": "connected", EXTERNAL: "alerting"}
    rig.phones.answer(EXTERNAL)
    yield rig.agree()
    assert rig.belief()[consult_id] == {"1001": "connected", EXTERNAL: "connected"}


@pytest_twisted.inlineCallbacks
def test_transferring_a_caller_to_an_outside_number_frees_both_trunk_channels(make_rig):
    rig = yield make_rig()
    call_id = yield answered_inbound_call(rig)
    consult_id = yield rig.driver.consultation_call(call_id, "1001", EXTERNAL)
    rig.phones.answer(EXTERNAL)
    new_id = yield rig.driver.transfer_call(call_id, consult_id, "1001")
    assert rig.truth() == {new_id: {CALLER: "connected", EXTERNAL: "connected"}}

    rig.phones.hangup(CALLER)
    assert rig.truth() == {}
    assert [t for t in TRUNKS if rig.switch.devices[t].in_use] == []
