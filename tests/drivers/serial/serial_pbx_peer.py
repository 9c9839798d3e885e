"""A scripted PBX end of the serial CTI link, for driver tests over real ptys and TCP.

Written from docs/serial-link-protocol.md alone: frames are assembled here byte by byte with
the BCC computed here, and the driver's frames are picked apart with a regular expression of
the spec, so the driver's own encoder and decoder are checked rather than reused.
"""

from __future__ import annotations

import os
import re
from functools import reduce

from twisted.internet import defer, reactor
from twisted.internet.protocol import Protocol

STX, ETX, EOT, ENQ, ACK, NAK = b"\x02", b"\x03", b"\x04", b"\x05", b"\x06", b"\x15"
_HOST_FRAME = re.compile(rb"\x02([0-9])([\x20-\x7e]*)\x03([0-9A-F]{2})")


def bcc(body: bytes) -> bytes:
    return b"%02X" % reduce(lambda a, b: a ^ b, body, 0)


def frame(seq: int, text: str) -> bytes:
    body = str(seq).encode() + text.encode("ascii") + ETX
    return STX + body + bcc(body)


class ScriptedPbx:
    """Answers ENQ, ACKs the host's frames, records their texts, sends frames on request."""

    def __init__(self, write) -> None:
        self.write = write
        self.buffer = b""
        self.requests: list[str] = []
        """Host frames no test has asked for yet (request() takes them in order)."""
        self.texts: list[str] = []
        """Every host frame's text, in order."""
        self.raw_frames: list[bytes] = []
        self.acks: list[bytes] = []
        self.enqs = 0
        self.eots = 0
        self.naks = 0
        self.errors: list[str] = []
        self.last_sent = b""
        self.last_answer = NAK
        self.next_seq = 0
        self._waiters: list[tuple[str, defer.Deferred]] = []

    def received(self, data: bytes) -> None:
        self.buffer += data
        while self.buffer:
            head = self.buffer[:1]
            if head == ENQ:
                self.enqs += 1
                self.buffer = self.buffer[1:]
                self.write(self.last_answer)
            elif head == EOT:
                self.eots += 1
                self.buffer = self.buffer[1:]
            elif head == NAK:  # the spec: retransmit the unacknowledged frame
                self.naks += 1
                self.buffer = self.buffer[1:]
                if self.last_sent:
                    self.write(self.last_sent)
            elif head == ACK:
                if len(self.buffer) < 2:
                    return
                self.acks.append(self.buffer[:2])
                self.buffer = self.buffer[2:]
            elif head == STX:
                match = _HOST_FRAME.match(self.buffer)
                if match is None:
                    if ETX in self.buffer and len(self.buffer) > self.buffer.index(ETX) + 2:
                        self.errors.append(f"driver sent a malformed frame: {self.buffer!r}")
                        self.buffer = b""
                    return
                raw = match.group(0)
                self.buffer = self.buffer[len(raw):]
                body = raw[1:-2]
                if raw[-2:] != bcc(body):
                    self.errors.append(f"bad BCC from the driver: {raw!r}")
                self.raw_frames.append(raw)
                self.last_answer = ACK + match.group(1)
                self.write(self.last_answer)
                text = match.group(2).decode("ascii")
                self.texts.append(text)
                for waiter in list(self._waiters):
                    if text.startswith(waiter[0]):
                        self._waiters.remove(waiter)
                        waiter[1].callback(text)
                        break
                else:
                    self.requests.append(text)
            else:
                self.errors.append(f"unexpected bytes from the driver: {self.buffer!r}")
                self.buffer = b""

    def send(self, text: str) -> bytes:
        data = frame(self.next_seq, text)
        self.next_seq = (self.next_seq + 1) % 10
        self.last_sent = data
        self.write(data)
        return data

    def request(self, prefix: str, timeout: float = 5.0) -> defer.Deferred:
        """Fires with the text of the next host frame starting with `prefix`."""
        for text in self.requests:
            if text.startswith(prefix):
                self.requests.remove(text)
                return defer.succeed(text)
        waiter = defer.Deferred()
        self._waiters.append((prefix, waiter))
        return within(waiter, timeout)


def within(d: defer.Deferred, seconds: float) -> defer.Deferred:
    """Bounded wait on the real reactor: the test fails instead of hanging."""
    return d.addTimeout(seconds, reactor)


class PtyMaster:
    """The PBX end of a pty pair: the master descriptor watched by the reactor."""

    def __init__(self, fd: int, pbx_factory=ScriptedPbx) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        self.pbx = pbx_factory(self.write)
        reactor.addReader(self)

    def fileno(self) -> int:
        return self.fd

    def logPrefix(self) -> str:
        return "pty-pbx"

    def doRead(self) -> None:
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        except OSError:  # the slave side closed
            reactor.removeReader(self)
            return
        if data:
            self.pbx.received(data)

    def connectionLost(self, reason) -> None:
        pass

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        reactor.removeReader(self)
        os.close(self.fd)


class TcpPbx(Protocol):
    """The PBX end over TCP (a terminal server port)."""

    def __init__(self, connections: list) -> None:
        self.connections = connections

    def connectionMade(self) -> None:
        self.pbx = ScriptedPbx(self.transport.write)
        self.connections.append(self)

    def dataReceived(self, data: bytes) -> None:
        self.pbx.received(data)
