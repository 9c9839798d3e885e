"""SmdrListener: the record-sink hook the server's database spool plugs into."""

from __future__ import annotations

import os

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.protocol import Factory, Protocol

from drivers.serial.smdr.listener import SmdrListener

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


class PushOnce(Protocol):
    """A terminal server port: sends its capture, then drops the connection."""

    def __init__(self, data: bytes, connections: list) -> None:
        self.data, self.connections = data, connections

    def connectionMade(self) -> None:
        self.connections.append(self)
        self.transport.write(self.data)
        self.transport.loseConnection()


def wait_for(predicate, timeout: float = 5.0) -> defer.Deferred:
    @defer.inlineCallbacks
    def poll():
        for _ in range(int(timeout / 0.02)):
            if predicate():
                return
            d = defer.Deferred()
            reactor.callLater(0.02, d.callback, None)
            yield d
        raise AssertionError("condition not met in time")

    return poll()


@pytest_twisted.inlineCallbacks
def test_records_reach_the_sink_and_the_port_is_reopened_after_a_drop():
    data = open(os.path.join(FIXTURES, "avaya-ip-office.csv"), "rb").read()
    connections: list = []
    port = reactor.listenTCP(
        0, Factory.forProtocol(lambda: PushOnce(data, connections)), interface="127.0.0.1"
    )
    records, warnings = [], []
    listener = SmdrListener(
        f"serial+tcp://127.0.0.1:{port.getHost().port}", records.append, warn=warnings.append,
        reconnect_delay=0.05,
    )
    try:
        listener.start()
        yield wait_for(lambda: len(records) >= 8)
        assert len(connections) >= 2
        assert [r.format for r in records[:8]] == ["avaya-ipo"] * 8
        assert any("reopening" in warning for warning in warnings)
    finally:
        yield listener.stop()
        yield port.stopListening()
    assert listener.closed.called


@pytest_twisted.inlineCallbacks
def test_without_reconnect_the_loss_is_reported_on_closed():
    listener = SmdrListener("serial+tcp://127.0.0.1:1", lambda record: None, reconnect_delay=None)
    listener.start()
    why = yield listener.closed
    assert why.startswith("cannot open 127.0.0.1:1: ")


def test_format_is_checked_when_the_listener_is_made():
    with pytest.raises(ValueError, match="unknown SMDR format"):
        SmdrListener("serial:///dev/ttyS1", lambda record: None, format="meridian")
