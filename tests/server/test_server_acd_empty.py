"""A queue that refuses callers while it is empty (join_empty false) sends them on, as Asterisk's
dialplan goes on after a joinempty refusal: to the queue's `empty_target` option, else to its
overflow target, here a voice mail pilot where the caller leaves a message. Run by the live
server against the simulated switch over loopback; every assertion about the call reads the
switch (its connections and mailboxes), queue-log rows are read from db/."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from cti.server import testing
from tests.server.test_server_announcements import CALLER, QUEUE_DEVICE, VOICEMAIL, serve
from tests.server.test_server_ring_all import queue_log


@pytest.fixture
def pbx():
    simulated = testing.SimulatedPbx(message_seconds=0.3)
    simulated.switch.add_voicemail(VOICEMAIL, max_seconds=30)
    yield simulated
    pytest_twisted.blockon(simulated.close())


@pytest.fixture
def server(tmp_path, pbx):
    """start(**settings of queue `sales`) -> running server; stopped after the test."""
    servers = []

    def start(**settings):
        d = serve(tmp_path, pbx, **settings)
        d.addCallback(lambda running: servers.append(running) or running)
        return d

    yield start
    for running in servers:
        pytest_twisted.blockon(running.stop())


@pytest.mark.parametrize("settings", [
    {"options": {"empty_target": f"voicemail:{VOICEMAIL}"}, "overflow_target": "0800"},
    {"overflow_target": f"voicemail:{VOICEMAIL}"},
], ids=["empty_target", "overflow_target"])
@pytest_twisted.inlineCallbacks
def test_a_caller_refused_by_an_empty_queue_leaves_a_voice_mail(server, pbx, settings):
    running = yield server(join_empty=False, **settings)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    rows = yield queue_log(running, call_id, lambda rows: ("overflow", None) in rows)
    assert ("overflow", None) in rows and ("enter", None) not in rows
    yield testing.wait_for(lambda: pbx.switch.snapshot_call(call_id) == [
        (CALLER, "connected"), (VOICEMAIL, "connected")], timeout=5)
    acd = running.services.acd.tenants["acme"]
    assert call_id not in acd.engine.calls and call_id not in acd.queue_devices

    yield task.deferLater(reactor, 0.3, lambda: None)
    pbx.switch.clear_connection(call_id, CALLER)
    assert [(m.caller, m.call_id) for m in pbx.switch.voice_messages()] == [(CALLER, call_id)]


@pytest_twisted.inlineCallbacks
def test_without_any_target_the_refused_caller_is_cleared(server, pbx):
    running = yield server(join_empty=False)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(lambda: call_id not in pbx.switch.calls, timeout=5)
    assert pbx.switch.voice_messages() == []
    rows = yield queue_log(running, call_id, lambda rows: ("exit-empty", None) in rows)
    assert ("exit-empty", None) in rows and ("overflow", None) not in rows
