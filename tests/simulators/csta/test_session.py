"""Session styles, keep-alive, resume and expiry of the CSTA server (StringTransport, Clock)."""

from __future__ import annotations

from lxml import etree

from simulators.csta.server import CSTAServerFactory

CSTA = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
SESSION = "http://www.ecma-international.org/standards/ecma-354/appl_session"


def names(frames):
    return [etree.QName(root).localname for _, root in frames]


def test_ecma354_session_grants_at_most_the_maximum_duration(factory, make_peer):
    peer = make_peer(factory)
    assert peer.frames() == []
    peer.request(
        "StartApplicationSession",
        "<applicationInfo><applicationID>app</applicationID></applicationInfo>"
        f"<requestedProtocolVersions><protocolVersion>{CSTA}</protocolVersion>"
        "</requestedProtocolVersions><requestedSessionDuration>600</requestedSessionDuration>",
        SESSION,
    )
    (invoke, root), = peer.frames()
    assert invoke == "0001"
    assert root.tag == f"{{{SESSION}}}StartApplicationSessionPosResponse"
    assert root.findtext(f"{{{SESSION}}}actualSessionDuration") == "300"
    assert root.findtext(f"{{{SESSION}}}actualProtocolVersion") == CSTA
    assert root.findtext(f"{{{SESSION}}}sessionID")


def test_the_sample_request_of_a_real_client_is_accepted(factory, make_peer, samples_dir):
    with open(f"{samples_dir}/csta/04-start-application-session.xml", "rb") as handle:
        body = handle.read()
    peer = make_peer(factory)
    peer.send(body.decode(), "0007")
    (invoke, root), = peer.frames()
    assert (invoke, etree.QName(root).localname) == ("0007", "StartApplicationSessionPosResponse")


def test_requests_before_a_session_are_refused(factory, make_peer):
    peer = make_peer(factory)
    peer.request("MonitorStart", "<monitorObject><deviceObject>1001</deviceObject></monitorObject>")
    (_, root), = peer.frames()
    assert root.tag == f"{{{CSTA}}}CSTAErrorCode"
    assert root.findtext(f"{{{CSTA}}}security") == "generic"


def test_reset_timer_keeps_the_session_and_expiry_drops_it(clock, switch, make_peer):
    factory = CSTAServerFactory(switch, keepalive=0)
    peer = make_peer(factory)
    session_id = peer.start_session(100)
    peer.monitor("1001")
    clock.advance(60)
    peer.request("ResetApplicationSessionTimer", f"<sessionID>{session_id}</sessionID>"
                 "<requestedSessionDuration>100</requestedSessionDuration>", SESSION)
    (_, root), = peer.frames()
    assert etree.QName(root).localname == "ResetApplicationSessionTimerPosResponse"
    assert root.findtext(f"{{{SESSION}}}actualSessionDuration") == "100"
    clock.advance(99)
    assert not peer.transport.disconnecting
    clock.advance(1)
    assert peer.transport.disconnecting
    assert factory.sessions == {} and factory.monitors == {}


def test_reset_with_a_wrong_session_id_is_refused(factory, make_peer):
    peer = make_peer(factory)
    peer.start_session()
    peer.request("ResetApplicationSessionTimer", "<sessionID>nope</sessionID>", SESSION)
    (_, root), = peer.frames()
    assert etree.QName(root).localname == "ResetApplicationSessionTimerNegResponse"
    assert root.findtext(f".//{{{SESSION}}}definedError") == "invalidSessionID"


def test_resume_keeps_the_session_and_its_monitors(clock, factory, make_peer, phones):
    first = make_peer(factory)
    session_id = first.start_session(120)
    xref = first.monitor("1001")
    first.protocol.connectionLost(None)
    clock.advance(60)
    second = make_peer(factory)
    second.request("StartApplicationSession",
                   "<applicationInfo><applicationID>app</applicationID></applicationInfo>"
                   f"<requestedSessionDuration>120</requestedSessionDuration>"
                   f"<sessionID>{session_id}</sessionID>", SESSION)
    (_, root), = second.frames()
    assert etree.QName(root).localname == "StartApplicationSessionPosResponse"
    assert root.findtext(f"{{{SESSION}}}sessionID") == session_id
    phones.call("1002", "1001")
    (_, event), = second.frames()
    assert event.findtext(f"{{{CSTA}}}monitorCrossRefID") == xref


