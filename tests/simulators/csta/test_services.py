"""Services, events, snapshots, routing and error answers of the CSTA server, on the wire."""

from __future__ import annotations

import pytest
from lxml import etree

NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"


def q(name: str) -> str:
    return f"{{{NS}}}{name}"


def local(root) -> str:
    return etree.QName(root).localname


def conn(name: str, call_id: str, device: str) -> str:
    return f"<{name}><callID>{call_id}</callID><deviceID>{device}</deviceID></{name}>"


@pytest.fixture
def peer(factory, make_peer):
    client = make_peer(factory)
    client.start_session()
    return client


def only(frames):
    (invoke, root), = frames
    return invoke, root


def call_from(root, field="callingDevice"):
    return root.findtext(f"{q(field)}/{q('callID')}")


def test_make_call_response_then_events_in_order(peer, switch):
    xref = peer.monitor("1001")
    invoke = peer.request("MakeCall", "<callingDevice>1001</callingDevice>"
                          "<calledDirectoryNumber>1002</calledDirectoryNumber>")
    frames = peer.frames()
    assert [local(r) for _, r in frames] == [
        "MakeCallResponse", "ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent",
    ]
    assert frames[0][0] == invoke
    assert all(i == "9999" for i, _ in frames[1:])
    call_id = call_from(frames[0][1])
    assert frames[0][1].findtext(f"{q('callingDevice')}/{q('deviceID')}") == "1001"
    delivered = frames[3][1]
    assert delivered[0].tag == q("monitorCrossRefID") and delivered[0].text == xref
    assert delivered.findtext(f"{q('connection')}/{q('callID')}") == call_id
    assert delivered.findtext(f"{q('connection')}/{q('deviceID')}") == "1002"
    assert delivered.findtext(f"{q('alertingDevice')}/{q('deviceIdentifier')}") == "1002"
    assert delivered.findtext(f"{q('callingDevice')}/{q('deviceIdentifier')}") == "1001"
    assert delivered.findtext(f"{q('calledDevice')}/{q('deviceIdentifier')}") == "1002"
    assert delivered.findtext(q("localConnectionInfo")) == "connected"
    assert dict(switch.snapshot_call(call_id)) == {"1001": "connected", "1002": "alerting"}


def test_each_monitor_gets_its_own_copy_with_its_own_state(peer):
    caller, called = peer.monitor("1001"), peer.monitor("1002")
    peer.request("MakeCall", "<callingDevice>1001</callingDevice>"
                 "<calledDirectoryNumber>1002</calledDirectoryNumber>")
    delivered = [r for _, r in peer.frames() if local(r) == "DeliveredEvent"]
    seen = {r.findtext(q("monitorCrossRefID")): r.findtext(q("localConnectionInfo"))
            for r in delivered}
    assert seen == {caller: "connected", called: "alerting"}


def test_answer_hold_retrieve_clear_over_the_wire(peer, phones):
    peer.monitor("1002")
    call_id = phones.call("+4930123", "1002")
    peer.frames()
    for name, field, response, event in [
        ("AnswerCall", "callToBeAnswered", "AnswerCallResponse", "EstablishedEvent"),
        ("HoldCall", "callToBeHeld", "HoldCallResponse", "HeldEvent"),
        ("RetrieveCall", "callToBeRetrieved", "RetrieveCallResponse", "RetrievedEvent"),
    ]:
        peer.request(name, conn(field, call_id, "1002"))
        assert [local(r) for _, r in peer.frames()] == [response, event]
    peer.request("ClearConnection", conn("connectionToBeCleared", call_id, "1002"))
    assert [local(r) for _, r in peer.frames()] == [
        "ClearConnectionResponse", "ConnectionClearedEvent", "CallClearedEvent",
    ]


