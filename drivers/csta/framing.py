"""The 8-byte CSTA header framing, and nothing else (in the style of twisted.protocols.basic).

Each frame: bytes 0-1 ``00 00``; bytes 2-3 the big-endian length of the WHOLE frame, header
included, in bytes; bytes 4-7 the invoke ID as 4 ASCII digits ("9999" for unsolicited events);
then one XML document. Subclasses implement `frameReceived`.

A peer that lies about lengths must not crash or stall us. A header that cannot be a header
(wrong marker, non-digit invoke ID, a length shorter than the header) means the framing is lost:
nothing after it can be trusted, so the offending bytes are logged and the link is reset, and the
driver's reconnect logic starts clean. A well-formed header announcing more than
`MAX_LENGTH` is skipped: its bytes are discarded as they arrive and framing resumes after them.
A length that is too long but within bounds swallows the next frame; the document then fails to
parse and is skipped one layer up, and the keep-alive timeout resets a link that stays stuck.
"""

from __future__ import annotations

from twisted.internet.protocol import Protocol
from twisted.logger import Logger

HEADER_LENGTH = 8
EVENT_INVOKE_ID = "9999"
LOG_BYTES = 64


def header(invoke_id: str, body_length: int) -> bytes:
    """The header for a body of `body_length` bytes."""
    total = body_length + HEADER_LENGTH
    if total > 0xFFFF:
        raise ValueError(f"CSTA frame of {total} bytes exceeds the 16-bit length field")
    if len(invoke_id) != 4 or not invoke_id.isdigit():
        raise ValueError(f"invoke ID must be 4 digits, got {invoke_id!r}")
    return b"\x00\x00" + total.to_bytes(2, "big") + invoke_id.encode("ascii")


def frame(invoke_id: str, body: bytes) -> bytes:
    return header(invoke_id, len(body)) + body


class CstaFraming(Protocol):
    """Splits the byte stream into (invoke ID, document) frames."""

    MAX_LENGTH = 0xFFFF
    """Largest frame accepted, header included (the wire allows 64 KiB at most)."""

    log = Logger()
    _buffer = b""
    _skipping = 0
    _lost = False
    lost_reason: str | None = None
    """Why we reset the link ourselves, for whoever reports the loss."""

    def dataReceived(self, data: bytes) -> None:
        if self._lost:
            return
        buffer = self._buffer + data if self._buffer else data
        offset = 0
        end = len(buffer)
        while True:
            if self._skipping:
                dropped = min(self._skipping, end - offset)
                self._skipping -= dropped
                offset += dropped
                if self._skipping:
                    break
            if end - offset < HEADER_LENGTH:
                break
            head = buffer[offset:offset + HEADER_LENGTH]
            length = (head[2] << 8) | head[3]
            invoke = head[4:8]
            if head[0] or head[1] or length < HEADER_LENGTH or not invoke.isdigit():
                self._buffer = b""
                self._lost = True
                self.framingLost(buffer[offset:offset + LOG_BYTES], "bad frame header")
                return
            if length > self.MAX_LENGTH:
                self.frameTooLong(head, length)
                self._skipping = length - HEADER_LENGTH
                offset += HEADER_LENGTH
                continue
            if end - offset < length:
                break
            body = buffer[offset + HEADER_LENGTH:offset + length]
            offset += length
            self.frameReceived(invoke.decode("ascii"), body)
            if self.transport is None or getattr(self.transport, "disconnecting", False):
                self._buffer = b""
                return
        self._buffer = buffer[offset:] if offset < end else b""

    def sendFrame(self, invoke_id: str, body: bytes) -> None:
        """Write one frame; silently nothing once the link is closing (the answer is moot)."""
        if self.transport is None or self.transport.disconnecting:
            return
        self.transport.write(frame(invoke_id, body))

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        """One complete frame; override."""
        raise NotImplementedError

    def frameTooLong(self, head: bytes, length: int) -> None:
        """A frame over MAX_LENGTH is being skipped; by default only logged."""
        self.log.warn(
            "CSTA frame of {length} bytes exceeds {limit}; skipped (header {head!r})",
            length=length, limit=self.MAX_LENGTH, head=head,
        )

    def framingLost(self, data: bytes, reason: str) -> None:
        """The byte stream no longer splits into frames: log and reset the link."""
        self.log.error(
            "CSTA framing lost ({reason}) at {data!r}; resetting the link",
            reason=reason, data=data,
        )
        self.lost_reason = f"CSTA framing lost ({reason}) at {data[:32]!r}"
        if self.transport is not None:
            self.transport.loseConnection()
