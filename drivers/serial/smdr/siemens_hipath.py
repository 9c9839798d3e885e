"""Siemens HiPath 3000 / Hicom 150 serial call-charge log ("compressed" 80-column format).

Fixed columns (field-notes.md, Hicom 150 E service manual): date+time ``DD.MM.YYHH:MM:SS``
[0:16], seized line [16:19], extension [19:25], ring time ``mm:ss`` [25:30], duration
``hh:mm:ss`` [30:38], external number [38:63], charge units [63:74], call type [74:76]
(right-aligned, +50 for DISA calls), then optional DDI/MSN or project code. Lines are CRLF
terminated; DLE STX DLE ETX DC3 DC1 may precede a line and are stripped before slicing.

Call types: 1 incoming, 2 outgoing, 3/4 the same for non-voice services, 5/6 forwarded
incoming/outgoing, 7/8 conference or transit with an incoming/outgoing call, 9 outgoing via
forwarding to an external destination, 0 call information sent while an incoming call rings
(no duration). The printed time is taken as the record's start as printed (interfaces.md).
"""

from __future__ import annotations

from drivers.serial.smdr.record import IN, OUT, CallRecord, SmdrParseError, century, or_none

NAME = "siemens-hipath"
FRAMING = "lines"

_DIRECTION = {0: IN, 1: IN, 2: OUT, 3: IN, 4: OUT, 5: IN, 6: OUT, 7: IN, 8: OUT, 9: OUT}


def looks_like(text: str) -> bool:
    return (
        len(text) >= 76
        and text[2] == "." and text[5] == "." and text[10] == ":" and text[13] == ":"
        and text[0:2].isdigit() and text[8:10].isdigit()
    )


def is_header(text: str) -> bool:
    """The HiPath printer port sends no headers; anything not starting with a date is noise."""
    return False


def parse(text: str) -> CallRecord:
    if not looks_like(text):
        raise SmdrParseError("not a HiPath call-log line (expected DD.MM.YYHH:MM:SS and 76 columns)")
    day, month, yy = text[0:2], text[3:5], text[6:8]
    clock = text[8:16]
    if not (month.isdigit() and yy.isdigit() and clock[0:2].isdigit() and clock[3:5].isdigit()
            and clock[6:8].isdigit()):
        raise SmdrParseError(f"bad date/time {text[0:16]!r}")
    type_text = text[74:76].strip()
    if not type_text.isdigit():
        raise SmdrParseError(f"bad call type {text[74:76]!r}")
    call_type = int(type_text)
    ring = text[25:30]
    duration = text[30:38]
    record = CallRecord(
        NAME,
        f"{century(yy)}-{month}-{day}T{clock}",
        or_none(text[16:19]),
        or_none(text[19:25]),
        _seconds(ring, "ring time") if ring != "     " else None,
        _seconds(duration, "duration") if duration != "        " else None,
        or_none(text[38:63]),
        _DIRECTION.get(call_type % 50),
        text,
    )
    record.extra["call_type"] = call_type
    charges = text[63:74].strip()
    if charges:
        record.extra["charge_units"] = charges
    ddi = text[76:].strip()
    if ddi:
        record.extra["ddi"] = ddi
    return record


def _seconds(text: str, what: str) -> int:
    """``mm:ss`` or ``hh:mm:ss`` by slicing: the hot path of the 100,000 lines/s target."""
    try:
        if len(text) == 5:
            return int(text[0:2]) * 60 + int(text[3:5])
        return int(text[0:2]) * 3600 + int(text[3:5]) * 60 + int(text[6:8])
    except ValueError:
        raise SmdrParseError(f"bad {what} {text!r}") from None
