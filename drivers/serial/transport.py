"""Byte transports for serial PBX links: a local serial port, or a terminal server over TCP.

URLs (interfaces.md): ``serial:///dev/ttyS0?baud=9600&bytesize=8&parity=N&stopbits=1``
(also ``xonxoff=1``, ``rtscts=1``, and ``reader=thread`` to force the reader-thread transport),
``serial+tcp://HOST:PORT`` for a port on a terminal server (RFC 2217 options are not needed
for a port the terminal server has already configured). Other query keys are kept in
``options`` for the layer above (``dialect=`` for the CTI link, ``format=`` for SMDR).

On POSIX a serial port is Twisted's SerialPort (pyserial opens and configures it, the reactor
watches its descriptor). Where Twisted's SerialPort needs a special reactor (Windows) a reader
thread does the blocking reads and hands bytes to the reactor thread.
"""

from __future__ import annotations

import os
import pty
import threading
import tty
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import serial
from twisted.internet import abstract, defer, fdesc
from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol
from twisted.internet.interfaces import IReactorCore, ITransport
from twisted.internet.protocol import Protocol
from twisted.python import failure
from zope.interface import implementer

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD,
           "M": serial.PARITY_MARK, "S": serial.PARITY_SPACE}
_STOPBITS = {"1": serial.STOPBITS_ONE, "1.5": serial.STOPBITS_ONE_POINT_FIVE,
             "2": serial.STOPBITS_TWO}
_LINE_KEYS = {"baud", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "reader"}


@dataclass(frozen=True)
class LinkAddress:
    """Where a serial link is and how its line is set, parsed from a link URL."""

    scheme: str
    device: str | None = None
    host: str | None = None
    port: int | None = None
    baud: int = 9600
    bytesize: int = 8
    parity: str = "N"
    stopbits: str = "1"
    xonxoff: bool = False
    rtscts: bool = False
    threaded: bool = False
    options: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        if self.scheme == "serial+tcp":
            return f"{self.host}:{self.port}"
        return f"{self.device} {self.baud} {self.bytesize}{self.parity}{self.stopbits}"


