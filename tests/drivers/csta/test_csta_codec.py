"""ECMA-323 decoding and encoding: real switch frames, every event of interfaces.md, every
namespace variant, and hostile input (malformed XML, entity bombs, unknown elements)."""

from __future__ import annotations

import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from cti import events as ev
from drivers.csta import codec
from drivers.csta.codec import CSTA_NS, build

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture(name: str) -> bytes:
    """A real switch frame's XML document (the 8-byte header, where present, removed)."""
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        data = handle.read()
    if name.endswith(".frame"):
        assert data[:2] == b"\x00\x00" and int.from_bytes(data[2:4], "big") == len(data)
        assert data[4:8] == b"9999"
        return data[8:]
    return data


def decode(body: bytes) -> ev.Event:
    return codec.decode_event_bytes(body, 1_700_000_000.0)


def conn(tag: str, call_id: str, device: str) -> tuple:
    return (tag, [("callID", call_id), ("deviceID", device)])


def dev(tag: str, number: str) -> tuple:
    return (tag, [("deviceIdentifier", number)])


# -- real switch output ------------------------------------------------------------------------

def test_openscape_service_initiated_frame():
    event = decode(fixture("01-service-initiated-event.frame"))
    assert event.event == ev.SERVICE_INITIATED
    assert event.call_id == "FF000100000000002D65C85C1C750000"
    assert event.device == "302118840100"
    assert event.raw_device == "N<302118840100>;noa=nk"
    assert event.state == ev.INITIATED
    assert event.cause == "makeCall"
    assert event.cross_ref == "1169730059"
    assert event.calling is None and event.called is None


def test_openscape_originated_frame_takes_device_from_calling_device():
    event = decode(fixture("02-originated-event.frame"))
    assert event.event == ev.ORIGINATED
    assert event.device == "302118840100"
    assert event.calling == "302118840100"
    assert event.called == "302118840101"
    assert event.raw_called == "N<302118840101>;displayNumber=302118840101;noa=nk"
    assert event.state == ev.CONNECTED


def test_openscape_delivered_event_pretty_printed():
    event = decode(fixture("03-delivered-event.xml"))
    assert event.event == ev.DELIVERED
    assert event.device == "3021061290002"
    assert event.calling == "7868772298"
    assert event.called == "3021061290002"
    assert event.network_called == "02911"
    assert event.network_calling is None
    assert event.last_redirection is None
    assert event.call_id == "FF00010000000000EC6114647E570000"
    assert event.state == ev.ALERTING
    assert event.cause == "enteringDistribution"
    assert event.raw_calling.startswith("N<7868772298>Line71001;displayNumber=7868772298")
    correlator = event.data["correlator_data"]["string"]
    assert " " not in correlator and "\n" not in correlator
    assert correlator.startswith("75726E3A")


def test_vendor_private_data_is_kept_verbatim():
    body = fixture("03-delivered-event.xml")
    event = decode(body)
    assert event.private is not None
    assert event.private.encode() in body
    assert "<scx:cdrTrunkSeizureDateTime>2023/03/17 14:49:48</scx:cdrTrunkSeizureDateTime>" in (
        event.private
    )
    assert event.to_dict()["private"] == event.private


def test_session_request_sample_without_namespace_reads_like_ours():
    sample = codec.parse(fixture("04-start-application-session.xml"))
    ours = codec.parse(codec.start_application_session("pythontsm", 600))
    for root in (sample, ours):
        assert codec.local_name(root.tag) == "StartApplicationSession"
        assert codec.descendant_text(root, "applicationID") == "pythontsm"
        assert codec.descendant_text(root, "protocolVersion") == CSTA_NS
        assert codec.descendant_text(root, "requestedSessionDuration") == "600"


def test_session_resume_request_names_the_old_session():
    root = codec.parse(codec.start_application_session("app", 300, "OLD-7"))
    assert codec.text_of(codec.child(root, "sessionID")) == "OLD-7"


# -- every event of interfaces.md, with its own device field -------------------------------------