def test_consult_and_transfer_change_the_call_id(peer, phones, switch):
    peer.monitor("1001")
    first = phones.call("1001", "1002")
    phones.answer("1002")
    peer.frames()
    peer.request("ConsultationCall", conn("existingCall", first, "1001")
                 + "<consultedDevice>1003</consultedDevice>")
    frames = peer.frames()
    assert local(frames[0][1]) == "ConsultationCallResponse"
    second = call_from(frames[0][1], "initiatedCall")
    assert [local(r) for _, r in frames[1:]] == [
        "HeldEvent", "ServiceInitiatedEvent", "OriginatedEvent", "DeliveredEvent"]
    phones.answer("1003")
    peer.frames()
    peer.request("TransferCall", conn("heldCall", first, "1001") + conn("activeCall", second,
                                                                         "1001"))
    (_, response), (_, event) = peer.frames()
    new = call_from(response, "transferredCall")
    assert new not in (first, second)
    assert local(event) == "TransferedEvent"
    assert event.findtext(f"{q('primaryOldCall')}/{q('callID')}") == first
    assert event.findtext(f"{q('secondaryOldCall')}/{q('callID')}") == second
    assert event.findtext(f"{q('transferringDevice')}/{q('deviceIdentifier')}") == "1001"
    assert event.findtext(f"{q('transferredToDevice')}/{q('deviceIdentifier')}") == "1003"
    items = event.findall(f"{q('transferredConnections')}/{q('connectionListItem')}")
    assert {i.findtext(f"{q('newConnection')}/{q('callID')}") for i in items} == {new}
    assert {i.findtext(f"{q('oldConnection')}/{q('callID')}") for i in items} == {first, second}
    assert event.findtext(q("localConnectionInfo")) == "null"
    assert set(switch.calls) == {new}


def test_conference_over_the_wire_keeps_the_active_call(peer, phones):
    peer.monitor("1002")
    first = phones.call("1001", "1002")
    phones.answer("1002")
    second = phones.consult("1001", "1003")
    phones.answer("1003")
    peer.frames()
    peer.request("ConferenceCall", conn("heldCall", first, "1001")
                 + conn("activeCall", second, "1001"))
    (_, response), (_, event) = peer.frames()
    assert call_from(response, "conferenceCall") == second
    assert local(event) == "ConferencedEvent"
    items = event.findall(f"{q('conferenceConnections')}/{q('connectionListItem')}")
    assert {i.findtext(f"{q('endpoint')}/{q('deviceIdentifier')}") for i in items} == {
        "1001", "1002", "1003"}
    assert event.findtext(q("localConnectionInfo")) == "connected"


@pytest.mark.parametrize("name", ["AlternateCall", "ReconnectCall"])
def test_alternate_and_reconnect(peer, phones, name):
    first = phones.call("1001", "1002")
    phones.answer("1002")
    second = phones.consult("1001", "1003")
    peer.request(name, conn("heldCall", first, "1001") + conn("activeCall", second, "1001"))
    _, root = only(peer.frames())
    assert local(root) == name + "Response"


def test_deflect_single_step_transfer_and_conference(peer, phones, switch):
    queued = phones.call("+4930123", "6000")
    peer.request("DeflectCall", conn("callToBeDiverted", queued, "6000")
                 + "<newDestination>1004</newDestination>")
    assert local(only(peer.frames())[1]) == "DeflectCallResponse"
    phones.answer("1004")
    peer.request("SingleStepTransferCall", conn("activeCall", queued, "1004")
                 + "<transferredTo>1005</transferredTo>")
    _, root = only(peer.frames())
    moved = call_from(root, "transferredCall")
    assert moved != queued
    phones.answer("1005")
    peer.request("SingleStepConferenceCall", conn("activeCall", moved, "1005")
                 + "<deviceToJoin>1009</deviceToJoin><participationType>silent"
                   "</participationType>")
    _, root = only(peer.frames())
    assert call_from(root, "conferencedCall") == moved
    assert switch.calls[moved].connections["1009"].participation == "silent"


def test_generate_digits_and_clear_call(peer, phones):
    peer.monitor("1001")
    call_id = phones.call("1001", "1002")
    phones.answer("1002")
    peer.frames()
    peer.request("GenerateDigits", conn("connectionToSendDigits", call_id, "1001")
                 + "<charactersToSend>123</charactersToSend>")
    (_, response), (_, event) = peer.frames()
    assert local(response) == "GenerateDigitsResponse"
    assert event.findtext(q("dialingSequence")) == "123"
    peer.request("ClearCall", f"<callToBeCleared><callID>{call_id}</callID></callToBeCleared>")
    frames = peer.frames()
    assert local(frames[0][1]) == "ClearCallResponse"
    assert frames[-1][1].findtext(f"{q('clearedCall')}/{q('callID')}") == call_id


