"""The link drops mid-call, the switch moves on without us, and the model catches up.

The switch closes its port and cuts the connection; while the driver is locked out, a ringing
call gets answered, a new call arrives and a call ends. Once the port reopens, the driver
resumes its ECMA-354 session (or registers afresh in the system-status style), snapshots every
device, and the model must then hold exactly the switch's calls with the monitored devices in
the switch's connection states. Parties a snapshot cannot name (the outside caller of a call
that began while we were away) are not compared: SnapshotDevice reports only the device's own
connection.
"""

from __future__ import annotations

import pytest_twisted

from cti import events as ev
from tests.e2e.csta_rig import CALLER, EXTENSIONS, LINK, TRUNK

SECOND_CALLER = "+4940555666"


@pytest_twisted.inlineCallbacks
def test_the_model_matches_the_switch_after_the_link_comes_back(make_rig, session_style):
    rig = yield make_rig(session_style)
    session = rig.driver.session_id
    ringing = rig.phones.call(CALLER, "1001")
    internal = yield rig.driver.make_call("1003", "1004")
    yield rig.driver.answer_call(internal, "1004")
    yield rig.agree()

    yield rig.stop_listening()
    assert ev.LINK_DOWN in rig.names()
    assert all(call.stale for call in rig.model.calls.values())
    rig.phones.answer("1001")
    arrived = rig.phones.call(SECOND_CALLER, "1002")
    rig.phones.hangup("1004")
    assert set(rig.truth()) == {ringing, arrived}
    mark = len(rig.events)

    rig.listen()
    yield rig.driver.ready()
    yield rig.wait_until(lambda: rig.names(mark).count(ev.SNAPSHOT_DEVICE) >= len(rig.monitored),
                         "a snapshot of every device after the reconnect")
    yield rig.agree(only_monitored=True)

    link_up = next(e for e in rig.events[mark:] if e.event == ev.LINK_UP)
    if session_style == "ecma354":
        assert link_up.data["resumed"] is True and rig.driver.session_id == session
    else:
        assert link_up.data["style"] == "system-status"
    assert set(rig.model.calls) == {ringing, arrived}
    assert rig.device_belief() == rig.device_truth()
    assert rig.device_truth()["1002"] == {arrived: "alerting"}
    assert rig.belief()[ringing] == {CALLER: "connected", "1001": "connected"} == rig.truth()[ringing]
    assert rig.belief(only_monitored=True)[arrived] == {"1002": "alerting"}
    assert not any(call.stale for call in rig.model.calls.values())
    assert rig.model.history.find(internal).cause == "resync"
    assert rig.model.find_call(ringing).calling == CALLER

    # Events flow again, and the call first met in a snapshot ends like any other.
    yield rig.driver.answer_call(arrived, "1002")
    rig.phones.hangup("1001")
    yield rig.agree(only_monitored=True)
    assert rig.belief() == {arrived: {"1002": "connected", SECOND_CALLER: "connected"}}
    rig.phones.hangup(SECOND_CALLER)
    yield rig.agree()
    assert rig.model.calls == {}
    assert {e.link for e in rig.events} == {LINK}


@pytest_twisted.inlineCallbacks
def test_an_expired_session_is_replaced_and_every_device_monitored_again(make_rig):
    rig = yield make_rig("ecma354")
    old_session = rig.driver.session_id
    call_id = rig.phones.call(CALLER, "1005")
    yield rig.agree()

    yield rig.stop_listening()
    rig.factory.end_session(rig.factory.sessions[old_session])  # as if its timer ran out
    rig.phones.answer("1005")
    mark = len(rig.events)
    rig.listen()
    yield rig.driver.ready()
    yield rig.wait_until(lambda: rig.names(mark).count(ev.SNAPSHOT_DEVICE) >= len(rig.monitored),
                         "a snapshot of every device after the reconnect")
    yield rig.agree()

    link_up = next(e for e in rig.events[mark:] if e.event == ev.LINK_UP)
    assert link_up.data["resumed"] is False and rig.driver.session_id != old_session
    assert sorted(rig.factory.by_device) == sorted(rig.monitored)
    assert rig.belief() == {call_id: {CALLER: "connected", "1005": "connected"}}

    rig.phones.hangup("1005")
    yield rig.agree()
    assert rig.model.calls == {}


@pytest_twisted.inlineCallbacks
def test_a_monitored_trunk_adds_no_party_of_its_own_on_resync(make_rig):
    rig = yield make_rig("ecma354", monitored=(*EXTENSIONS, TRUNK))
    call_id = rig.phones.call(CALLER, "1001")
    yield rig.agree()

    yield rig.stop_listening()
    mark = len(rig.events)
    rig.listen()
    yield rig.driver.ready()
    yield rig.wait_until(lambda: rig.names(mark).count(ev.SNAPSHOT_DEVICE) >= len(rig.monitored),
                         "a snapshot of every device after the reconnect")
    assert rig.truth() == {call_id: {CALLER: "connected", "1001": "alerting"}}
    assert rig.belief() == rig.truth()
