"""Cutting an SMDR byte stream into records, as each PBX frames its printer port.

Framing only: no parsing here. Both framers are incremental (feed any chunk, get the records
it completed) so the same code serves a file, a serial port and a terminal server, and both
number their records so a warning can name the line.
"""

from __future__ import annotations

import re

LINES = "lines"
STX_ETX = "stx-etx"

STX = 0x02
ETX = 0x03
_NEC_START = re.compile(rb"\x02\d!K")
_MAX_RECORD = 4096


class LineFramer:
    """CR, LF or CRLF terminated lines (Siemens, Avaya, Panasonic, Mitel).

    A CR at the end of one chunk and LF at the start of the next is one line end, not two.
    A line longer than any PBX prints is cut at the limit so a stream without line ends
    cannot grow the buffer without bound.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._after_cr = False
        self.number = 0

    def feed(self, data: bytes) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        start = 0
        buffer = self._buffer
        for index, byte in enumerate(data):
            if byte == 0x0A and self._after_cr and index == start and not buffer:
                self._after_cr = False
                start = index + 1
                continue
            self._after_cr = False
            if byte in (0x0A, 0x0D):
                buffer += data[start:index]
                self.number += 1
                out.append((self.number, buffer.decode("latin-1")))
                buffer.clear()
                start = index + 1
                self._after_cr = byte == 0x0D
        buffer += data[start:]
        if len(buffer) > _MAX_RECORD:
            self.number += 1
            out.append((self.number, buffer.decode("latin-1")))
            buffer.clear()
        return out

    def flush(self) -> list[tuple[int, str]]:
        """The last line of a file that does not end with a line end."""
        if not self._buffer:
            return []
        self.number += 1
        text = self._buffer.decode("latin-1")
        self._buffer.clear()
        return [(self.number, text)]


class StxEtxFramer:
    """STX ... ETX records (NEC SMDR); bytes between records are line noise and dropped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._inside = False
        self.number = 0
        self.dropped = 0

    def feed(self, data: bytes) -> list[tuple[int, str]]:
        out: list[tuple[int, str]] = []
        for byte in data:
            if byte == STX:
                if self._inside and self._buffer:
                    self.dropped += len(self._buffer)
                self._buffer.clear()
                self._inside = True
            elif byte == ETX and self._inside:
                self.number += 1
                out.append((self.number, self._buffer.decode("latin-1")))
                self._buffer.clear()
                self._inside = False
            elif self._inside:
                self._buffer.append(byte)
                if len(self._buffer) > _MAX_RECORD:
                    self.dropped += len(self._buffer)
                    self._buffer.clear()
                    self._inside = False
            else:
                self.dropped += 1
        return out

    def flush(self) -> list[tuple[int, str]]:
        if self._buffer:
            self.dropped += len(self._buffer)
            self._buffer.clear()
        return []


def guess_framing(data: bytes) -> str:
    """STX/ETX when the bytes hold an NEC record start, lines otherwise."""
    return STX_ETX if _NEC_START.search(data) else LINES


def framer_for(framing: str) -> LineFramer | StxEtxFramer:
    return StxEtxFramer() if framing == STX_ETX else LineFramer()