EVENT_CASES = [
    ("ServiceInitiatedEvent", ev.SERVICE_INITIATED,
     [conn("initiatedConnection", "11", "1001"), dev("initiatingDevice", "1001")]),
    ("OriginatedEvent", ev.ORIGINATED,
     [conn("originatedConnection", "11", "1001"), dev("callingDevice", "1001"),
      dev("calledDevice", "2002")]),
    ("DeliveredEvent", ev.DELIVERED,
     [conn("connection", "11", "1001"), dev("alertingDevice", "1001"),
      dev("callingDevice", "2002"), dev("calledDevice", "1001")]),
    ("EstablishedEvent", ev.ESTABLISHED,
     [conn("establishedConnection", "11", "1001"), dev("answeringDevice", "1001"),
      dev("callingDevice", "2002"), dev("calledDevice", "1001")]),
    ("HeldEvent", ev.HELD, [conn("heldConnection", "11", "1001"), dev("holdingDevice", "1001")]),
    ("RetrievedEvent", ev.RETRIEVED,
     [conn("retrievedConnection", "11", "1001"), dev("retrievingDevice", "1001")]),
    ("ConnectionClearedEvent", ev.CONNECTION_CLEARED,
     [conn("droppedConnection", "11", "1001"), dev("releasingDevice", "1001")]),
    ("DivertedEvent", ev.DIVERTED,
     [conn("connection", "11", "1001"), dev("divertingDevice", "1001"),
      dev("newDestination", "3003")]),
    ("FailedEvent", ev.FAILED,
     [conn("failedConnection", "11", "1001"), dev("failingDevice", "1001")]),
    ("QueuedEvent", ev.QUEUED,
     [conn("queuedConnection", "11", "1001"), dev("queue", "1001"), ("numberQueued", "3")]),
    ("NetworkReachedEvent", ev.NETWORK_REACHED,
     [conn("outboundConnection", "11", "1001"), dev("networkInterfaceUsed", "T1")]),
    ("DigitsDialedEvent", ev.DIGITS_DIALED,
     [conn("dialingConnection", "11", "1001"), dev("dialingDevice", "1001"),
      ("dialingSequence", "123#")]),
]


@pytest.mark.parametrize(("element", "name", "children"), EVENT_CASES,
                         ids=[case[0] for case in EVENT_CASES])
def test_call_events_name_the_device_of_interfaces_md(element, name, children):
    event = decode(build(element, [("monitorCrossRefID", "77"), *children]))
    assert event.event == name
    assert event.device == "1001"
    assert event.call_id == "11"
    assert event.cross_ref == "77"


def test_calling_and_called_come_from_calling_and_called_device_only():
    event = decode(build("DeliveredEvent", [
        conn("connection", "5", "1001"), dev("alertingDevice", "1001"),
        dev("callingDevice", "N<+17867100001>Line00001;displayNumber=00001"),
        dev("calledDevice", "5001:CM1:10.0.0.5:0"),
        dev("networkCallingDevice", "0049301234"), dev("networkCalledDevice", "800123"),
        dev("lastRedirectionDevice", "1009"),
    ]))
    assert (event.calling, event.called) == ("+17867100001", "5001")
    assert (event.network_calling, event.network_called) == ("0049301234", "800123")
    assert event.last_redirection == "1009"
    assert event.raw_called == "5001:CM1:10.0.0.5:0"


def test_digits_dialed_accepts_the_british_spelling_of_the_device():
    event = decode(build("DigitsDialedEvent", [
        conn("dialingConnection", "11", "1001"), dev("diallingDevice", "1001"),
        ("dialingSequence", "55"),
    ]))
    assert (event.device, event.digits) == ("1001", "55")


def test_call_cleared_has_no_device():
    event = decode(build("CallClearedEvent", [
        ("clearedCall", [("callID", "11")]), ("cause", "normalClearing"),
    ]))
    assert (event.event, event.call_id, event.device) == (ev.CALL_CLEARED, "11", None)
    assert event.cause == "normalClearing"


def test_transfer_reports_the_resulting_call_from_the_new_connections():
    event = decode(build("TransferedEvent", [
        ("monitorCrossRefID", "1"),
        conn("primaryOldCall", "10", "1001"), conn("secondaryOldCall", "11", "1001"),
        dev("transferringDevice", "1001"), dev("transferredToDevice", "1003"),
        ("transferredConnections", [
            ("connectionListItem", [conn("newConnection", "12", "2002"),
                                    conn("oldConnection", "10", "2002")]),
            ("connectionListItem", [conn("newConnection", "12", "1003"),
                                    conn("oldConnection", "11", "1003")]),
        ]),
        ("cause", "transfer"),
    ]))
    assert event.event == ev.TRANSFERRED
    assert event.device == "1001"
    assert event.call_id == "12"
    assert event.old_call_ids == ("10", "11")
    assert [(p.call_id, p.device) for p in event.parties] == [("12", "2002"), ("12", "1003")]
    assert event.data["transferred_to"] == "1003"
    assert event.to_dict()["old_call_ids"] == ["10", "11"]


