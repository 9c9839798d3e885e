"""The normalised call record every SMDR/CDR format is parsed into, and helpers they share.

The JSON shape is pinned by interfaces.md (`cti smdr parse --json`): `start` is the PBX's own
local time as printed (conversion to UTC happens when stored, with the link's timezone), and
`duration_seconds` follows each PBX's own definition of its duration column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

IN = "in"
OUT = "out"
INTERNAL = "internal"

# Bytes that appear on SMDR printer lines but are not text: flow control (DC1/DC3), link
# framing leaking into the stream (DLE, STX, ETX), NUL padding, form feed of a page break.
# Kept printable: everything from space up, and TAB.
_CONTROL = {code: None for code in (*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F)}


class SmdrParseError(ValueError):
    """A line that looked like a call record of a format but could not be read as one."""


@dataclass(slots=True)
class CallRecord:
    """One call (or call segment) as a PBX reported it, in the product's common shape."""

    format: str
    start: str | None
    trunk: str | None
    extension: str | None
    ring_seconds: int | None
    duration_seconds: int | None
    number: str | None
    direction: str | None
    raw: str
    extra: dict[str, Any] = field(default_factory=dict)
    """Format-specific fields (account code, DDI, call id, ...), output beside the pinned ones."""

    def start_utc(self, timezone: str) -> datetime | None:
        """The start as a naive UTC datetime (how db/ stores times), from the PBX's local time
        in `timezone` (the link's IANA zone, e.g. "Europe/Berlin"). In the repeated hour of a
        DST change the PBX's printout is ambiguous; the first occurrence is taken."""
        if self.start is None:
            return None
        local = datetime.fromisoformat(self.start).replace(tzinfo=ZoneInfo(timezone))
        return local.astimezone(UTC).replace(tzinfo=None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": self.format,
            "start": self.start,
            "trunk": self.trunk,
            "extension": self.extension,
            "ring_seconds": self.ring_seconds,
            "duration_seconds": self.duration_seconds,
            "number": self.number,
            "direction": self.direction,
            "raw": self.raw,
        }
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


def strip_controls(text: str) -> str:
    """The text with every control byte removed (they are line noise, never data)."""
    if text.isprintable():
        return text
    return text.translate(_CONTROL)


def or_none(text: str) -> str | None:
    """Blank columns mean "not given"."""
    text = text.strip()
    return text or None


def century(yy: str) -> str:
    """Two-digit years as PBXs print them: 00-69 are 20xx, 70-99 are 19xx."""
    return ("19" if yy >= "70" else "20") + yy


def clock_seconds(text: str, what: str) -> int | None:
    """``hh:mm:ss``, ``mm:ss`` (or with ``'`` for the last colon, Panasonic) as seconds."""
    text = text.strip()
    if not text:
        return None
    total = 0
    for part in text.replace("'", ":").split(":"):
        if not part.isdigit():
            raise SmdrParseError(f"bad {what} {text!r}")
        total = total * 60 + int(part)
    return total
