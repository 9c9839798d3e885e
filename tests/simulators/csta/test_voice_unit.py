"""The voice unit on the wire: PlayMessage over a queued caller's connection is answered with
PlayMessageResponse and reported to the queue's monitor as PlayEvent (connection, message,
length in milliseconds); Stop ends it with StopEvent; a connection that does not exist is
refused with the CSTA error naming what is wrong."""

from __future__ import annotations

import pytest

from tests.simulators.csta.test_services import conn, local, q

CALLER = "+4930123456"


def over(call_id: str, device: str, field: str = "overConnection") -> str:
    return conn(field, call_id, device)


@pytest.fixture
def queued(peer, switch):
    """(call ID, monitor cross-ref of queue 6000) with a caller waiting at the queue."""
    xref = peer.monitor("6000")
    call_id = switch.inbound_call(CALLER, "6000")
    peer.frames()
    return call_id, xref


def test_play_message_is_reported_as_a_play_event(peer, queued, clock):
    call_id, xref = queued
    peer.request("PlayMessage", "<messageToBePlayed>queue-position:1</messageToBePlayed>"
                 + over(call_id, "6000"))
    (_, answer), (_, event) = peer.frames()
    assert local(answer) == "PlayMessageResponse"
    assert local(event) == "PlayEvent"
    assert event.findtext(q("monitorCrossRefID")) == xref
    assert event.findtext(f"{q('connection')}/{q('callID')}") == call_id
    assert event.findtext(f"{q('connection')}/{q('deviceID')}") == "6000"
    assert event.findtext(q("message")) == "queue-position:1"
    assert event.findtext(q("length")) == "3000"
    clock.advance(3)
    ((_, ended),) = peer.frames()
    assert local(ended) == "StopEvent" and ended.findtext(q("message")) == "queue-position:1"


def test_stop_ends_the_music(peer, queued):
    call_id, _ = queued
    peer.request("PlayMessage", "<messageToBePlayed>music:default</messageToBePlayed>"
                 + over(call_id, "6000"))
    assert peer.names() == ["PlayMessageResponse", "PlayEvent"]
    peer.request("Stop", over(call_id, "6000", "connection")
                 + "<messageToBeStopped>music:default</messageToBeStopped>")
    frames = peer.frames()
    assert [local(root) for _, root in frames] == ["StopResponse", "StopEvent"]
    assert frames[1][1].findtext(q("message")) == "music:default"


@pytest.mark.parametrize(("call", "device", "value"), [
    ("999", "6000", "invalidCallID"), (None, "1001", "invalidConnectionID")])
def test_play_message_on_a_connection_that_does_not_exist_is_refused(peer, queued, call,
                                                                      device, value):
    call_id, _ = queued
    peer.request("PlayMessage", "<messageToBePlayed>queue-position:1</messageToBePlayed>"
                 + over(call or call_id, device))
    ((_, root),) = peer.frames()
    assert root.tag == q("CSTAErrorCode")
    assert root[0].tag == q("operation") and root[0].text == value


def test_stop_with_nothing_playing_is_a_state_incompatibility(peer, queued):
    call_id, _ = queued
    peer.request("Stop", over(call_id, "6000", "connection"))
    ((_, root),) = peer.frames()
    assert root.tag == q("CSTAErrorCode") and root[0].tag == q("stateIncompatibility")


def test_a_switch_without_voice_unit_refuses_play_message(peer, queued, factory):
    call_id, _ = queued
    factory.refused_services.update({"PlayMessage", "Stop"})
    peer.request("PlayMessage", "<messageToBePlayed>queue-position:1</messageToBePlayed>"
                 + over(call_id, "6000"))
    ((_, root),) = peer.frames()
    assert root.tag == q("CSTAErrorCode")
    assert root[0].tag == q("operation") and root[0].text == "generic"
