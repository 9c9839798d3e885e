"""The voice unit on the driver side: play_message and stop_message are PlayMessage and Stop
requests over a connection, the switch's error comes back as DriverError, and PlayEvent /
StopEvent arrive as normalised play / stop events carrying the message ID
(docs/csta-wire.md, "Voice unit")."""

from __future__ import annotations

from cti import events as ev
from drivers.base import DriverError, voice_unit
from drivers.csta import codec
from tests.drivers.csta.test_csta_driver import outcome, up


def test_play_message_is_a_play_message_request_over_the_connection():
    driver, _, _, switch = up(("1001", "1900"))
    assert voice_unit(driver) is driver
    played = outcome(driver.play_message("7", "1900", "queue-position:2;expected-wait:60"))
    request = switch.request("PlayMessage")
    assert request.text("messageToBePlayed") == "queue-position:2;expected-wait:60"
    assert codec.connection_of(codec.child(request.root, "overConnection")) == ("7", "1900")
    switch.answer(request, "PlayMessageResponse")
    assert played == [None]


def test_stop_names_the_message_or_nothing_for_everything():
    driver, _, _, switch = up(("1001", "1900"))
    driver.stop_message("7", "1900", "music:default")
    request = switch.request("Stop")
    assert request.text("messageToBeStopped") == "music:default"
    assert codec.connection_of(codec.child(request.root, "connection")) == ("7", "1900")
    switch.answer(request, "StopResponse")
    everything = outcome(driver.stop_message("7", "1900"))
    request = switch.request("Stop")
    assert request.text("messageToBeStopped") is None
    switch.answer(request, "StopResponse")
    assert everything == [None]


def test_a_refused_play_message_fails_with_the_switch_error():
    driver, _, _, switch = up(("1001", "1900"))
    played = outcome(driver.play_message("999", "1900", "music:default"))
    switch.error(switch.request("PlayMessage"), "operation", "invalidCallID")
    (failure,) = played
    assert failure.check(DriverError)
    assert failure.value.code == "invalidCallID" and "PlayMessage" in str(failure.value)


def test_play_and_stop_events_are_normalised_with_their_message():
    _, _, events, switch = up(("1001", "1900"))
    connection = ("connection", [("callID", "7"), ("deviceID", "1900")])
    switch.event("PlayEvent", [("monitorCrossRefID", switch.monitor_xrefs["1900"]), connection,
                               ("message", "queue-position:1"), ("length", "3000")])
    switch.event("StopEvent", [("monitorCrossRefID", switch.monitor_xrefs["1900"]), connection,
                               ("message", "queue-position:1")])
    assert [(e.event, e.call_id, e.device, e.monitor, e.data) for e in events
            if e.event in ev.VOICE_UNIT_EVENTS] == [
        (ev.PLAY, "7", "1900", "1900", {"message": "queue-position:1", "length": "3000"}),
        (ev.STOP, "7", "1900", "1900", {"message": "queue-position:1"}),
    ]
    assert events[-1].to_dict()["data"] == {"message": "queue-position:1"}


def test_a_driver_without_voice_unit_commands_is_told_apart():
    class Plain:
        def play_message(self, call_id, device, message):
            return None

    assert voice_unit(Plain()) is None and voice_unit(object()) is None
