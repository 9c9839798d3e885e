"""Link URLs and the pty end a simulated PBX sits on."""

from __future__ import annotations

import os

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.protocol import Protocol

from drivers.serial.transport import PtyPort, parse_link_url


def test_serial_url_line_settings_and_options():
    address = parse_link_url("serial:///dev/ttyS0?baud=9600&bytesize=7&parity=E&stopbits=2&dialect=generic")
    assert (address.device, address.baud, address.bytesize, address.parity, address.stopbits) == (
        "/dev/ttyS0", 9600, 7, "E", "2"
    )
    assert address.options == {"dialect": "generic"} and not address.threaded
    assert address.describe() == "/dev/ttyS0 9600 7E2"


def test_defaults_are_9600_8n1():
    address = parse_link_url("serial:///dev/ttyUSB0")
    assert (address.baud, address.bytesize, address.parity, address.stopbits) == (9600, 8, "N", "1")


def test_terminal_server_url():
    address = parse_link_url("serial+tcp://ts1.example.net:4001")
    assert (address.scheme, address.host, address.port) == ("serial+tcp", "ts1.example.net", 4001)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("serial:///dev/ttyS0?baud=fast", "numbers"),
        ("serial:///dev/ttyS0?bytesize=9", "bytesize"),
        ("serial:///dev/ttyS0?stopbits=3", "stopbits"),
        ("serial+tcp://host", "HOST:PORT"),
        ("tcp://host:1", "not a serial link URL"),
    ],
)
def test_bad_urls_say_what_is_wrong(url, message):
    with pytest.raises(ValueError, match=message):
        parse_link_url(url)


class Recorder(Protocol):
    def __init__(self) -> None:
        self.data = b""
        self.got = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if not self.got.called:
            self.got.callback(None)


def pause(seconds: float = 0.01) -> defer.Deferred:
    d = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


@pytest_twisted.inlineCallbacks
def test_pty_port_carries_bytes_both_ways_and_survives_the_slave_reopening():
    recorder = Recorder()
    port = PtyPort(recorder, reactor)
    try:
        for attempt in (b"first\x02\x03", b"second"):
            fd = os.open(port.slave_path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
            recorder.got = defer.Deferred()
            os.write(fd, attempt)
            yield recorder.got.addTimeout(5, reactor)
            port.write(b"\x06" + attempt[:1])
            echoed = b""
            for _ in range(200):
                try:
                    echoed += os.read(fd, 10)
                except BlockingIOError:
                    yield pause()
                if echoed:
                    break
            os.close(fd)
            assert echoed == b"\x06" + attempt[:1]
        assert recorder.data == b"first\x02\x03second"  # raw: no echo, no line editing
    finally:
        port.loseConnection()
