"""What a caller of an ACD queue hears, run by the live server against the simulated switch over
loopback: a queue nobody serves sends its callers to voice mail after the maximum wait (the
switch keeps a message from the caller's number) or to an announcement that plays and ends the
call; a caller waiting at a queue device hears the queue's music, the enter message with place
and expected wait, and a position update every `announce_every` seconds. Every assertion reads
the simulated switch: its mailboxes and the Play / Stop events of its voice unit."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import pytest_twisted
from twisted.internet import defer, reactor, task
from twisted.logger import globalLogPublisher

from cti.acd.decisions import Target
from cti.server import testing
from cti.server.acd import position_message
from cti.server.acdconfig import stored_target
from db import queues as db_queues
from db.tenants import get_tenant
from tests.server.test_server_acd_routing import alerting, ready
from tests.server.test_server_ring_all import queue_log

QUEUE_DEVICE = "1900"
"""Queue device of the switch, the number of queue `sales` in the demo tenant."""
VOICEMAIL = "700"
ANNOUNCEMENT = "7001"
CALLER = "+4930111222"


class VoiceUnit:
    """The messages the switch played: (play|stop, device, message ID), in order."""

    def __init__(self, switch) -> None:
        self.heard: list[tuple[str, str, str]] = []
        switch.subscribe(self._event)

    def _event(self, event) -> None:
        if event.kind in ("play", "stop"):
            self.heard.append((event.kind, event.device, event.details["message"]))

    def played(self, device: str) -> list[str]:
        return [message for kind, at, message in self.heard if kind == "play" and at == device]


@pytest.fixture
def pbx():
    simulated = testing.SimulatedPbx(message_seconds=0.3)
    simulated.switch.add_voicemail(VOICEMAIL, max_seconds=30)
    simulated.switch.add_announcement(ANNOUNCEMENT, seconds=0.4)
    yield simulated
    pytest_twisted.blockon(simulated.close())


@defer.inlineCallbacks
def serve(tmp_path, pbx, **settings):
    """The server on the simulated switch with the tenant's ACD loaded, queue `sales` changed
    by `settings` (its options by `options`): fires with the running server."""
    running = yield testing.start_server(tmp_path, links=[pbx.link()])

    def prepare(conn):
        db_queues.update_queue(conn, get_tenant(conn, "acme"), "sales", **settings)

    yield running.services.db.run(prepare)
    yield running.links_ready()
    record = yield running.services.db.run(get_tenant, "acme")
    yield running.services.acd.tenant(record)
    yield running.services.acd.reload("acme")
    return running


@pytest.fixture
def started(tmp_path, pbx):
    """start(**settings) -> running server; stopped after the test."""
    servers = []

    @defer.inlineCallbacks
    def start(**settings):
        running = yield serve(tmp_path, pbx, **settings)
        servers.append(running)
        return running

    yield start
    for running in servers:
        pytest_twisted.blockon(running.stop())


@pytest_twisted.inlineCallbacks
def test_a_caller_nobody_answers_leaves_a_voice_mail_after_the_maximum_wait(started, pbx):
    running = yield started(max_wait_seconds=1, join_empty=True,
                            overflow_target=f"voicemail:{VOICEMAIL}")
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(
        lambda: (VOICEMAIL, "connected") in pbx.switch.snapshot_call(call_id), timeout=5)
    assert QUEUE_DEVICE not in pbx.switch.calls[call_id].connections
    yield task.deferLater(reactor, 0.3, lambda: None)
    pbx.switch.clear_connection(call_id, CALLER)

    (message,) = pbx.switch.voice_messages()
    assert (message.mailbox, message.caller, message.call_id) == (QUEUE_DEVICE, CALLER, call_id)
    assert 0.2 < message.seconds < 5
    rows = yield queue_log(running, call_id, lambda rows: ("overflow", None) in rows)
    assert ("overflow", None) in rows
    assert call_id not in running.services.acd.tenants["acme"].queue_devices


@pytest_twisted.inlineCallbacks
def test_an_overflow_to_an_announcement_plays_it_and_the_call_ends(started, pbx):
    yield started(max_wait_seconds=1, join_empty=True,
                  overflow_target=f"announcement:{ANNOUNCEMENT}")
    voice = VoiceUnit(pbx.switch)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(lambda: voice.played(ANNOUNCEMENT), timeout=5)
    assert voice.played(ANNOUNCEMENT) == [f"announcement:{ANNOUNCEMENT}"]
    yield testing.wait_for(lambda: call_id not in pbx.switch.calls, timeout=5)
    assert voice.heard[-1] == ("stop", ANNOUNCEMENT, f"announcement:{ANNOUNCEMENT}")
    assert pbx.switch.voice_messages() == []


@pytest_twisted.inlineCallbacks
def test_a_waiting_caller_hears_music_place_and_wait_then_updates(started, pbx):
    running = yield started(join_empty=True, announce_position=True,
                            options={"announce_every": 1, "music": "default"})
    voice = VoiceUnit(pbx.switch)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    enter = "queue-position:1;expected-wait:180"
    yield testing.wait_for(lambda: enter in voice.played(QUEUE_DEVICE), timeout=5)
    assert voice.played(QUEUE_DEVICE) == ["music:default", enter]
    yield testing.wait_for(lambda: len(voice.played(QUEUE_DEVICE)) >= 5, timeout=5)
    assert voice.played(QUEUE_DEVICE)[:5] == [
        "music:default", enter, "music:default", enter, "music:default"]
    assert ("stop", QUEUE_DEVICE, enter) in voice.heard
    assert pbx.switch.snapshot_call(call_id) == [(CALLER, "connected"),
                                                 (QUEUE_DEVICE, "queued")]
    acd = running.services.acd.tenants["acme"]
    assert acd.engine.calls[call_id].state == "waiting"


@pytest_twisted.inlineCallbacks
def test_a_caller_back_from_an_agent_who_did_not_answer_hears_the_music_again(started, pbx):
    running = yield started(join_empty=True, ring_timeout_seconds=1,
                            options={"music": "default"})
    client = testing.ApiClient(running.url)
    try:
        yield ready(client, "1001")
        voice = VoiceUnit(pbx.switch)
        call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
        yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
        assert voice.played(QUEUE_DEVICE) == []
        yield testing.wait_for(lambda: voice.played(QUEUE_DEVICE), timeout=5)
        assert voice.played(QUEUE_DEVICE) == ["music:default"]
        assert (QUEUE_DEVICE, "queued") in pbx.switch.snapshot_call(call_id)
    finally:
        yield client.close()


def test_stored_targets_say_their_kind_before_a_colon_and_a_plain_number_is_a_number():
    assert stored_target("voicemail:700") == Target("voicemail", "700")
    assert stored_target("announcement:7001") == Target("announcement", "7001")
    assert stored_target("0301234567") == Target("number", "0301234567")
    assert stored_target("voicemail:") == Target("number", "voicemail:")


def test_the_position_message_names_place_and_whole_seconds_of_wait():
    assert position_message(3, 119.6) == "queue-position:3;expected-wait:120"
    assert position_message(1, None) == "queue-position:1"


@contextmanager
def play_warnings():
    """The warnings the ACD logs meanwhile about links that cannot play announcements."""
    warnings = []

    def observe(event):
        if event.get("log_namespace") == "cti.server.acd" \
                and "cannot play" in event.get("log_format", ""):
            warnings.append(event)

    globalLogPublisher.addObserver(observe)
    try:
        yield warnings
    finally:
        globalLogPublisher.removeObserver(observe)


@pytest_twisted.inlineCallbacks
def test_a_switch_that_cannot_play_is_logged_once_and_the_caller_waits_on(started, pbx):
    pbx.factory.refused_services.update({"PlayMessage", "Stop"})
    with play_warnings() as warnings:
        running = yield started(join_empty=True, announce_position=True,
                                options={"announce_every": 0.5, "music": "default"})
        voice = VoiceUnit(pbx.switch)
        call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
        yield task.deferLater(reactor, 1.8, lambda: None)
    assert len(warnings) == 1 and warnings[0]["link"] == "pbx1"
    assert voice.heard == []
    assert running.services.acd.tenants["acme"].engine.calls[call_id].state == "waiting"
    assert (QUEUE_DEVICE, "queued") in pbx.switch.snapshot_call(call_id)


@pytest_twisted.inlineCallbacks
def test_a_caller_gone_before_the_announcement_is_no_fault_of_the_link(started, pbx):
    """The switch refuses the messages for a caller who hung up at once (invalidCallID): the
    link is not reported, and a switch that later cannot play still is, once."""
    with play_warnings() as warnings:
        yield started(join_empty=True, announce_position=True, options={"music": "default"})
        voice = VoiceUnit(pbx.switch)
        gone = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
        pbx.switch.clear_connection(gone, CALLER)
        yield task.deferLater(reactor, 0.5, lambda: None)
        assert voice.heard == [] and warnings == []
        pbx.factory.refused_services.add("PlayMessage")
        pbx.switch.inbound_call("+4930333444", QUEUE_DEVICE)
        yield testing.wait_for(lambda: warnings, timeout=5)
    assert "operation/generic" in warnings[0]["why"]
