"""Framing of the serial CTI link (docs/serial-link-protocol.md): bytes <-> link units.

A data frame is ``STX seq text ETX bcc``: `seq` one ASCII digit, `text` printable ASCII only
(0x20-0x7E, at most MAX_TEXT bytes), `bcc` the XOR of every byte from `seq` to ETX inclusive,
sent as two upper-case hex digits. Line control units are ``ACK seq``, ``NAK``, ``ENQ`` and
``EOT``. Because no byte of a frame after STX is ever STX, a receiver that lost its place (line
noise, a cable pulled mid-frame) is back in step at the very next STX: that is what the
printable text and the hex BCC buy.

Pure: `FrameDecoder.feed(bytes)` returns the units it completed, nothing is written or timed
here (link.py does that), so framing is tested byte by byte.
"""

from __future__ import annotations

from dataclasses import dataclass

STX = 0x02
ETX = 0x03
EOT = 0x04
ENQ = 0x05
ACK = 0x06
NAK = 0x15
MAX_TEXT = 1024
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789ABCDEF")
_LINE_CONTROL = frozenset({STX, EOT, ENQ, ACK, NAK})


@dataclass(frozen=True, slots=True)
class Frame:
    seq: int
    text: str


@dataclass(frozen=True, slots=True)
class Ack:
    seq: int | None
    """None when the sequence digit after ACK was missing (the ACK cannot be matched)."""


@dataclass(frozen=True, slots=True)
class Nak:
    pass


@dataclass(frozen=True, slots=True)
class Enq:
    pass


@dataclass(frozen=True, slots=True)
class Eot:
    pass


@dataclass(frozen=True, slots=True)
class BadFrame:
    """Something that started as a frame and was not one; the receiver answers NAK."""

    reason: str
    data: bytes


@dataclass(frozen=True, slots=True)
class Noise:
    """Bytes outside any frame that are no line control either; dropped and counted."""

    data: bytes


Unit = Frame | Ack | Nak | Enq | Eot | BadFrame | Noise


def bcc(data: bytes) -> int:
    """Block check character: XOR of the bytes."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode_frame(seq: int, text: str) -> bytes:
    """The bytes of one data frame; ValueError for text the link cannot carry."""
    if not 0 <= seq <= 9:
        raise ValueError(f"sequence number must be 0..9, got {seq}")
    body = text.encode("ascii", "strict") if text.isascii() else None
    if body is None or not all(0x20 <= byte <= 0x7E for byte in body):
        raise ValueError(f"frame text must be printable ASCII: {text!r}")
    if len(body) > MAX_TEXT:
        raise ValueError(f"frame text longer than {MAX_TEXT} bytes")
    checked = bytes([0x30 + seq]) + body + bytes([ETX])
    return bytes([STX]) + checked + b"%02X" % bcc(checked)


def encode_ack(seq: int) -> bytes:
    return bytes([ACK, 0x30 + seq])


NAK_BYTES = bytes([NAK])
ENQ_BYTES = bytes([ENQ])
EOT_BYTES = bytes([EOT])


class FrameDecoder:
    """Incremental decoder: any chunking of the same bytes gives the same frames and line
    control units (noise may come out in more pieces)."""

    def __init__(self) -> None:
        self._state = self._idle
        self._frame = bytearray()
        self._noise = bytearray()
        self._out: list[Unit] = []

    def feed(self, data: bytes) -> list[Unit]:
        for byte in data:
            self._state(byte)
        self._flush_noise()
        out, self._out = self._out, []
        return out

    # States: each takes one byte. A byte that ends a broken frame is reprocessed from idle,
    # so line control (and the next STX) inside a broken frame is never lost.

    def _idle(self, byte: int) -> None:
        if byte == STX:
            self._flush_noise()
            self._frame = bytearray([STX])
            self._state = self._seq
        elif byte == ACK:
            self._flush_noise()
            self._state = self._ack
        elif byte == NAK:
            self._emit(Nak())
        elif byte == ENQ:
            self._emit(Enq())
        elif byte == EOT:
            self._emit(Eot())
        else:
            self._noise.append(byte)

    def _ack(self, byte: int) -> None:
        self._state = self._idle
        if byte in _DIGITS:
            self._emit(Ack(byte - 0x30))
        else:
            self._emit(Ack(None))
            self._idle(byte)

    def _seq(self, byte: int) -> None:
        if byte in _DIGITS:
            self._frame.append(byte)
            self._state = self._text
        else:
            self._broken("no sequence digit after STX", byte)

    def _text(self, byte: int) -> None:
        if 0x20 <= byte <= 0x7E:
            self._frame.append(byte)
            if len(self._frame) > MAX_TEXT + 2:
                self._bad("frame text too long")
                self._state = self._idle
        elif byte == ETX:
            self._frame.append(byte)
            self._state = self._bcc
        else:
            self._broken("control byte inside frame text", byte)

    def _bcc(self, byte: int) -> None:
        if byte not in _HEX:
            self._broken("BCC missing", byte)
            return
        self._frame.append(byte)
        if len(self._frame) - self._frame.index(ETX) < 3:
            return
        self._state = self._idle
        frame = bytes(self._frame)
        body = frame[1:-2]
        if int(frame[-2:], 16) != bcc(body):
            self._bad("BCC mismatch")
            return
        self._emit(Frame(body[0] - 0x30, body[1:-1].decode("ascii")))

    def _broken(self, reason: str, byte: int) -> None:
        self._bad(reason if byte not in _LINE_CONTROL else f"{reason} (cut by 0x{byte:02X})")
        self._state = self._idle
        self._idle(byte)

    def _bad(self, reason: str) -> None:
        self._emit(BadFrame(reason, bytes(self._frame)))
        self._frame = bytearray()

    def _emit(self, unit: Unit) -> None:
        self._flush_noise()
        self._out.append(unit)

    def _flush_noise(self) -> None:
        if self._noise:
            self._out.append(Noise(bytes(self._noise)))
            self._noise = bytearray()
