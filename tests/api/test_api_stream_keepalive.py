"""The hub pings idle streams on the clock and drops one that misses two pings."""

from __future__ import annotations

import json
import time

from twisted.internet.task import Clock
from wsproto.utilities import LocalProtocolError

from cti.api.auth import Session
from cti.api.stream import Audience, EventHub, EventStream


class RecordingTransport:
    """The WebSocketTransport surface a stream writes to, recorded for inspection."""

    def __init__(self) -> None:
        self.sent: list[dict] = []
        self.pings = 0
        self.closed_with: int | None = None

    def sendTextMessage(self, text: str) -> None:
        self.sent.append(json.loads(text))

    def ping(self, payload: bytes = b"") -> None:
        self.pings += 1

    def loseConnection(self, code: int = 1000) -> None:
        self.closed_with = code


def _stream(hub, agent_id="1001", expires=None):
    expires = time.time() + 60 if expires is None else expires
    session = Session("tok-" + agent_id, agent_id, "agent", "acme", expires, agent_id, agent_id)
    stream = EventStream(hub, session)
    transport = RecordingTransport()
    stream.negotiationStarted(transport)
    stream.negotiationFinished()
    return stream, transport


def test_hello_first_then_pings_then_drop_after_two_missed():
    clock = Clock()
    gone = []
    hub = EventHub(clock, lambda s: {"session": {"user": s.user}, "calls": [], "agent": None},
                   ping_interval=20, on_disconnect=gone.append)
    hub.start()
    stream, transport = _stream(hub)
    assert transport.sent[0]["event"] == "hello"
    clock.advance(20)
    assert transport.pings == 1
    stream.pongReceived(b"cti")
    clock.advance(20)
    clock.advance(20)
    assert transport.pings == 3 and transport.closed_with is None
    clock.advance(20)
    assert transport.closed_with == 1001
    hub.stop()


def test_publish_counts_only_the_streams_that_may_see_it():
    hub = EventHub(Clock(), lambda s: {})
    _, mine = _stream(hub, "1001")
    _, theirs = _stream(hub, "1002")
    delivered = hub.publish({"event": "delivered"}, Audience("acme", frozenset({"1001"})))
    assert delivered == 1
    assert mine.sent[-1] == {"event": "delivered"}
    assert theirs.sent[-1]["event"] == "hello"


def test_a_stream_whose_token_expires_is_told_and_closed():
    clock = Clock()
    hub = EventHub(clock, lambda s: {}, ping_interval=20)
    hub.start()
    _, transport = _stream(hub, expires=30)
    clock.advance(20)
    assert transport.closed_with is None
    clock.advance(20)
    assert transport.sent[-1]["code"] == "unauthorized"
    assert transport.closed_with == 1008
    hub.stop()


class ClosingTransport(RecordingTransport):
    """The client's close frame has arrived; connectionLost has not run yet."""

    def sendTextMessage(self, text: str) -> None:
        raise LocalProtocolError("cannot be sent in state ConnectionState.CLOSED")


def test_a_stream_closing_between_close_frame_and_connection_lost_is_skipped():
    """A desktop logs out by closing its stream, then DELETE /sessions/current: the agent_state
    the logout publishes must not fail that request, nor miss the other streams."""
    gone = []
    hub = EventHub(Clock(), lambda s: {}, on_disconnect=gone.append)
    closing, _ = _stream(hub, "1001")
    closing.transport = ClosingTransport()
    _, supervisor = _stream(hub, "1002")
    everyone = Audience("acme", frozenset({"1001", "1002"}))
    assert hub.publish({"event": "agent_state"}, everyone) == 1
    assert supervisor.sent[-1] == {"event": "agent_state"}
    closing.send({"event": "pong"})
    closing.connectionLost(None)
    assert [s.user for s in gone] == ["1001"] and closing not in hub.streams