def test_resume_of_an_expired_session_is_refused(clock, factory, make_peer):
    first = make_peer(factory)
    session_id = first.start_session(30)
    first.protocol.connectionLost(None)
    clock.advance(31)
    second = make_peer(factory)
    second.request("StartApplicationSession", f"<sessionID>{session_id}</sessionID>", SESSION)
    (_, root), = second.frames()
    assert etree.QName(root).localname == "StartApplicationSessionNegResponse"
    assert root.findtext(f".//{{{SESSION}}}definedError") == "invalidSessionID"


def test_stop_application_session(factory, make_peer):
    peer = make_peer(factory)
    session_id = peer.start_session()
    peer.monitor("1001")
    peer.request("StopApplicationSession", f"<sessionID>{session_id}</sessionID>"
                 "<sessionEndReason><definedEndReason>normal</definedEndReason>"
                 "</sessionEndReason>", SESSION)
    assert peer.names() == ["StopApplicationSessionPosResponse"]
    assert factory.sessions == {} and factory.monitors == {}


def test_system_status_style_greets_and_registers(switch, clock, make_peer):
    factory = CSTAServerFactory(switch, session_style="system-status", keepalive=30)
    peer = make_peer(factory)
    (invoke, root), = peer.frames()
    assert root.tag == f"{{{CSTA}}}SystemStatus"
    assert root.findtext(f"{{{CSTA}}}systemStatus") == "normal"
    assert invoke.isdigit() and invoke != "9999"
    peer.send(f'<SystemStatusResponse xmlns="{CSTA}"/>', invoke)
    peer.request("SystemRegister", "<requestTypes><systemStatus>true</systemStatus></requestTypes>")
    (_, root), = peer.frames()
    assert root.tag == f"{{{CSTA}}}SystemRegisterResponse"
    assert root.findtext(f"{{{CSTA}}}sysStatRegisterID")
    assert peer.monitor("1001")
    peer.protocol.connectionLost(None)
    assert factory.monitors == {}
    factory.close()


def test_keepalive_drops_the_link_after_two_unanswered_system_status(clock, factory, make_peer):
    peer = make_peer(factory)
    peer.start_session(300)
    clock.advance(29)
    assert peer.frames() == []
    clock.advance(1)
    (first, root), = peer.frames()
    assert etree.QName(root).localname == "SystemStatus"
    clock.advance(30)
    (second, _), = peer.frames()
    assert second != first
    assert not peer.transport.disconnecting
    clock.advance(30)
    assert peer.transport.disconnecting


def test_an_answered_keepalive_keeps_the_link(clock, factory, make_peer):
    peer = make_peer(factory)
    peer.start_session(300)
    for _ in range(5):
        clock.advance(30)
        (invoke, _), = peer.frames()
        peer.send(f'<SystemStatusResponse xmlns="{CSTA}"/>', invoke)
    assert not peer.transport.disconnecting


def test_the_application_may_send_its_own_system_status(factory, make_peer):
    peer = make_peer(factory)
    invoke = peer.request("SystemStatus", "<systemStatus>normal</systemStatus>")
    (answer, root), = peer.frames()
    assert (answer, etree.QName(root).localname) == (invoke, "SystemStatusResponse")


def test_a_client_with_a_full_send_buffer_marks_the_server_congested(factory, make_peer):
    peer = make_peer(factory)
    drained = []
    factory.drained.append(lambda: drained.append(True))
    assert not factory.congested
    peer.transport.producer.pauseProducing()
    assert factory.congested
    peer.transport.producer.resumeProducing()
    assert not factory.congested
    assert drained == [True]
    peer.transport.producer.pauseProducing()
    peer.protocol.connectionLost(None)
    assert not factory.congested