def parse_link_url(url: str) -> LinkAddress:
    """The address of ``serial://`` or ``serial+tcp://`` URL; ValueError saying what is wrong."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    options = {k: v for k, v in query.items() if k not in _LINE_KEYS}
    if parts.scheme == "serial+tcp":
        if not parts.hostname or parts.port is None:
            raise ValueError(f"expected serial+tcp://HOST:PORT, got {url!r}")
        return LinkAddress("serial+tcp", host=parts.hostname, port=parts.port, options=options)
    if parts.scheme != "serial":
        raise ValueError(f"not a serial link URL: {url!r} (serial:///dev/X or serial+tcp://H:P)")
    device = unquote(parts.netloc + parts.path)
    if not device:
        raise ValueError(f"serial URL without a device: {url!r}")
    try:
        baud = int(query.get("baud", "9600"))
        bytesize = int(query.get("bytesize", "8"))
    except ValueError:
        raise ValueError(f"baud and bytesize must be numbers in {url!r}") from None
    parity = query.get("parity", "N").upper()[:1]
    stopbits = query.get("stopbits", "1")
    if bytesize not in (5, 6, 7, 8):
        raise ValueError(f"bytesize must be 5..8, got {bytesize}")
    if parity not in _PARITY:
        raise ValueError(f"parity must be one of {''.join(_PARITY)}, got {parity!r}")
    if stopbits not in _STOPBITS:
        raise ValueError(f"stopbits must be 1, 1.5 or 2, got {stopbits!r}")
    return LinkAddress(
        "serial", device=device, baud=baud, bytesize=bytesize, parity=parity,
        stopbits=stopbits, xonxoff=_flag(query.get("xonxoff")), rtscts=_flag(query.get("rtscts")),
        threaded=query.get("reader") == "thread" or os.name == "nt", options=options,
    )


def _flag(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "yes", "true", "on")


def open_link(address: LinkAddress, protocol: Protocol, reactor: IReactorCore) -> defer.Deferred:
    """Connects `protocol` to the link; fires with the transport, fails if the port cannot open."""
    if address.scheme == "serial+tcp":
        endpoint = TCP4ClientEndpoint(reactor, address.host, address.port, timeout=10)
        return connectProtocol(endpoint, protocol).addCallback(lambda _: protocol.transport)
    try:
        if address.threaded:
            transport = ThreadedSerialPort(protocol, address, reactor)
        else:
            from twisted.internet.serialport import SerialPort

            transport = SerialPort(
                protocol, address.device, reactor, baudrate=address.baud,
                bytesize=address.bytesize, parity=_PARITY[address.parity],
                stopbits=_STOPBITS[address.stopbits], xonxoff=address.xonxoff,
                rtscts=address.rtscts,
            )
    except (serial.SerialException, OSError, ValueError) as exc:
        errno = getattr(exc, "errno", None)
        return defer.fail(ConnectionError(os.strerror(errno) if errno else str(exc)))
    return defer.succeed(transport)


@implementer(ITransport)
class ThreadedSerialPort:
    """A serial port read by a thread: for platforms where the reactor cannot watch it.

    Reads block in the thread (with a short timeout so close is prompt) and are handed to the
    protocol on the reactor thread; writes happen on the reactor thread, which is fine for the
    few bytes a PBX link exchanges.
    """

    disconnecting = False

    def __init__(self, protocol: Protocol, address: LinkAddress, reactor: IReactorCore) -> None:
        self.reactor = reactor
        self.protocol = protocol
        self._serial = serial.serial_for_url(
            address.device, baudrate=address.baud, bytesize=address.bytesize,
            parity=_PARITY[address.parity], stopbits=_STOPBITS[address.stopbits],
            xonxoff=address.xonxoff, rtscts=address.rtscts, timeout=0.05,
        )
        self._closing = threading.Event()
        self._lost = False
        protocol.makeConnection(self)
        self._thread = threading.Thread(target=self._read_loop, name=f"serial {address.device}",
                                        daemon=True)
        self._thread.start()

    def _read_loop(self) -> None:
        reason: Exception | None = None
        while not self._closing.is_set():
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except (serial.SerialException, OSError, TypeError) as exc:
                reason = exc
                break
            if data:
                self.reactor.callFromThread(self._deliver, data)
        self.reactor.callFromThread(self._finish, reason)

    def _deliver(self, data: bytes) -> None:
        if not self._lost:
            self.protocol.dataReceived(data)

    def _finish(self, reason: Exception | None) -> None:
        if self._lost:
            return
        self._lost = True
        self._serial.close()
        if reason is None:
            from twisted.internet.error import ConnectionDone

            reason = ConnectionDone("serial port closed")
        self.protocol.connectionLost(failure.Failure(reason))

    def write(self, data: bytes) -> None:
        if self._lost or self.disconnecting:
            return
        try:
            self._serial.write(data)
        except (serial.SerialException, OSError) as exc:
            self.disconnecting = True
            self._closing.set()
            self.reactor.callLater(0, self._finish, exc)

    def writeSequence(self, data: list[bytes]) -> None:
        self.write(b"".join(data))

    def loseConnection(self) -> None:
        self.disconnecting = True
        self._closing.set()

    def getPeer(self) -> str:
        return f"serial:{self._serial.port}"

    def getHost(self) -> str:
        return f"serial:{self._serial.port}"


class PtyPort(abstract.FileDescriptor):
    """The far end of a pseudo-terminal, for a simulated PBX: the driver opens `slave_path`
    as if it were a serial port (``serial://<slave_path>``), this side reads and writes the
    master. The slave descriptor is held open too, so the pty survives the driver closing and
    reopening its port (otherwise the master would see end-of-file at the first close).
    POSIX only."""

    def __init__(self, protocol: Protocol, reactor: IReactorCore) -> None:
        if os.name != "posix":
            raise OSError("pseudo-terminals need a POSIX system")
        super().__init__(reactor)
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        fdesc.setNonBlocking(self.master)
        self.slave_path = os.ttyname(self._slave)
        self.connected = 1
        self.protocol = protocol
        self.protocol.makeConnection(self)
        self.startReading()

    def fileno(self) -> int:
        return self.master

    def writeSomeData(self, data: bytes) -> int | Exception:
        return fdesc.writeToFD(self.master, data)

    def doRead(self) -> object:
        return fdesc.readFromFD(self.master, self.protocol.dataReceived)

    def connectionLost(self, reason: failure.Failure) -> None:
        super().connectionLost(reason)
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
        self.protocol.connectionLost(reason)

    def getPeer(self) -> str:
        return f"pty:{self.slave_path}"

    def getHost(self) -> str:
        return f"pty:{self.slave_path}"