def test_conference_keeps_one_call_and_only_the_other_ceases_to_exist():
    event = decode(build("ConferencedEvent", [
        conn("primaryOldCall", "21", "1001"), conn("secondaryOldCall", "22", "1001"),
        dev("conferencingDevice", "1001"), dev("addedParty", "1003"),
        ("conferenceConnections", [
            ("connectionListItem", [conn("newConnection", "22", "1001")]),
            ("connectionListItem", [conn("newConnection", "22", "2002")]),
            ("connectionListItem", [conn("newConnection", "22", "1003")]),
        ]),
    ]))
    assert (event.event, event.call_id, event.old_call_ids) == (ev.CONFERENCED, "22", ("21",))
    assert event.data["added_party"] == "1003"
    assert len(event.parties) == 3


def test_transfer_new_connection_device_falls_back_to_endpoint():
    event = decode(build("TransferedEvent", [
        conn("primaryOldCall", "1", "100"), conn("secondaryOldCall", "2", "100"),
        dev("transferringDevice", "100"),
        ("transferredConnections", [("connectionListItem", [
            ("newConnection", [("callID", "3")]), dev("endpoint", "5001:CM1::0"),
        ])]),
    ]))
    assert [(p.call_id, p.device, p.raw_device) for p in event.parties] == [
        ("3", "5001", "5001:CM1::0")]


@pytest.mark.parametrize(("element", "name"), [
    ("AgentLoggedOnEvent", ev.AGENT_LOGGED_ON), ("AgentLoggedOffEvent", ev.AGENT_LOGGED_OFF),
    ("AgentReadyEvent", ev.AGENT_READY), ("AgentNotReadyEvent", ev.AGENT_NOT_READY),
    ("AgentWorkingAfterCallEvent", ev.AGENT_WORKING_AFTER_CALL), ("AgentBusyEvent", ev.AGENT_BUSY),
])
def test_agent_events(element, name):
    event = decode(build(element, [("monitorCrossRefID", "3"), dev("agentDevice", "1001"),
                                   ("agentID", "A17"), ("agentMode", "manualIn")]))
    assert (event.event, event.device, event.agent_id) == (name, "1001", "A17")
    assert event.data["agent_mode"] == "manualIn"


def test_agent_not_ready_reason_from_simulator_reason_code_or_private_data():
    plain = decode(build("AgentNotReadyEvent", [dev("agentDevice", "1001"), ("agentID", "A1"),
                                                ("reasonCode", "5")]))
    assert plain.reason == "5"
    private = decode(build("AgentNotReadyEvent", [
        dev("agentDevice", "1001"), ("agentID", "A1"),
        ("extensions", [("privateData", [("private", [("reason", "lunch")])])]),
    ]))
    assert private.reason == "lunch"
    assert "lunch" in private.private


@pytest.mark.parametrize(("element", "name"), [
    ("DoNotDisturbEvent", ev.DO_NOT_DISTURB), ("ForwardingEvent", ev.FORWARDING),
    ("BackInServiceEvent", ev.BACK_IN_SERVICE), ("OutOfServiceEvent", ev.OUT_OF_SERVICE),
])
def test_device_feature_events(element, name):
    event = decode(build(element, [
        dev("device", "1001"), ("doNotDisturbOn", "true"), ("forwardingType", "forwardBusy"),
        ("forwardStatus", "true"), dev("forwardTo", "2000"),
    ]))
    assert (event.event, event.device, event.call_id) == (name, "1001", None)
    assert event.data["do_not_disturb"] == "true"
    assert event.data["forward_to"] == "2000"


def test_unknown_events_keep_their_own_name_and_never_fail():
    event = decode(build("ChargingEvent", [conn("connection", "9", "1001"),
                                           ("chargingInfo", [("units", "3")])]))
    assert (event.event, event.call_id, event.device) == ("charging", "9", "1001")
    info = decode(build("CallInformationEvent", [conn("connection", "9", "1001")]))
    assert info.event == ev.CALL_INFORMATION
    odd = decode(build("PrivateEvent", [("private", [("anything", "x")])]))
    assert odd.event == "private"