def test_agent_state_services_and_events(peer, switch):
    xref = peer.monitor("1001")
    peer.request("SetAgentState", "<device>1001</device><requestedAgentState>loggedOn"
                 "</requestedAgentState><agentID>A7</agentID><password>x</password>")
    (_, response), (_, event), (_, state) = peer.frames()
    assert local(response) == "SetAgentStateResponse"
    assert local(event) == "AgentLoggedOnEvent"
    assert event.findtext(q("monitorCrossRefID")) == xref
    assert event.findtext(f"{q('agentDevice')}/{q('deviceIdentifier')}") == "1001"
    assert event.findtext(q("agentID")) == "A7"
    assert (local(state), state.findtext(q("agentID"))) == ("AgentNotReadyEvent", "A7"), (
        "AgentLoggedOnEvent cannot say the state the agent starts in: the state event follows")
    assert state.find(q("reasonCode")) is None
    peer.request("SetAgentState", "<device>1001</device><requestedAgentState>notReady"
                 "</requestedAgentState><extensions><privateData><private><reason>12</reason>"
                 "</private></privateData></extensions>")
    (_, _), (_, event) = peer.frames()
    assert (local(event), event.findtext(q("reasonCode"))) == ("AgentNotReadyEvent", "12")
    peer.request("GetAgentState", "<device>1001</device>")
    _, root = only(peer.frames())
    entry = root.find(f"{q('agentStateList')}/{q('agentStateEntry')}")
    assert entry.findtext(q("agentID")) == "A7"
    assert entry.findtext(q("loggedOnState")) == "true"
    assert entry.findtext(f".//{q('agentState')}") == "agentNotReady"


def test_do_not_disturb_and_forwarding(peer, switch):
    peer.monitor("1001")
    peer.request("SetDoNotDisturb", "<device>1001</device><doNotDisturbOn>true</doNotDisturbOn>")
    (_, response), (_, event) = peer.frames()
    assert local(response) == "SetDoNotDisturbResponse"
    assert (local(event), event.findtext(q("doNotDisturbOn"))) == ("DoNotDisturbEvent", "true")
    peer.request("SetForwarding", "<device>1001</device><forwardingType>forwardImmediate"
                 "</forwardingType><forwardDN>1002</forwardDN><activateForward>true"
                 "</activateForward>")
    (_, _), (_, event) = peer.frames()
    assert local(event) == "ForwardingEvent"
    assert event.findtext(q("forwardingType")) == "forwardImmediate"
    assert event.findtext(q("forwardStatus")) == "true"
    assert event.findtext(f"{q('forwardTo')}/{q('deviceIdentifier')}") == "1002"
    assert switch.devices["1001"].dnd is True


def test_do_not_disturb_and_forwarding_can_be_read_back(peer, switch):
    switch.set_do_not_disturb("1001", True)
    switch.set_forwarding("1001", "forwardBusy", "1002", True)
    peer.request("GetDoNotDisturb", "<device>1001</device>")
    _, root = only(peer.frames())
    assert (local(root), root.findtext(q("doNotDisturbOn"))) == ("GetDoNotDisturbResponse", "true")
    peer.request("GetForwarding", "<device>1001</device>")
    _, root = only(peer.frames())
    assert local(root) == "GetForwardingResponse"
    items = {i.findtext(q("forwardingType")): (i.findtext(q("forwardStatus")),
                                                i.findtext(q("forwardDN")))
             for i in root.iter(q("forwardListItem"))}
    assert items == {"forwardImmediate": ("false", None), "forwardBusy": ("true", "1002"),
                     "forwardNoAns": ("false", None)}, "every type, so ones switched off show"
    peer.request("GetDoNotDisturb", "<device>8001</device>")
    _, root = only(peer.frames())
    assert local(root) == "CSTAErrorCode", "a trunk has no do-not-disturb"


