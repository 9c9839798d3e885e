"""Avaya IP Office SMDR: one CSV line per call segment (field-notes.md has the column list).

Duration is IP Office's own: connected + ring + hold + park. The extension is the party whose
device is an ``E``xtension, the trunk the ``T``runk party; voice-mail legs (``V`` devices) have
no extension. IP Office does not quote fields, so a plain split is exact; a quoted line (from
a tool that re-exported the CSV) goes through the csv module instead.
"""

from __future__ import annotations

import csv

from drivers.serial.smdr.record import (
    IN,
    INTERNAL,
    OUT,
    CallRecord,
    SmdrParseError,
    clock_seconds,
    or_none,
)

NAME = "avaya-ipo"
FRAMING = "lines"
_MIN_FIELDS = 17


def looks_like(text: str) -> bool:
    return (
        len(text) > 30 and text[4] == "/" and text[7] == "/" and text[13] == ":"
        and text[19] == "," and text.count(",") >= _MIN_FIELDS - 1
    )


def is_header(text: str) -> bool:
    return text.startswith("Call Start")


def parse(text: str) -> CallRecord:
    fields = next(csv.reader([text])) if '"' in text else text.split(",")
    if len(fields) < _MIN_FIELDS:
        raise SmdrParseError(f"not an IP Office SMDR line ({len(fields)} fields, need {_MIN_FIELDS})")
    start = fields[0]
    if not (len(start) == 19 and start[0:4].isdigit() and start[5:7].isdigit()
            and start[8:10].isdigit() and start[11:13].isdigit() and start[14:16].isdigit()):
        raise SmdrParseError(f"bad call start {start!r}")
    connected = clock_seconds(fields[1], "connected time") or 0
    ring = _int(fields[2], "ring time")
    hold = _int(fields[15], "hold time")
    park = _int(fields[16], "park time")
    caller, direction_code, called = fields[3], fields[4], fields[5]
    internal = fields[8].strip() == "1"
    extension = trunk = None
    for device in (fields[11], fields[13]):
        if device.startswith("E") and extension is None:
            extension = device[1:] or None
        elif device.startswith("T") and trunk is None:
            trunk = device[1:] or None
    if internal:
        direction = INTERNAL
    elif direction_code == "I":
        direction = IN
    elif direction_code == "O":
        direction = OUT
    else:
        direction = None
    if direction == IN or (direction == INTERNAL and called == extension):
        number = caller
    else:
        number = called
    record = CallRecord(
        NAME,
        start[0:4] + "-" + start[5:7] + "-" + start[8:10] + "T" + start[11:19],
        trunk,
        extension,
        ring,
        connected + ring + hold + park,
        or_none(number),
        direction,
        text,
    )
    extra = record.extra
    extra["call_id"] = fields[9]
    extra["continuation"] = fields[10] == "1"
    extra["connected_seconds"] = connected
    extra["hold_seconds"] = hold
    extra["park_seconds"] = park
    if fields[6] and fields[6] != called:
        extra["dialled_number"] = fields[6]
    if fields[7]:
        extra["account"] = fields[7]
    extra["party1"] = {"device": fields[11], "name": fields[12]}
    extra["party2"] = {"device": fields[13], "name": fields[14]}
    return record


def _int(text: str, what: str) -> int:
    text = text.strip()
    if not text:
        return 0
    if not text.isdigit():
        raise SmdrParseError(f"bad {what} {text!r}")
    return int(text)