def test_unknown_elements_inside_known_events_are_ignored():
    event = decode(build("HeldEvent", [
        ("somethingNew", [("deep", [("deeper", "x")])]),
        conn("heldConnection", "4", "1001"), dev("holdingDevice", "1001"),
    ]))
    assert (event.event, event.call_id, event.device) == (ev.HELD, "4", "1001")


# -- namespaces, prefixes, whitespace --------------------------------------------------------------

DELIVERED_BODY = (
    "<{p}monitorCrossRefID>5</{p}monitorCrossRefID>"
    "<{p}connection><{p}callID>42</{p}callID><{p}deviceID>1001</{p}deviceID></{p}connection>"
    "<{p}alertingDevice><{p}deviceIdentifier>1001</{p}deviceIdentifier></{p}alertingDevice>"
    "<{p}callingDevice><{p}deviceIdentifier>2002</{p}deviceIdentifier></{p}callingDevice>"
)


@pytest.mark.parametrize("opening", [
    '<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed4">',
    '<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed6">',
    '<DeliveredEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3/priv5">',
    '<DeliveredEvent xmlns="http://www.ecma.ch/standards/ecma-323/csta/ed2">',
    "<DeliveredEvent>",
])
def test_any_edition_or_no_namespace_decodes_alike(opening):
    event = decode((opening + DELIVERED_BODY.format(p="") + "</DeliveredEvent>").encode())
    assert (event.event, event.call_id, event.device, event.calling) == (
        ev.DELIVERED, "42", "1001", "2002")


def test_prefixed_elements_decode_alike():
    body = (
        '<ns3:DeliveredEvent xmlns:ns3="http://www.ecma-international.org/standards/ecma-323/'
        'csta/ed3/priv5">' + DELIVERED_BODY.format(p="ns3:") + "</ns3:DeliveredEvent>"
    ).encode()
    event = decode(body)
    assert (event.event, event.call_id, event.device) == (ev.DELIVERED, "42", "1001")


def test_undeclared_prefixes_are_tolerated():
    body = ("<csta:DeliveredEvent>" + DELIVERED_BODY.format(p="csta:")
            + "</csta:DeliveredEvent>").encode()
    event = decode(body)
    assert (event.event, event.call_id, event.device) == (ev.DELIVERED, "42", "1001")


def test_numeric_call_ids_and_attributes_on_device_ids():
    body = (
        b'<EstablishedEvent xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3">'
        b"<establishedConnection><callID> 0715 </callID>"
        b'<deviceID typeOfNumber="other" mediaClass="voice">5001:CM1::0</deviceID>'
        b"</establishedConnection><answeringDevice>"
        b'<deviceIdentifier typeOfNumber="other">5001:CM1:10.0.0.5:0</deviceIdentifier>'
        b"</answeringDevice><callingDevice><notKnown/></callingDevice></EstablishedEvent>"
    )
    event = decode(body)
    assert event.call_id == "0715" and isinstance(event.call_id, str)
    assert event.device == "5001"
    assert event.calling is None
    assert event.to_dict()["call_id"] == "0715"