def test_snapshot_device_and_call(peer, phones):
    call_id = phones.call("+4930123", "1001")
    peer.request("SnapshotDevice", "<snapshotObject>1001</snapshotObject>")
    _, root = only(peer.frames())
    info, = root.iter(q("snapshotDeviceResponseInfo"))
    assert info.findtext(f"{q('connectionIdentifier')}/{q('callID')}") == call_id
    assert info.findtext(f".//{q('localConnectionState')}") == "alerting"
    peer.request("SnapshotCall", f"<snapshotObject><callID>{call_id}</callID></snapshotObject>")
    _, root = only(peer.frames())
    found = {i.findtext(f"{q('deviceOnCall')}/{q('deviceIdentifier')}"):
             i.findtext(q("localConnectionState"))
             for i in root.iter(q("snapshotCallResponseInfo"))}
    assert found == {"+4930123": "connected", "1001": "alerting"}


def test_monitor_stop_ends_the_events(peer, phones):
    xref = peer.monitor("1001")
    peer.request("MonitorStop", f"<monitorCrossRefID>{xref}</monitorCrossRefID>")
    assert peer.names() == ["MonitorStopResponse"]
    phones.call("+4930123", "1001")
    assert peer.frames() == []


@pytest.mark.parametrize(
    ("name", "inner", "category", "value"),
    [
        ("MonitorStart", "<monitorObject><deviceObject>4711</deviceObject></monitorObject>",
         "operation", "invalidDeviceID"),
        ("AnswerCall", conn("callToBeAnswered", "999", "1001"), "operation", "invalidCallID"),
        ("HoldCall", "<callToBeHeld><deviceID>1001</deviceID></callToBeHeld>", "operation",
         "invalidCallID"),
        ("MakeCall", "<callingDevice>1001</callingDevice>", "operation", "invalidDeviceID"),
        ("MonitorStop", "<monitorCrossRefID>77</monitorCrossRefID>", "operation",
         "invalidCrossRefID"),
        ("Frobnicate", "", "operation", "generic"),
        ("SetDoNotDisturb", "<device>1001</device><doNotDisturbOn>maybe</doNotDisturbOn>",
         "operation", "generic"),
    ],
)
def test_invalid_requests_get_csta_error_codes(peer, name, inner, category, value):
    invoke = peer.request(name, inner)
    answer, root = only(peer.frames())
    assert answer == invoke
    assert root.tag == q("CSTAErrorCode")
    assert root[0].tag == q(category) and root[0].text == value


def test_wrong_state_is_a_state_incompatibility(peer, phones):
    call_id = phones.call("1001", "1002")
    peer.request("HoldCall", conn("callToBeHeld", call_id, "1002"))
    _, root = only(peer.frames())
    assert root.findtext(q("stateIncompatibility")) == "invalidObjectState"


@pytest.mark.parametrize("body", [b"<MakeCall", b"\xff\xfe", b"", b"<!DOCTYPE x [<!ENTITY a 'b'>]>"
                                  b"<MakeCall>&a;</MakeCall>"])
def test_malformed_frames_are_answered_and_the_link_lives_on(peer, body):
    peer.send_raw(b"\x00\x00" + (len(body) + 8).to_bytes(2, "big") + b"0042" + body)
    answer, root = only(peer.frames())
    assert answer == "0042"
    assert root.findtext(q("unspecified")) == "unspecified"
    assert not peer.transport.disconnecting
    peer.monitor("1001")


def test_a_frame_with_an_unreadable_invoke_id_is_ignored(peer):
    body = b'<SystemStatus xmlns="' + NS.encode() + b'"/>'
    peer.send_raw(b"\x00\x00" + (len(body) + 8).to_bytes(2, "big") + b"ab!?" + body)
    assert peer.frames() == []
    assert not peer.transport.disconnecting


