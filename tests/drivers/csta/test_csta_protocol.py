"""Invoke-ID correlation, timeouts and dispatch of one CSTA connection."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet.error import ConnectionDone
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.python.failure import Failure

from drivers.base import DriverError, LinkDown
from drivers.csta import codec
from drivers.csta.codec import build
from drivers.csta.framing import frame
from drivers.csta.protocol import CstaProtocol
from drivers.csta.testing import split_frames


class Handler:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.routes: list[str] = []
        self.lost = 0

    def csta_connected(self, protocol: CstaProtocol) -> None:
        pass

    def csta_event(self, root: Any, name: str, body: bytes) -> None:
        self.events.append((name, codec.decode_event(root, 0.0, name, body)))

    def csta_route_request(self, root: Any, invoke_id: str) -> None:
        self.routes.append(invoke_id)

    def csta_disconnected(self, protocol: CstaProtocol, reason: Failure) -> None:
        self.lost += 1


@pytest.fixture
def link() -> tuple[CstaProtocol, StringTransport, Clock, Handler]:
    clock = Clock()
    handler = Handler()
    protocol = CstaProtocol(handler, clock, request_timeout=5.0)
    transport = StringTransport()
    protocol.makeConnection(transport)
    return protocol, transport, clock, handler


def outcome(deferred: Any) -> list[Any]:
    results: list[Any] = []
    deferred.addBoth(results.append)
    return results


def sent(transport: StringTransport) -> list[tuple[str, bytes]]:
    frames = split_frames(transport.value())
    transport.clear()
    return frames


def test_requests_get_fresh_invoke_ids_and_answers_find_their_request(link):
    protocol, transport, _, _ = link
    first = outcome(protocol.request("MonitorStart", b"<MonitorStart/>",
                                     lambda root: codec.descendant_text(root, "monitorCrossRefID")))
    second = outcome(protocol.request("MonitorStart", b"<MonitorStart/>",
                                      lambda root: codec.descendant_text(root, "monitorCrossRefID")))
    (id1, _), (id2, _) = sent(transport)
    assert (id1, id2) == ("0001", "0002")
    protocol.dataReceived(frame(id2, build("MonitorStartResponse", [("monitorCrossRefID", "B")])))
    protocol.dataReceived(frame(id1, build("MonitorStartResponse", [("monitorCrossRefID", "A")])))
    assert (first, second) == (["A"], ["B"])


def test_invoke_ids_wrap_after_9998_and_skip_those_still_waiting(link):
    protocol, transport, _, _ = link
    protocol.request("SystemStatus", b"<x/>")
    protocol._next_invoke = 9998
    protocol.request("SystemStatus", b"<x/>")
    protocol.request("SystemStatus", b"<x/>")
    assert [invoke for invoke, _ in sent(transport)] == ["0001", "9998", "0002"]


def test_an_unanswered_request_fails_with_a_timeout_and_a_late_answer_is_ignored(link):
    protocol, transport, clock, _ = link
    result = outcome(protocol.request("HoldCall", b"<HoldCall/>"))
    (invoke, _), = sent(transport)
    clock.advance(4.9)
    assert result == []
    clock.advance(0.2)
    assert result[0].check(DriverError)
    assert str(result[0].value) == "HoldCall: no answer within 5 s"
    protocol.dataReceived(frame(invoke, build("HoldCallResponse", [])))
    assert not transport.disconnecting


def test_csta_error_answers_fail_the_request_with_the_switch_error(link):
    protocol, transport, clock, _ = link
    result = outcome(protocol.request("HoldCall", b"<HoldCall/>"))
    (invoke, _), = sent(transport)
    protocol.dataReceived(frame(invoke, build("CSTAErrorCode", [("operation", "invalidCallID")])))
    assert str(result[0].value) == "HoldCall: operation/invalidCallID"
    assert clock.getDelayedCalls() == []


def test_responses_to_requests_never_sent_are_logged_and_ignored(link):
    protocol, transport, _, handler = link
    protocol.dataReceived(frame("0777", build("HoldCallResponse", [])))
    protocol.dataReceived(frame("0778", build("CSTAErrorCode", [("operation", "generic")])))
    assert handler.events == [] and not transport.disconnecting


def test_an_undecodable_answer_fails_its_request_and_the_link_goes_on(link):
    protocol, transport, _, _ = link
    result = outcome(protocol.request("HoldCall", b"<HoldCall/>"))
    (invoke, _), = sent(transport)
    protocol.dataReceived(frame(invoke, b"<HoldCallResponse><oops></HoldCallResponse>"))
    assert result[0].value.code == "undecodable"
    protocol.dataReceived(frame("9999", build("HeldEvent", [("cause", "x")])))
    assert [name for name, _ in protocol.handler.events] == ["HeldEvent"]


def test_a_response_that_does_not_say_what_we_need_fails_cleanly(link):
    protocol, transport, _, _ = link
    result = outcome(protocol.request(
        "MakeCall", b"<MakeCall/>", lambda root: codec.descendant_text(root, "callID").upper()))
    (invoke, _), = sent(transport)
    protocol.dataReceived(frame(invoke, build("MakeCallResponse", [])))
    assert result[0].check(DriverError) and "unreadable MakeCallResponse" in str(result[0].value)


def test_system_status_from_the_switch_is_answered_with_its_own_invoke_id(link):
    protocol, transport, _, _ = link
    protocol.dataReceived(frame("0042", build("SystemStatus", [("systemStatus", "normal")])))
    (invoke, body), = sent(transport)
    assert invoke == "0042"
    assert codec.local_name(codec.parse(body).tag) == "SystemStatusResponse"


def test_events_and_route_requests_go_to_the_handler(link):
    protocol, _, _, handler = link
    protocol.dataReceived(frame("9999", build("ConnectionClearedEvent", [
        ("droppedConnection", [("callID", "3"), ("deviceID", "1001")])])))
    protocol.dataReceived(frame("0005", build("RouteRequest", [("crossRefIdentifier", "R1")])))
    protocol.dataReceived(frame("9999", b"<broken"))
    assert [name for name, _ in handler.events] == ["ConnectionClearedEvent"]
    assert handler.routes == ["0005"]


def test_link_loss_fails_every_pending_request_with_link_down(link):
    protocol, transport, clock, handler = link
    results = [outcome(protocol.request("HoldCall", b"<x/>")) for _ in range(3)]
    protocol.connectionLost(Failure(ConnectionDone()))
    assert all(result[0].check(LinkDown) for result in results)
    assert clock.getDelayedCalls() == []
    assert handler.lost == 1
    transport.loseConnection()
    assert outcome(protocol.request("HoldCall", b"<x/>"))[0].check(LinkDown)


def test_fire_and_forget_requests_succeed_when_sent_and_log_later_errors(link):
    protocol, transport, clock, _ = link
    result = outcome(protocol.request("RouteSelect", b"<RouteSelect/>", None))
    assert result == [None]
    (invoke, _), = sent(transport)
    protocol.dataReceived(frame(invoke, build("CSTAErrorCode", [("operation", "generic")])))
    assert clock.getDelayedCalls() == []


def test_when_every_invoke_id_is_in_flight_a_request_fails_instead_of_reusing_one(link):
    protocol, transport, _, _ = link
    # As if 9997 requests were waiting (sending them for real makes task.Clock crawl).
    protocol._pending.update(dict.fromkeys(f"{number:04d}" for number in range(1, 9998)))
    last = outcome(protocol.request("SystemStatus", b"<x/>"))
    assert last == [] and [invoke for invoke, _ in sent(transport)] == ["9998"]
    result = outcome(protocol.request("HoldCall", b"<HoldCall/>"))
    assert result[0].check(DriverError) and result[0].value.code == "busy"
    assert transport.value() == b""
