"""A Twisted protocol that turns an SMDR byte stream (serial port, terminal server) into records.

Framing and parsing stay in their modules; this only wires them to a byte stream and to two
callables: the record sink (the database spool, or a JSON printer) and the warning sink. A
record the sink raises on is reported, never dropped silently, and the stream goes on.
"""

from __future__ import annotations

from collections.abc import Callable

from twisted.internet.protocol import Protocol
from twisted.python import log

from drivers.serial.smdr import AUTO, RecordReader, SmdrParseError
from drivers.serial.smdr.framing import (
    LineFramer,
    StxEtxFramer,
    framer_for,
    guess_framing,
)
from drivers.serial.smdr.record import CallRecord

RecordSink = Callable[[CallRecord], None]
WarningSink = Callable[[str], None]

_GUESS_BYTES = 16


class SmdrReceiver(Protocol):
    """Feeds received bytes through the format's framer and parser to `sink`.

    With format ``auto`` the framing is chosen from the first bytes (an NEC record start means
    STX/ETX, anything else lines), the format from the first recognisable record.
    """

    def __init__(
        self, sink: RecordSink, format: str = AUTO, warn: WarningSink | None = None
    ) -> None:
        self.reader = RecordReader(format)
        self.sink = sink
        self.warn = warn or (lambda message: log.msg(f"smdr: {message}"))
        self.framer: LineFramer | StxEtxFramer | None = (
            framer_for(self.reader.format.FRAMING) if self.reader.format else None
        )
        self._pending = b""
        self.records = 0
        self.errors = 0

    def dataReceived(self, data: bytes) -> None:
        if self.framer is None:
            self._pending += data
            has_line_end = b"\n" in self._pending or b"\r" in self._pending
            if len(self._pending) < _GUESS_BYTES and not has_line_end:
                return
            self.framer = framer_for(guess_framing(self._pending))
            data, self._pending = self._pending, b""
        for number, text in self.framer.feed(data):
            self._deliver(number, text)

    def connectionLost(self, reason: object = None) -> None:
        if self.framer is None and self._pending:
            self.framer = framer_for(guess_framing(self._pending))
            for number, text in self.framer.feed(self._pending):
                self._deliver(number, text)
        if self.framer is not None:
            for number, text in self.framer.flush():
                self._deliver(number, text)

    def _deliver(self, number: int, text: str) -> None:
        try:
            record = self.reader.read(text)
        except SmdrParseError as exc:
            self.errors += 1
            self.warn(f"line {number}: {exc}")
            return
        if record is None:
            return
        self.records += 1
        try:
            self.sink(record)
        except Exception as exc:  # the sink is someone else's code; keep the stream going
            self.errors += 1
            self.warn(f"line {number}: record sink failed: {type(exc).__name__}: {exc}")