# -- hostile input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    b"", b"not xml", b"<DeliveredEvent><connection>", b"<a></b>", b"\xff\xfe<a/>",
    b"<?xml version='1.0' encoding='UTF-8'?>",
])
def test_malformed_documents_raise_decode_error(body):
    with pytest.raises(codec.DecodeError):
        codec.parse(body)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<DeliveredEvent><connection><callID>&lol9;</callID></connection></DeliveredEvent>"""


def test_billion_laughs_is_refused_quickly():
    started = time.perf_counter()
    with pytest.raises(codec.DecodeError):
        decode(BILLION_LAUGHS)
    assert time.perf_counter() - started < 1.0


def test_the_parser_itself_never_expands_entities_nor_reads_files():
    """Even past the DOCTYPE check the parser holds: it refuses or keeps references as they are."""
    try:
        root = etree.fromstring(BILLION_LAUGHS, codec._PARSER)
    except etree.XMLSyntaxError:
        pass
    else:
        assert len(etree.tostring(root)) < 1000
    xxe = (b'<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<HeldEvent><cause>&x;</cause></HeldEvent>")
    root = etree.fromstring(xxe, codec._PARSER)
    assert b"root:" not in etree.tostring(root)


# -- responses and errors --------------------------------------------------------------------------

@pytest.mark.parametrize(("category", "value"), [
    ("operation", "invalidCallID"), ("stateIncompatibility", "invalidObjectState"),
    ("unspecified", "unspecified"), ("systemResourceAvailability", "generic"),
])
def test_csta_error_code_becomes_a_clear_driver_error(category, value):
    error = codec.error_of("HoldCall", codec.parse(build("CSTAErrorCode", [(category, value)])))
    assert str(error) == f"HoldCall: {category}/{value}"
    assert error.service == "HoldCall" and error.code == value


def test_negative_session_response_names_its_defined_error():
    root = codec.parse(build("StartApplicationSessionNegResponse",
                             [("errorCode", [("definedError", "invalidSessionID")])],
                             codec.SESSION_NS))
    error = codec.error_of("StartApplicationSession", root)
    assert error.code == "invalidSessionID"
    assert "invalidSessionID" in str(error)


def test_snapshot_device_response_lists_connections_with_states():
    root = codec.parse(build("SnapshotDeviceResponse", [("crossRefIDorSnapshotData", [(
        "snapshotData", [
            ("snapshotDeviceResponseInfo", [conn("connectionIdentifier", "7", "1001"),
                                            ("localCallState", [("compoundCallState", [
                                                ("localConnectionState", "hold")])])]),
            ("snapshotDeviceResponseInfo", [conn("connectionIdentifier", "8", "1001"),
                                            ("localConnectionState", "alerting")]),
        ])])]))
    assert [(p.call_id, p.device, p.state) for p in codec.snapshot_parties(root)] == [
        ("7", "1001", ev.HOLD), ("8", "1001", ev.ALERTING)]


def test_get_agent_state_response():
    root = codec.parse(build("GetAgentStateResponse", [("agentStateList", [("agentStateEntry", [
        ("agentID", "A1"), ("loggedOnState", "true"),
        ("agentInfo", [("agentInfoItem", [("agentState", "agentReady")])]),
    ])])]))
    assert codec.agent_states(root) == {
        "state": "agentReady", "agents": [{"agent_id": "A1", "logged_on": True,
                                            "state": "agentReady", "reason": None}]}


# -- round trips -------------------------------------------------------------------------------

call_ids = st.one_of(
    st.integers(min_value=0, max_value=10**20).map(str),
    st.text(alphabet="0123456789ABCDEF", min_size=1, max_size=32),
    st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S")),
            min_size=1, max_size=20).filter(lambda s: s.strip() == s),
)
numbers = st.from_regex(r"\+?[0-9]{1,15}", fullmatch=True)


def spellings(number: str) -> st.SearchStrategy[str]:
    return st.sampled_from([
        number, f"N<{number}>;noa=nk", f"N<{number}>Line1;displayNumber={number};uid=X",
        f"{number}:CM1:10.0.0.5:0" if not number.startswith("+") else number,
    ])


@given(call_id=call_ids, data=st.data(), device=numbers, calling=numbers)
def test_round_trip_of_delivered_events(call_id, data, device, calling):
    raw_device = data.draw(spellings(device))
    raw_calling = data.draw(spellings(calling))
    body = build("DeliveredEvent", [
        ("monitorCrossRefID", "9"), conn("connection", call_id, raw_device),
        dev("alertingDevice", raw_device), dev("callingDevice", raw_calling),
    ])
    event = decode(body)
    assert event.call_id == call_id
    assert (event.device, event.calling) == (device, calling)
    assert (event.raw_device, event.raw_calling) == (raw_device, raw_calling)


@given(
    name=st.sampled_from(["HoldCall", "RetrieveCall", "AnswerCall", "ClearConnection"]),
    call_id=call_ids, device=numbers,
)
def test_round_trip_of_connection_requests(name, call_id, device):
    root = codec.parse(build(name, [codec.connection("callToBeHeld", call_id, device)]))
    assert codec.local_name(root.tag) == name
    assert codec.connection_of(codec.child(root, "callToBeHeld")) == (call_id, device)


@given(children=st.dictionaries(
    st.from_regex(r"[a-z][A-Za-z]{0,12}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs")),
            min_size=1, max_size=30).map(str.strip).filter(bool),
    max_size=6,
))
def test_round_trip_of_any_request_fields(children):
    root = codec.parse(build("SomeRequest", list(children.items())))
    assert {codec.local_name(c.tag): codec.text_of(c) for c in root} == children


# -- the cheap paths keep their meaning ------------------------------------------------------------

def test_only_the_roots_default_namespace_is_dropped_before_parsing():
    body = (b'<?xml version="1.0"?><HeldEvent xmlns="urn:x" xmlns:v="urn:v">'
            b'<child xmlns="urn:inner"/><v:x/></HeldEvent>')
    assert codec.without_default_namespace(body) == (
        b'<?xml version="1.0"?><HeldEvent xmlns:v="urn:v">'
        b'<child xmlns="urn:inner"/><v:x/></HeldEvent>')
    untouched = b"<HeldEvent><child xmlns='urn:a'/></HeldEvent>"
    assert codec.without_default_namespace(untouched) == untouched


def test_prefixed_extensions_are_kept_verbatim_too():
    body = (b'<ns1:HeldEvent xmlns:ns1="http://www.ecma-international.org/standards/ecma-323/'
            b'csta/ed3/priv5"><ns1:heldConnection><ns1:callID>3</ns1:callID></ns1:heldConnection>'
            b'<ns1:extensions><ns1:privateData><ns1:private><av:ucid xmlns:av="urn:avaya">'
            b'00001000011234567890</av:ucid></ns1:private></ns1:privateData></ns1:extensions>'
            b'</ns1:HeldEvent>')
    event = decode(body)
    assert event.call_id == "3"
    assert event.private.startswith("<ns1:extensions>")
    assert event.private.endswith("</ns1:extensions>")
    assert event.private.encode() in body


def test_private_data_outside_extensions_is_serialised():
    event = decode(build("AgentReadyEvent", [dev("agentDevice", "1001"),
                                             ("privateData", [("private", [("skill", "7")])])]))
    assert "<skill>7</skill>" in event.private


def test_the_same_transfer_on_every_monitor_decodes_alike():
    body = build("TransferedEvent", [
        conn("primaryOldCall", "1", "100"), conn("secondaryOldCall", "2", "100"),
        dev("transferringDevice", "100"),
        ("transferredConnections", [("connectionListItem", [conn("newConnection", "3", "200")])]),
    ])
    first, second = decode(body), decode(body)
    assert first.parties == second.parties == (ev.Party("3", "200", None, "200"),)


# -- localConnectionInfo: the monitored device's own state --------------------------------------

def on_monitor(body: bytes, monitor: str) -> ev.Event:
    """Decode as the driver does once it has mapped the cross-ref to the monitored device."""
    event = decode(body)
    event.monitor = monitor
    codec.attribute_local_state(event)
    return event


def test_a_far_end_event_does_not_take_the_monitored_callers_state():
    body = build("NetworkReachedEvent", [
        ("monitorCrossRefID", "7"), conn("outboundConnection", "12", "+4989765432"),
        dev("callingDevice", "1002"), dev("calledDevice", "+4989765432"),
        ("localConnectionInfo", "connected"),
    ])
    event = on_monitor(body, "1002")
    assert (event.device, event.state) == ("+4989765432", None)


def test_an_event_about_the_monitored_device_keeps_its_state():
    body = build("DeliveredEvent", [
        ("monitorCrossRefID", "7"), conn("connection", "12", "1002"), dev("alertingDevice", "1002"),
        ("localConnectionInfo", "alerting"),
    ])
    assert on_monitor(body, "1002").state == ev.ALERTING
    assert on_monitor(body, "1001").state is None


def test_a_transfer_gives_the_monitored_party_its_state_and_no_other():
    body = build("TransferedEvent", [
        ("monitorCrossRefID", "9"), conn("primaryOldCall", "1", "1001"),
        conn("secondaryOldCall", "2", "1001"), dev("transferringDevice", "1001"),
        ("transferredConnections", [
            ("connectionListItem", [conn("newConnection", "3", "+4930123")]),
            ("connectionListItem", [conn("newConnection", "3", "1002")]),
        ]),
        ("localConnectionInfo", "alerting"),
    ])
    assert [p.state for p in decode(body).parties] == [None, None], "ECMA lists no states"
    event = on_monitor(body, "1002")
    assert [(p.device, p.state) for p in event.parties] == [("+4930123", None),
                                                            ("1002", ev.ALERTING)]
    assert event.state is None, "the transferring device is not the monitored one"
    assert [p.state for p in on_monitor(body, "1001").parties] == [None, None]
