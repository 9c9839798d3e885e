"""CstaDriver: monitors, event routing by cross-ref, services, routing, and link recovery."""

from __future__ import annotations

from typing import Any

import pytest

from cti import events as ev
from drivers.base import DriverError, LinkDown
from drivers.csta import codec
from drivers.csta.codec import SESSION_NS
from drivers.csta.testing import SwitchEnd, make_driver


def outcome(deferred: Any) -> list[Any]:
    results: list[Any] = []
    deferred.addBoth(results.append)
    return results


def up(devices=("1001", "1002"), **options: Any):
    """A driver whose link is up with every device monitored and snapshotted."""
    options.setdefault("session_style", "ecma354")
    driver, reactor, events = make_driver(devices, **options)
    ready = outcome(driver.ready())
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session("S1", 300)
    switch.answer_monitors()
    assert ready == [None]
    switch.answer_snapshots()
    return driver, reactor, events, switch


def delivered(xref: str, call_id: str = "7", device: str = "1001") -> list[Any]:
    return [
        ("monitorCrossRefID", xref),
        ("connection", [("callID", call_id), ("deviceID", device)]),
        ("alertingDevice", [("deviceIdentifier", device)]),
        ("callingDevice", [("deviceIdentifier", "5550100")]),
        ("calledDevice", [("deviceIdentifier", device)]),
    ]


# -- monitoring ------------------------------------------------------------------------------------

def test_monitor_starts_are_paced_at_the_configured_rate():
    driver, reactor, _ = make_driver([f"10{n:02d}" for n in range(10)],
                                     session_style="ecma354", monitor_rate=10.0)
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    assert len(switch.take("MonitorStart")) == 1
    reactor.advance(0.1)
    assert len(switch.take("MonitorStart")) == 1
    reactor.advance(0.05)
    assert switch.take("MonitorStart") == []
    reactor.pump([0.1] * 4)
    assert len(switch.take("MonitorStart")) == 4


def test_ready_fires_once_every_monitor_start_is_answered():
    driver, reactor, _ = make_driver(("1001", "1002", "9999"), session_style="ecma354")
    ready = outcome(driver.ready())
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()

    def respond(request):
        device = request.text("deviceObject")
        if device == "9999":
            switch.error(request, "operation", "invalidDeviceID")
        else:
            switch.answer(request, "MonitorStartResponse", [("monitorCrossRefID", "X" + device)])

    switch.answer_paced("MonitorStart", respond)
    assert ready == [None]
    assert driver.monitors == {"1001": "X1001", "1002": "X1002"}
    assert driver.failed_monitors == {"9999": "MonitorStart: operation/invalidDeviceID"}
    assert outcome(driver.ready()) == [None]


def test_events_are_routed_by_cross_ref_and_printed_once_per_monitor():
    driver, _, events, switch = up()
    events.clear()
    switch.event("DeliveredEvent", delivered(switch.monitor_xrefs["1001"]))
    switch.event("DeliveredEvent", delivered(switch.monitor_xrefs["1002"]))
    assert [(e.event, e.monitor, e.device, e.calling, e.link) for e in events] == [
        (ev.DELIVERED, "1001", "1001", "5550100", "pbx1"),
        (ev.DELIVERED, "1002", "1001", "5550100", "pbx1"),
    ]
    assert [e.to_dict()["monitor"] for e in events] == ["1001", "1002"]


def test_events_with_an_unknown_cross_ref_still_arrive():
    driver, _, events, switch = up()
    events.clear()
    switch.event("DeliveredEvent", delivered("not-ours"))
    assert events[0].monitor is None and events[0].device == "1001"


def test_a_failing_sink_does_not_stop_the_others():
    driver, _, events, switch = up()
    driver._sinks.insert(0, lambda event: 1 / 0)
    events.clear()
    switch.event("HeldEvent", [("heldConnection", [("callID", "7"), ("deviceID", "1001")]),
                               ("holdingDevice", [("deviceIdentifier", "1001")])])
    assert [e.event for e in events] == [ev.HELD]


def test_monitor_stop_and_a_later_monitor_start():
    driver, _, _, switch = up()
    stopped = outcome(driver.monitor_stop("1001"))
    stop = switch.request("MonitorStop")
    assert stop.text("monitorCrossRefID") == switch.monitor_xrefs["1001"]
    switch.answer(stop, "MonitorStopResponse")
    assert stopped == [None] and "1001" not in driver.monitors
    started = outcome(driver.monitor_start("2000"))
    start = switch.request("MonitorStart")
    switch.answer(start, "MonitorStartResponse", [("monitorCrossRefID", "77")])
    assert started == ["77"] and driver.monitors["2000"] == "77"
    assert list(driver.devices) == ["1002", "2000"]


