"""Application sessions: both styles, timer resets at half the GRANTED duration, keep-alive."""

from __future__ import annotations

from typing import Any

import pytest

from cti import events as ev
from drivers.csta.codec import SESSION_NS
from drivers.csta.testing import SwitchEnd, make_driver


def outcome(deferred: Any) -> list[Any]:
    results: list[Any] = []
    deferred.addBoth(results.append)
    return results


def test_ecma354_session_is_requested_with_our_duration_and_announced_link_up():
    driver, reactor, events = make_driver(session_style="ecma354", session_duration=600)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    request = switch.grant_session("S1", 60)
    assert request.text("requestedSessionDuration") == "600"
    assert request.text("applicationID") == "cti-middleware"
    assert request.text("sessionID") is None
    assert [e.event for e in events] == [ev.LINK_UP]
    assert events[0].data == {"session_id": "S1", "resumed": False, "style": "ecma354"}
    assert driver.connected and driver.session_id == "S1"


def test_session_timer_is_reset_at_half_the_granted_not_the_requested_duration():
    driver, reactor, _ = make_driver(session_style="ecma354", session_duration=600)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 60)
    switch.answer_monitors()
    switch.answer_snapshots()
    reactor.advance(29.0)
    assert switch.take("ResetApplicationSessionTimer") == []
    reactor.advance(1.0)
    reset = switch.request("ResetApplicationSessionTimer")
    assert (reset.text("sessionID"), reset.text("requestedSessionDuration")) == ("S1", "600")
    switch.answer(reset, "ResetApplicationSessionTimerPosResponse",
                  [("actualSessionDuration", "40")], SESSION_NS)
    reactor.advance(19.0)
    assert switch.take("ResetApplicationSessionTimer") == []
    reactor.advance(1.0)
    assert len(switch.take("ResetApplicationSessionTimer")) == 1


def test_a_refused_timer_reset_resets_the_link():
    driver, reactor, events = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 20)
    switch.answer_monitors()
    switch.answer_snapshots()
    reactor.advance(10.0)
    reset = switch.request("ResetApplicationSessionTimer")
    switch.answer(reset, "ResetApplicationSessionTimerNegResponse",
                  [("errorCode", [("definedError", "invalidSessionID")])], SESSION_NS)
    assert switch.transport.disconnecting


def test_system_status_style_answers_the_switch_then_registers():
    driver, reactor, events = make_driver(session_style="system-status")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.send("0001", b"<SystemStatus><systemStatus>normal</systemStatus></SystemStatus>")
    answer, register = switch.requests()
    assert (answer.invoke_id, answer.name) == ("0001", "SystemStatusResponse")
    assert register.name == "SystemRegister" and register.text("systemStatus") == "true"
    switch.answer(register, "SystemRegisterResponse", [("sysStatRegisterID", "R9")])
    assert [e.event for e in events] == [ev.LINK_UP]
    assert events[0].data["style"] == "system-status"
    assert len(switch.answer_monitors()) == 2


@pytest.mark.parametrize("refusal", ["error", "silence"])
def test_auto_style_falls_back_to_system_register_when_ecma354_is_refused(refusal):
    driver, reactor, events = make_driver(session_style="auto", request_timeout=5.0)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    start = switch.request("StartApplicationSession")
    if refusal == "error":
        switch.send("0001", b"<SystemStatus><systemStatus>normal</systemStatus></SystemStatus>")
        switch.error(start, "operation", "generic")
    else:
        reactor.advance(5.0)
        assert switch.take("SystemRegister") == [], "waits a while for the switch's SystemStatus"
        reactor.advance(5.0)
    register = switch.request("SystemRegister")
    switch.answer(register, "SystemRegisterResponse", [("sysStatRegisterID", "1")])
    assert [e.event for e in events] == [ev.LINK_UP]
    assert events[0].data["style"] == "system-status"


def test_ecma354_style_does_not_fall_back_but_resets_and_retries():
    driver, reactor, events = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    start = switch.request("StartApplicationSession")
    switch.answer(start, "StartApplicationSessionNegResponse",
                  [("errorCode", [("definedError", "requestIncompatibleWithObject")])],
                  SESSION_NS)
    assert switch.take("SystemRegister") == []
    assert switch.transport.disconnecting
    switch.drop()
    assert events == []
    reactor.advance(1.0)
    assert len(reactor.tcpClients) == 2


def test_every_system_status_of_the_switch_is_answered_during_the_session():
    driver, reactor, _ = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    switch.answer_snapshots()
    for invoke in ("0100", "0101"):
        switch.send(invoke, b"<SystemStatus><systemStatus>normal</systemStatus></SystemStatus>")
    assert [(r.invoke_id, r.name) for r in switch.requests()] == [
        ("0100", "SystemStatusResponse"), ("0101", "SystemStatusResponse")]


def test_our_keepalive_is_sent_and_an_unanswered_one_resets_the_link():
    driver, reactor, _ = make_driver(session_style="ecma354", keepalive=30.0,
                                     request_timeout=5.0, session_duration=3600)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 3600)
    switch.answer_monitors()
    switch.answer_snapshots()
    reactor.advance(30.0)
    status = switch.request("SystemStatus")
    switch.answer(status, "SystemStatusResponse")
    reactor.advance(30.0)
    switch.request("SystemStatus")
    assert not switch.transport.disconnecting
    reactor.advance(5.0)
    assert switch.transport.disconnecting


def test_stop_ends_the_session_and_closes_the_link():
    driver, reactor, events = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 60)
    switch.answer_monitors()
    switch.answer_snapshots()
    stopped = outcome(driver.stop())
    stop = switch.request("StopApplicationSession")
    assert stop.text("sessionID") == "S1" and stop.text("definedEndReason") == "normal"
    switch.answer(stop, "StopApplicationSessionPosResponse", [], SESSION_NS)
    assert switch.transport.disconnecting and stopped == []
    switch.drop()
    assert stopped == [None]
    assert events[-1].event == ev.LINK_DOWN
    reactor.advance(60.0)
    assert len(reactor.tcpClients) == 1, "a stopped driver does not reconnect"
    assert reactor.getDelayedCalls() == []


def test_unknown_session_style_is_refused_at_construction():
    with pytest.raises(ValueError, match="session style"):
        make_driver(session_style="telnet")


def test_a_length_that_lies_long_cannot_hang_the_link_for_longer_than_a_keepalive():
    driver, reactor, events = make_driver(session_style="ecma354", keepalive=30.0,
                                          request_timeout=5.0, session_duration=3600)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 3600)
    switch.answer_monitors()
    switch.answer_snapshots()
    switch.protocol.dataReceived(b"\x00\x00\x01\xf4" + b"9999" + b"<HeldEvent>")  # 500 promised
    reactor.advance(30.0)
    status = switch.request("SystemStatus")
    switch.answer(status, "SystemStatusResponse")  # swallowed by the unfinished frame
    assert not switch.transport.disconnecting
    reactor.advance(5.0)
    assert switch.transport.disconnecting
    switch.drop()
    assert events[-1].event == ev.LINK_DOWN
    assert "keep-alive unanswered" in events[-1].reason
