"""Announcements, voice mail and the voice unit of the simulated switch: an announcement
answers, plays for its length and clears the call; voice mail records the caller into the
mailbox of the device that sent the call there; PlayMessage over a queued caller's connection
reports Play, ends by itself (Stop) or on request, and music resumes after each message."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from simulators.pbx import InvalidCall, InvalidConnection, InvalidState, Switch, SwitchError
from tests.simulators.conftest import Recorder
from tests.simulators.pbx.test_invariants import check

CALLER = "+4930123456"


@pytest.fixture
def media(switch):
    switch.add_announcement("7001", seconds=8.0)
    switch.add_voicemail("700", max_seconds=60.0)
    return switch


def plays(recorder: Recorder) -> list[tuple[str, str, str | None]]:
    return [(e.kind, e.device, e.details["message"]) for e in recorder.events
            if e.kind in ("play", "stop")]


def test_an_announcement_answers_plays_for_its_length_and_clears_the_call(media, clock,
                                                                           recorder):
    call_id = media.inbound_call(CALLER, "7001")
    assert media.snapshot_call(call_id) == [(CALLER, "connected"), ("7001", "connected")]
    assert plays(recorder) == [("play", "7001", "announcement:7001")]
    assert recorder.last("play").details["length"] == 8.0
    clock.advance(7.9)
    assert call_id in media.calls
    clock.advance(0.1)
    assert call_id not in media.calls
    assert plays(recorder)[-1] == ("stop", "7001", "announcement:7001")
    assert recorder.events[-1].kind == "call_cleared"
    assert not clock.getDelayedCalls()


def test_a_caller_hanging_up_during_the_announcement_leaves_nothing_behind(media, clock,
                                                                           recorder):
    call_id = media.inbound_call(CALLER, "7001")
    media.clear_connection(call_id, CALLER)
    assert call_id not in media.calls and not clock.getDelayedCalls()
    assert media.snapshot_device("7001") == []


def test_voice_mail_records_the_caller_until_they_hang_up(media, clock):
    call_id = media.inbound_call(CALLER, "6000")
    clock.advance(2)
    media.deflect_call(call_id, "6000", "700")
    assert ("700", "connected") in media.snapshot_call(call_id)
    clock.advance(12.5)
    media.clear_connection(call_id, CALLER)
    (message,) = media.voice_messages()
    assert (message.mailbox, message.caller, message.time, message.seconds) == (
        "6000", CALLER, 2.0, 12.5)
    assert media.voice_messages("6000") == [message] and media.voice_messages("6001") == []
    assert not clock.getDelayedCalls()


def test_voice_mail_stops_recording_at_its_maximum_length(media, clock):
    call_id = media.inbound_call(CALLER, "700")
    clock.advance(60)
    assert call_id not in media.calls
    (message,) = media.voice_messages("700")
    assert message.seconds == 60.0 and message.caller == CALLER


def test_a_message_played_to_a_queued_caller_ends_by_itself(media, clock, recorder):
    call_id = media.inbound_call(CALLER, "6000")
    recorder.events.clear()
    media.play_message(call_id, "6000", "queue-position:1;expected-wait:180")
    assert plays(recorder) == [("play", "6000", "queue-position:1;expected-wait:180")]
    assert recorder.last("play").call_id == call_id
    clock.advance(media.message_seconds)
    assert plays(recorder)[-1] == ("stop", "6000", "queue-position:1;expected-wait:180")
    assert media.snapshot_call(call_id) == [(CALLER, "connected"), ("6000", "queued")]


def test_music_plays_until_stopped_and_resumes_after_a_message(media, clock, recorder):
    call_id = media.inbound_call(CALLER, "6000")
    recorder.events.clear()
    media.play_message(call_id, "6000", "music:default")
    media.play_message(call_id, "6000", "queue-position:2")
    clock.advance(media.message_seconds)
    clock.advance(600)
    assert plays(recorder) == [
        ("play", "6000", "music:default"), ("stop", "6000", "music:default"),
        ("play", "6000", "queue-position:2"), ("stop", "6000", "queue-position:2"),
        ("play", "6000", "music:default")]
    recorder.events.clear()
    media.stop_message(call_id, "6000")
    assert plays(recorder) == [("stop", "6000", "music:default")]
    with pytest.raises(InvalidState):
        media.stop_message(call_id, "6000")


def test_stopping_a_message_by_its_id(media, clock, recorder):
    call_id = media.inbound_call(CALLER, "6000")
    media.play_message(call_id, "6000", "queue-position:1")
    with pytest.raises(InvalidState):
        media.stop_message(call_id, "6000", "queue-position:9")
    recorder.events.clear()
    media.stop_message(call_id, "6000", "queue-position:1")
    assert plays(recorder) == [("stop", "6000", "queue-position:1")]
    assert not clock.getDelayedCalls()


def test_a_deflected_caller_stops_hearing_the_queue_silently(media, clock, recorder):
    call_id = media.inbound_call(CALLER, "6000")
    media.play_message(call_id, "6000", "music:default")
    media.play_message(call_id, "6000", "queue-position:1")
    recorder.events.clear()
    media.deflect_call(call_id, "6000", "1001")
    assert plays(recorder) == [] and not clock.getDelayedCalls()


def test_play_message_is_refused_where_nothing_can_be_heard(media, phones):
    call_id = media.inbound_call(CALLER, "6000")
    with pytest.raises(InvalidCall):
        media.play_message("999", "6000", "queue-position:1")
    with pytest.raises(InvalidConnection):
        media.play_message(call_id, "1001", "queue-position:1")
    with pytest.raises(SwitchError) as refused:
        media.play_message(call_id, "6000", " ")
    assert refused.value.value == "invalidParameterValue"
    ringing = phones.call("1001", "1002")
    with pytest.raises(InvalidState):
        media.play_message(ringing, "1002", "queue-position:1")


def test_announcement_and_voice_mail_numbers_are_checked(media):
    with pytest.raises(ValueError):
        media.add_announcement("7001")
    with pytest.raises(ValueError):
        media.add_announcement("7002", seconds=0)
    with pytest.raises(ValueError):
        media.add_voicemail("701", max_seconds=-1)


MEDIA_ACTIONS = st.one_of(
    st.tuples(st.just("call"), st.sampled_from(["+4930111", "+4930222"]),
              st.sampled_from(["6000", "700", "7001"])),
    st.tuples(st.sampled_from(["play", "stop"]), st.integers(0, 3),
              st.sampled_from([None, "music:default", "queue-position:1"])),
    st.tuples(st.just("deflect"), st.integers(0, 3),
              st.sampled_from(["1001", "700", "7001", "7002"])),
    st.tuples(st.just("hangup"), st.integers(0, 3)),
    st.tuples(st.just("tick"), st.floats(min_value=0, max_value=5)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MEDIA_ACTIONS, max_size=30))
def test_whatever_callers_hear_ends_with_their_connection(actions):
    """Nothing plays over, or records, a connection that has left its call; every message
    is filed once, no longer than the maximum; no timer outlives the switch."""
    clock = Clock()
    switch = Switch(clock, external_answer_seconds=None)
    switch.add_extensions(["1001"])
    switch.add_queue("6000")
    switch.add_voicemail("700", max_seconds=6)
    switch.add_announcement("7001", seconds=2)
    switch.add_announcement("7002", seconds=1, returns=True)
    for name, *args in actions:
        calls = sorted(switch.calls, key=int)
        call_id = calls[args[0] % len(calls)] if calls and name not in ("call", "tick") else None
        try:
            if name == "call":
                switch.inbound_call(*args)
            elif name == "tick":
                clock.advance(args[0])
            elif call_id is None:
                continue
            elif name in ("play", "stop", "deflect"):
                device = "6000" if "6000" in switch.calls[call_id].connections else "1001"
                if name == "deflect":
                    switch.deflect_call(call_id, device, args[1])
                else:
                    getattr(switch, f"{name}_message")(call_id, device, args[1] or "music:x")
            else:
                caller = switch.calls[call_id].calling
                switch.clear_connection(call_id, caller)
        except SwitchError:
            pass
        check(switch)
    filed = switch.voice_messages()
    assert len({m.call_id for m in filed}) == len(filed)
    switch.close()
    assert clock.getDelayedCalls() == []


def test_a_delay_announcement_hands_the_call_back_to_its_queue(switch, clock, recorder):
    switch.add_announcement("7002", seconds=5.0, returns=True)
    call_id = switch.inbound_call(CALLER, "6000")
    switch.deflect_call(call_id, "6000", "7002")
    recorder.events.clear()
    clock.advance(5)
    assert [(e.kind, e.device) for e in recorder.events] == [
        ("stop", "7002"), ("diverted", "7002"), ("queued", "6000")]
    assert recorder.last("diverted").details["new_destination"] == "6000"
    assert switch.snapshot_call(call_id) == [(CALLER, "connected"), ("6000", "queued")]
    assert switch.snapshot_device("7002") == [] and not clock.getDelayedCalls()


def test_a_delay_announcement_dialled_straight_clears_the_call(switch, clock):
    switch.add_announcement("7002", seconds=5.0, returns=True)
    call_id = switch.inbound_call(CALLER, "7002")
    clock.advance(5)
    assert call_id not in switch.calls