def test_foreign_namespaces_and_prefixes_are_understood(peer):
    peer.send('<ns3:MonitorStart xmlns:ns3="http://www.ecma-international.org/standards/'
              'ecma-323/csta/ed3"><ns3:monitorObject><ns3:deviceObject>1001</ns3:deviceObject>'
              '</ns3:monitorObject></ns3:MonitorStart>')
    assert peer.names() == ["MonitorStartResponse"]


def test_routing_dialogue_on_the_wire(peer, switch, phones):
    switch.add_pilot("5000", ["1001", "1002"], "hunt")
    peer.request("RouteRegister", "<routeingDevice>5000</routeingDevice>")
    _, root = only(peer.frames())
    reg = root.findtext(q("routeRegisterReqID"))
    call_id = phones.call("+4930123", "5000")
    invoke, request = only(peer.frames())
    assert invoke not in ("9999", "0000") and local(request) == "RouteRequest"
    assert request.findtext(q("routeRegisterReqID")) == reg
    assert request.findtext(q("currentRoute")) == "5000"
    assert request.findtext(q("callingDevice")) == "+4930123"
    assert request.findtext(f"{q('routedCall')}/{q('callID')}") == call_id
    xref = request.findtext(q("crossRefIdentifier"))
    peer.request("RouteSelect", f"<routeRegisterReqID>{reg}</routeRegisterReqID>"
                 f"<routingCrossRefID>{xref}</routingCrossRefID>"
                 "<routeSelected>1002</routeSelected><routeUsedReq>false</routeUsedReq>")
    invoke, end = only(peer.frames())
    assert (invoke, local(end)) == ("9999", "RouteEnd")
    assert end.findtext(q("routingCrossRefID")) == xref
    assert dict(switch.snapshot_call(call_id))["1002"] == "alerting"


def test_route_timeout_over_the_wire_falls_back(clock, peer, switch, phones):
    switch.add_pilot("5000", ["1001", "1002"], "hunt")
    peer.request("RouteRegister", "")
    peer.frames()
    call_id = phones.call("+4930123", "5000")
    peer.frames()
    clock.advance(switch.route_timeout)
    _, end = only(peer.frames())
    assert local(end) == "RouteEnd" and end.find(q("errorValue")) is not None
    assert dict(switch.snapshot_call(call_id))["1001"] == "alerting"


def test_bad_route_select_is_refused(peer, switch):
    switch.add_pilot("5000", ["1001"], "hunt")
    peer.request("RouteRegister", "<routeingDevice>5000</routeingDevice>")
    reg = only(peer.frames())[1].findtext(q("routeRegisterReqID"))
    peer.request("RouteSelect", f"<routeRegisterReqID>{reg}</routeRegisterReqID>"
                 "<routingCrossRefID>42</routingCrossRefID><routeSelected>1001</routeSelected>")
    _, root = only(peer.frames())
    assert root.tag == q("CSTAErrorCode")
    peer.request("RouteRegisterCancel", f"<routeRegisterReqID>{reg}</routeRegisterReqID>")
    assert peer.names() == ["RouteRegisterCancelResponse"]
    assert switch.registrations == {}


def test_several_clients_each_get_their_events(factory, make_peer, phones):
    one, two = make_peer(factory), make_peer(factory)
    one.start_session()
    two.start_session()
    x1, x2 = one.monitor("1001"), two.monitor("1001")
    phones.call("+4930123", "1001")
    assert one.frames()[0][1].findtext(q("monitorCrossRefID")) == x1
    assert two.frames()[0][1].findtext(q("monitorCrossRefID")) == x2
    assert factory.events_sent == 2


def test_snapshot_of_a_trunk_names_the_outside_party_as_the_events_do(peer, phones):
    call_id = phones.call("+4930123", "1001")
    peer.request("SnapshotDevice", "<snapshotObject>8001</snapshotObject>")
    _, root = only(peer.frames())
    info, = root.iter(q("snapshotDeviceResponseInfo"))
    assert info.findtext(f"{q('connectionIdentifier')}/{q('callID')}") == call_id
    assert info.findtext(f"{q('connectionIdentifier')}/{q('deviceID')}") == "+4930123"
    assert info.findtext(f".//{q('localConnectionState')}") == "connected"
