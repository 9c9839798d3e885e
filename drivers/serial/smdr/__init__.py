"""SMDR/CDR call records: one module per PBX format, format detection, and a reader.

Each format module offers NAME, FRAMING (``lines`` or ``stx-etx``), ``looks_like(text)``,
``is_header(text)`` and ``parse(text) -> CallRecord`` (raising SmdrParseError). Adding a
format is one module plus one line in FORMATS.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType

from drivers.serial.smdr import avaya_ipo, nec_neax, panasonic, siemens_hipath
from drivers.serial.smdr.framing import framer_for, guess_framing
from drivers.serial.smdr.record import CallRecord, SmdrParseError, strip_controls

FORMATS: dict[str, ModuleType] = {
    module.NAME: module for module in (siemens_hipath, avaya_ipo, nec_neax, panasonic)
}
AUTO = "auto"

__all__ = [
    "AUTO", "FORMATS", "CallRecord", "RecordReader", "SmdrParseError", "detect", "read_bytes",
]


def detect(text: str) -> ModuleType | None:
    """The format whose records look like this line, or None."""
    for module in FORMATS.values():
        if module.looks_like(text):
            return module
    return None


class RecordReader:
    """Turns framed record texts into CallRecords, keeping to one format once it is known.

    With ``auto`` the first line that some format recognises fixes the format, so a later
    damaged line is reported as that format's parse error rather than silently re-detected.
    """

    def __init__(self, format: str = AUTO) -> None:
        if format != AUTO and format not in FORMATS:
            raise ValueError(
                f"unknown SMDR format {format!r} (known: {', '.join(FORMATS)}, {AUTO})"
            )
        self.format: ModuleType | None = None if format == AUTO else FORMATS[format]

    def read(self, text: str) -> CallRecord | None:
        """The record on this line; None for blank lines and page headers."""
        text = strip_controls(text).rstrip()
        if not text.strip():
            return None
        module = self.format
        if module is None:
            module = detect(text)
            if module is None:
                if any(m.is_header(text) for m in FORMATS.values()):
                    return None
                raise SmdrParseError("no known SMDR format matches this line")
            self.format = module
        if module.is_header(text):
            return None
        return module.parse(text)


def read_bytes(
    data: bytes, format: str = AUTO
) -> Iterator[tuple[int, CallRecord | SmdrParseError]]:
    """Every record of a whole capture, with its line (or record) number; errors in place."""
    reader = RecordReader(format)
    framing = reader.format.FRAMING if reader.format else guess_framing(data)
    framer = framer_for(framing)
    for number, text in [*framer.feed(data), *framer.flush()]:
        try:
            record = reader.read(text)
        except SmdrParseError as exc:
            yield number, exc
            continue
        if record is not None:
            yield number, record
    dropped = getattr(framer, "dropped", 0)
    if dropped:
        yield framer.number, SmdrParseError(f"{dropped} bytes outside any STX...ETX record skipped")