def test_snapshots_after_monitoring_rebuild_each_devices_calls():
    driver, reactor, events = make_driver(("1001", "1002"), session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    switch.answer_snapshots({"1001": [("7", "connected"), ("8", "hold")]})
    snapshots = [e for e in events if e.event == ev.SNAPSHOT_DEVICE]
    assert [(e.device, e.monitor) for e in snapshots] == [("1001", "1001"), ("1002", "1002")]
    assert [(p.call_id, p.device, p.state) for p in snapshots[0].parties] == [
        ("7", "1001", ev.CONNECTED), ("8", "1001", ev.HOLD)]
    assert snapshots[0].to_dict()["parties"][1] == {"call_id": "8", "device": "1001",
                                                    "state": "hold"}


# -- services ------------------------------------------------------------------------------------

SERVICE_CASES = [
    ("make_call", ("1001", "2002"), "MakeCall",
     {"callingDevice": "1001", "calledDirectoryNumber": "2002"},
     [("callingDevice", [("callID", "55"), ("deviceID", "1001")])], "55"),
    ("answer_call", ("7", "1001"), "AnswerCall", {"callID": "7", "deviceID": "1001"}, [], None),
    ("clear_connection", ("7", "1001"), "ClearConnection", {"callID": "7"}, [], None),
    ("clear_call", ("7",), "ClearCall", {"callID": "7"}, [], None),
    ("hold_call", ("7", "1001"), "HoldCall", {"callID": "7"}, [], None),
    ("retrieve_call", ("7", "1001"), "RetrieveCall", {"callID": "7"}, [], None),
    ("consultation_call", ("7", "1001", "3003"), "ConsultationCall",
     {"consultedDevice": "3003"}, [("initiatedCall", [("callID", "8"), ("deviceID", "1001")])],
     "8"),
    ("transfer_call", ("7", "8", "1001"), "TransferCall", {},
     [("transferredCall", [("callID", "9"), ("deviceID", "2002")])], "9"),
    ("conference_call", ("7", "8", "1001"), "ConferenceCall", {},
     [("conferenceCall", [("callID", "8"), ("deviceID", "1001")])], "8"),
    ("alternate_call", ("7", "8", "1001"), "AlternateCall", {}, [], None),
    ("reconnect_call", ("7", "8", "1001"), "ReconnectCall", {}, [], None),
    ("deflect_call", ("7", "1001", "4004"), "DeflectCall", {"newDestination": "4004"}, [], None),
    ("single_step_transfer", ("7", "1001", "4004"), "SingleStepTransferCall",
     {"transferredTo": "4004"}, [("transferredCall", [("callID", "70")])], "70"),
    ("single_step_conference", ("7", "1001", "1009", "silent"), "SingleStepConferenceCall",
     {"deviceToJoin": "1009", "participationType": "silent"},
     [("conferencedCall", [("callID", "7")])], "7"),
    ("generate_digits", ("7", "1001", "12#"), "GenerateDigits", {"charactersToSend": "12#"},
     [], None),
    ("set_agent_state", ("1001", "not_ready", "A1", "pw", "G1", "lunch"), "SetAgentState",
     {"device": "1001", "requestedAgentState": "notReady", "agentID": "A1", "password": "pw",
      "group": "G1", "reasonCode": "lunch"}, [], None),
    ("set_do_not_disturb", ("1001", True), "SetDoNotDisturb",
     {"device": "1001", "doNotDisturbOn": "true"}, [], None),
    ("set_forwarding", ("1001", True, "2002", "busy"), "SetForwarding",
     {"forwardingType": "forwardBusy", "forwardDN": "2002", "activateForward": "true"}, [], None),
    ("get_agent_state", ("1001",), "GetAgentState", {"device": "1001"},
     [("agentStateList", [("agentStateEntry", [("agentID", "A1"), ("loggedOnState", "true"),
                                               ("agentInfo", [("agentInfoItem", [
                                                   ("agentState", "agentNotReady")])])])])],
     {"state": "agentNotReady",
      "agents": [{"agent_id": "A1", "logged_on": True, "state": "agentNotReady",
                  "reason": None}]}),
    ("snapshot_call", ("7",), "SnapshotCall", {"callID": "7"}, [], None),
]


@pytest.mark.parametrize(("method", "args", "request_name", "fields", "response", "result"),
                         SERVICE_CASES, ids=[case[0] for case in SERVICE_CASES])
def test_each_service_sends_its_request_and_reads_its_answer(
    method, args, request_name, fields, response, result
):
    driver, _, _, switch = up()
    answered = outcome(getattr(driver, method)(*args))
    request = switch.request(request_name)
    for name, value in fields.items():
        assert request.text(name) == value, name
    switch.answer(request, request_name + "Response", response)
    if method == "snapshot_call":
        assert (answered[0].event, answered[0].call_id, answered[0].parties) == (
            "snapshot_call", "7", ())
    else:
        assert answered == [result]


def test_two_call_services_name_held_and_active_connections():
    driver, _, _, switch = up()
    driver.transfer_call("7", "8", "1001")
    request = switch.request("TransferCall")
    assert codec.connection_of(codec.child(request.root, "heldCall")) == ("7", "1001")
    assert codec.connection_of(codec.child(request.root, "activeCall")) == ("8", "1001")


def test_switch_errors_reach_the_caller_as_clear_driver_errors():
    driver, _, _, switch = up()
    result = outcome(driver.hold_call("7", "1001"))
    switch.error(switch.request("HoldCall"), "operation", "invalidCallID")
    assert result[0].check(DriverError)
    assert str(result[0].value) == "HoldCall: operation/invalidCallID"


@pytest.mark.parametrize(("method", "args"), [
    ("set_agent_state", ("1001", "sleeping")),
    ("set_forwarding", ("1001", True, "2000", "sometimes")),
    ("single_step_conference", ("7", "1001", "1002", "shout")),
])
def test_bad_option_values_fail_before_anything_is_sent(method, args):
    driver, _, _, switch = up()
    result = outcome(getattr(driver, method)(*args))
    assert result[0].check(DriverError) and "unknown" in str(result[0].value)
    assert switch.requests() == []


def test_commands_while_the_link_is_down_fail_with_link_down():
    driver, _, _ = make_driver()
    result = outcome(driver.hold_call("7", "1001"))
    assert result[0].check(LinkDown)
    assert str(result[0].value) == "HoldCall: link pbx1 is down"


# -- routing -------------------------------------------------------------------------------------

def test_route_request_select_and_end():
    driver, _, events, switch = up(route_devices=("8000",))
    register = switch.request("RouteRegister")
    assert register.text("routeingDevice") == "8000"
    switch.answer(register, "RouteRegisterResponse", [("routeRegisterReqID", "RR1")])
    assert driver.route_registrations == {"8000": "RR1"}
    events.clear()
    switch.send("0300", b"".join([
        b"<RouteRequest><crossRefIdentifier>X9</crossRefIdentifier>",
        b"<routeRegisterReqID>RR1</routeRegisterReqID>",
        b"<currentRoute>8000</currentRoute>",
        b"<callingDevice><deviceIdentifier>5550100</deviceIdentifier></callingDevice>",
        b"<routedCall><callID>31</callID><deviceID>8000</deviceID></routedCall></RouteRequest>",
    ]))
    (request,) = events
    assert (request.event, request.cross_ref, request.call_id, request.device, request.calling) \
        == (ev.ROUTE_REQUEST, "X9", "31", "8000", "5550100")
    assert outcome(driver.route_select("X9", "1002")) == [None]
    select = switch.request("RouteSelect")
    assert [select.text(n) for n in ("routeRegisterReqID", "routingCrossRefID", "routeSelected",
                                     "routeUsedReq")] == ["RR1", "X9", "1002", "false"]
    switch.event("RouteEnd", [("routeRegisterReqID", "RR1"), ("routingCrossRefID", "X9")])
    assert (events[-1].event, events[-1].cross_ref) == (ev.ROUTE_END, "X9")
    late = outcome(driver.route_select("X9", "1002"))
    assert late[0].check(DriverError)


def test_the_application_may_end_a_route_itself():
    driver, _, events, switch = up()
    switch.send("0301", b"<RouteRequest><crossRefIdentifier>X1</crossRefIdentifier>"
                        b"<routeRegisterReqID>RR1</routeRegisterReqID></RouteRequest>")
    assert outcome(driver.route_end("X1")) == [None]
    end = switch.request("RouteEnd")
    assert (end.text("routeRegisterReqID"), end.text("routingCrossRefID")) == ("RR1", "X1")
    assert outcome(driver.route_end("X1"))[0].check(DriverError)


# -- link recovery ---------------------------------------------------------------------------------

def test_link_loss_fails_pending_requests_and_announces_link_down():
    driver, reactor, events, switch = up()
    pending = outcome(driver.hold_call("7", "1001"))
    switch.drop()
    assert pending[0].check(LinkDown)
    assert (events[-1].event, events[-1].reason) == (ev.LINK_DOWN, "Connection was closed cleanly.")
    assert not driver.connected


def test_reconnect_backs_off_exponentially_while_the_switch_refuses():
    driver, reactor, events, switch = up(reconnect_initial=1.0, reconnect_max=4.0)
    switch.drop()
    delays = []
    for _ in range(5):
        before, attempts = reactor.seconds(), len(reactor.tcpClients)
        while len(reactor.tcpClients) == attempts:
            reactor.advance(0.5)
        delays.append(reactor.seconds() - before)
        SwitchEnd(reactor, driver).refuse()
    assert delays == [1.0, 2.0, 4.0, 4.0, 4.0]


def test_resumed_session_keeps_monitors_and_resynchronises_by_snapshots():
    driver, reactor, events, switch = up()
    xrefs = dict(driver.monitors)
    switch.drop()
    reactor.advance(1.0)
    again = SwitchEnd(reactor, driver).accept()
    start = again.request("StartApplicationSession")
    assert start.text("sessionID") == "S1"
    again.answer(start, "StartApplicationSessionPosResponse",
                 [("sessionID", "S1"), ("actualSessionDuration", "300")], SESSION_NS)
    assert events[-1].event == ev.LINK_UP and events[-1].data["resumed"] is True
    assert again.take("MonitorStart") == []
    assert driver.monitors == xrefs
    snapshots = again.answer_snapshots({"1002": [("40", "alerting")]})
    assert len(snapshots) == 2
    assert events[-1].event == ev.SNAPSHOT_DEVICE and events[-1].parties[0].call_id == "40"


def test_refused_resume_starts_a_new_session_and_monitors_everything_again():
    driver, reactor, events, switch = up()
    switch.drop()
    reactor.advance(1.0)
    again = SwitchEnd(reactor, driver).accept()
    resume = again.request("StartApplicationSession")
    again.answer(resume, "StartApplicationSessionNegResponse",
                 [("errorCode", [("definedError", "invalidSessionID")])], SESSION_NS)
    fresh = again.request("StartApplicationSession")
    assert fresh.text("sessionID") is None
    ready = outcome(driver.ready())
    again.answer(fresh, "StartApplicationSessionPosResponse",
                 [("sessionID", "S2"), ("actualSessionDuration", "300")], SESSION_NS)
    assert driver.session_id == "S2"
    monitored = again.answer_monitors(first_xref=500)
    assert sorted(r.text("deviceObject") for r in monitored) == ["1001", "1002"]
    assert ready == [None]
    assert sorted(driver.monitors.values()) == ["500", "501"]
    assert len(again.answer_snapshots()) == 2
    again.event("DeliveredEvent", delivered(again.monitor_xrefs["1002"]))
    assert events[-1].monitor == "1002"


def test_link_loss_during_monitoring_stops_the_pacing_and_reconnect_starts_over():
    driver, reactor, events = make_driver([f"1{n:03d}" for n in range(20)],
                                          session_style="ecma354")
    ready = outcome(driver.ready())
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.take("MonitorStart")
    switch.drop()
    assert [c for c in driver._paced_calls if c.active()] == []
    assert ready == []
    reactor.advance(1.0)
    again = SwitchEnd(reactor, driver).accept()
    again.grant_session("S1")
    assert len(again.answer_monitors()) == 20
    assert ready == [None]


def test_first_connection_refused_fails_ready_but_keeps_trying_until_stopped():
    driver, reactor, _ = make_driver()
    ready = outcome(driver.ready())
    driver.start()
    SwitchEnd(reactor, driver).refuse()
    assert ready[0].check(LinkDown)
    assert "cannot connect to switch.example:2555" in str(ready[0].value)
    reactor.advance(1.0)
    assert len(reactor.tcpClients) == 2
    assert outcome(driver.stop()) == [None]
    reactor.advance(60.0)
    assert len(reactor.tcpClients) == 2


def test_a_peer_that_is_no_csta_switch_fails_ready_with_what_it_sent():
    driver, reactor, events = make_driver()
    ready = outcome(driver.ready())
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.protocol.dataReceived(b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n")
    assert switch.transport.disconnecting
    switch.drop()
    assert ready[0].check(LinkDown)
    message = str(ready[0].value)
    assert "switch.example:2555 closed the link before a session was established" in message
    assert "HTTP/1.1 400" in message and "\n" not in message
    assert events == []


def test_every_event_names_its_link():
    driver, _, events, switch = up()
    switch.event("DeliveredEvent", delivered(switch.monitor_xrefs["1001"]))
    switch.drop()
    assert {event.link for event in events} == {"pbx1"}
    assert {ev.LINK_UP, ev.SNAPSHOT_DEVICE, ev.DELIVERED,
            ev.LINK_DOWN} == {event.event for event in events}


# -- resynchronisation of agents and features ------------------------------------------------------

def resync_events(events):
    return [(e.event, e.device, e.monitor, e.agent_id, e.reason, e.data) for e in events
            if e.event != ev.SNAPSHOT_DEVICE]


def test_connecting_reads_each_devices_agent_do_not_disturb_and_forwarding_before_its_snapshot():
    driver, reactor, events = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    events.clear()
    switch.answer_snapshots(agents={"1001": ("A1", "agentNotReady", "7")},
                            do_not_disturb=["1002"],
                            forwarding={"1002": {"forwardBusy": "2000"}})
    per_device = {device: [e.event for e in events if e.device == device]
                  for device in ("1001", "1002")}
    assert per_device["1001"][-1] == per_device["1002"][-1] == ev.SNAPSHOT_DEVICE, (
        "the snapshot comes last: a device is resynchronised once its snapshot is out")
    found = resync_events(events)
    assert (ev.AGENT_NOT_READY, "1001", "1001", "A1", "7", {}) in found
    assert not any(e[0] in ev.AGENT_EVENTS and e[1] == "1002" for e in found), (
        "no agent was ever reported at 1002: its log-off state is not news")
    assert (ev.DO_NOT_DISTURB, "1002", "1002", None, None, {"do_not_disturb": "true"}) in found
    assert (ev.FORWARDING, "1002", "1002", None, None, {
        "forwarding_type": "forwardBusy", "forward_status": "true", "forward_to": "2000",
    }) in found
    assert not any(e[0] == ev.DO_NOT_DISTURB and e[1] == "1001" for e in found), (
        "do-not-disturb that is off and was never reported on is not news")
    assert not any(e[0] == ev.FORWARDING and e[5]["forward_status"] == "false" for e in found)


def test_a_feature_switched_off_while_the_link_was_down_is_reported_off():
    driver, reactor, events = make_driver(session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    switch.answer_snapshots(do_not_disturb=["1002"], forwarding={"1002": {"forwardBusy": "2000"}})
    switch.drop()
    reactor.advance(1.0)
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    events.clear()
    switch.answer_snapshots()
    found = resync_events(events)
    assert (ev.DO_NOT_DISTURB, "1002", "1002", None, None, {"do_not_disturb": "false"}) in found
    assert (ev.FORWARDING, "1002", "1002", None, None, {
        "forwarding_type": "forwardBusy", "forward_status": "false"}) in found
    assert not any(e[1] == "1001" for e in found)


def test_an_agent_that_logged_off_while_the_link_was_down_is_reported_logged_off():
    driver, reactor, events, switch = up()
    switch.event("AgentLoggedOnEvent", [("monitorCrossRefID", switch.monitor_xrefs["1001"]),
                                        ("agentDevice", [("deviceIdentifier", "1001")]),
                                        ("agentID", "A1")])
    switch.drop()
    reactor.advance(1.0)
    again = SwitchEnd(reactor, driver).accept()
    again.grant_session("S1", 300)
    events.clear()
    again.answer_snapshots()
    agents = [(e.event, e.device) for e in events if e.event in ev.AGENT_EVENTS]
    assert agents == [(ev.AGENT_LOGGED_OFF, "1001")]


def test_a_refused_query_costs_only_its_part_of_the_resync():
    driver, reactor, events = make_driver(["8001"], session_style="ecma354")
    driver.start()
    switch = SwitchEnd(reactor, driver).accept()
    switch.grant_session()
    switch.answer_monitors()
    events.clear()
    for name in ("GetAgentState", "GetDoNotDisturb", "GetForwarding"):
        switch.error(switch.request(name), "operation", "invalidDeviceID")
    switch.answer_snapshots({"8001": [("5", "connected")]})
    assert [e.event for e in events] == [ev.SNAPSHOT_DEVICE]


def test_the_driver_offers_every_command_of_the_driver_interface_with_its_signature():
    import inspect

    from drivers.base import Driver
    from drivers.csta import CstaDriver

    for name, member in vars(Driver).items():
        if name.startswith("_") or not callable(member):
            continue
        ours = getattr(CstaDriver, name)
        expected = [p.name for p in inspect.signature(member).parameters.values()]
        assert [p.name for p in inspect.signature(ours).parameters.values()] == expected, name
    assert isinstance(CstaDriver.connected, property)
