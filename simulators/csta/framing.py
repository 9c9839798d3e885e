"""ECMA-323 over TCP framing: 8-byte header (00 00, big-endian total length, 4-digit invoke ID).

Framing only, as twisted.protocols.basic does it: subclasses get whole frames through
`frameReceived` and never see partial bytes. A header that cannot be right (non-zero first bytes,
a length below the header size) leaves no way to find the next frame, so
the connection is dropped after `frameError` is told why. The 2-byte length field itself keeps
every frame under 64 KiB; `encode_frame` refuses to build a bigger one.
"""

from __future__ import annotations

from twisted.internet.protocol import Protocol

HEADER_SIZE = 8
MAX_FRAME = 64 * 1024
EVENT_INVOKE = "9999"


def encode_frame(invoke_id: str, body: bytes) -> bytes:
    """One frame; `invoke_id` is 4 ASCII digits."""
    length = len(body) + HEADER_SIZE
    if length > MAX_FRAME:
        raise ValueError(f"frame of {length} bytes exceeds {MAX_FRAME}")
    return b"\x00\x00" + length.to_bytes(2, "big") + invoke_id.encode("ascii") + body


class FrameReceiver(Protocol):
    """Splits the byte stream into (invoke ID, body) frames."""

    _buffer = b""

    def dataReceived(self, data: bytes) -> None:
        buffer = self._buffer + data if self._buffer else data
        offset = 0
        size = len(buffer)
        while size - offset >= HEADER_SIZE:
            if buffer[offset] or buffer[offset + 1]:
                self._bad_stream(f"frame header starts with {buffer[offset:offset + 2]!r}")
                return
            length = int.from_bytes(buffer[offset + 2:offset + 4], "big")
            if length < HEADER_SIZE:
                self._bad_stream(f"frame length {length} is shorter than the header")
                return
            if size - offset < length:
                break
            invoke = buffer[offset + 4:offset + 8].decode("ascii", "replace")
            body = buffer[offset + HEADER_SIZE:offset + length]
            offset += length
            self.frameReceived(invoke, body)
            if self.transport is None or getattr(self.transport, "disconnecting", False):
                self._buffer = b""
                return
        self._buffer = buffer[offset:]

    def _bad_stream(self, reason: str) -> None:
        self._buffer = b""
        self.frameError(reason)
        if self.transport is not None:
            self.transport.loseConnection()

    def sendFrame(self, invoke_id: str, body: bytes) -> None:
        self.transport.write(encode_frame(invoke_id, body))

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        raise NotImplementedError

    def frameError(self, reason: str) -> None:
        """The stream is beyond repair; the connection is dropped right after."""
