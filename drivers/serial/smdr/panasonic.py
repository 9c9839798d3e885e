"""Panasonic KX-TDA / KX-TDE / KX-NS SMDR ("Pattern A", 80 columns).

Columns (Feature Guide, Record Log Features): Date ``MM/DD/YY``, Time ``hh:mmAM`` (the end of
the call on these models, printed without seconds, so `start` is that minute less the duration
and the printed time is kept as `end`), Ext, CO, Dial Number, Ring ``m'ss``,
Duration ``hh:mm'ss``, Acc code, CD (condition: TR transfer, FW forward, ...). The Dial Number
column says what kind of call it was: ``<I>`` + caller name and/or number for incoming trunk
calls (the trailing digits are the number, the rest the name; with
``<D>`` + DDI/DID name or number in front when DDI is shown), ``EXTnnnn`` for an intercom
call, the dialled digits otherwise. Lines without a duration (LOG IN, LOG OUT, Check in, Timed
Reminder) record feature use, not calls, and are skipped like headers.

The Dial Number can hold a caller's name with spaces, so the line is read from both ends: date,
time, extension and trunk from the left, then ring and duration found by their own spelling.
The date order is the installer's choice; MM/DD/YY is the factory default.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from drivers.serial.smdr.record import (
    IN,
    INTERNAL,
    OUT,
    CallRecord,
    SmdrParseError,
    century,
    clock_seconds,
    or_none,
)

NAME = "panasonic"
FRAMING = "lines"

_LINE = re.compile(
    r"(?P<month>\d\d)/(?P<day>\d\d)/(?P<yy>\d\d) +(?P<hour>\d\d):(?P<minute>\d\d)(?P<ampm>[AP]M)"
    r" +(?P<ext>\S+)(?: +(?P<co>\d+))? +(?P<dial>.*?)"
    r"(?: +(?P<ring>\d{1,2}'\d\d))? +(?P<duration>\d\d:\d\d'\d\d)"
    r"(?: +(?P<acc>[0-9*#]+))?(?: +(?P<cd>[A-Z]{2}))? *$"
)
_NAME_NUMBER = re.compile(r"(?P<name>.*?)(?P<number>[+0-9*#]*)$")
_DATE_TIME = re.compile(r"\d\d/\d\d/\d\d +\d\d:\d\d[AP]M ")


def looks_like(text: str) -> bool:
    return _DATE_TIME.match(text) is not None


def is_header(text: str) -> bool:
    stripped = text.strip()
    if not stripped or stripped.startswith(("Date", "----", "====")):
        return True
    # Feature records (log in/out, room status, timed reminders) carry no duration.
    return looks_like(text) and "'" not in text[17:]


def parse(text: str) -> CallRecord:
    match = _LINE.match(text)
    if match is None:
        raise SmdrParseError("not a Panasonic SMDR line (expected MM/DD/YY hh:mmAM ... hh:mm'ss)")
    hour = int(match["hour"])
    if not 1 <= hour <= 12:
        raise SmdrParseError(f"bad hour {match['hour']!r}")
    hour = hour % 12 + (12 if match["ampm"] == "PM" else 0)
    dial = match["dial"].strip()
    extra: dict[str, object] = {}
    if "<I>" in dial or dial.startswith("<D>"):
        direction = IN
        ddi, _, caller = dial.partition("<I>")
        if ddi.startswith("<D>"):
            extra["ddi"] = ddi[3:].strip()
        split = _NAME_NUMBER.match(caller.strip())
        if split["name"].strip():
            extra["caller_name"] = split["name"].strip()
        number = split["number"] or None
    elif dial.startswith("EXT"):
        direction = INTERNAL
        number = or_none(dial[3:])
    else:
        direction = OUT
        number = or_none(dial)
    if match["acc"]:
        extra["account"] = match["acc"]
    if match["cd"]:
        extra["condition"] = match["cd"]
    duration = clock_seconds(match["duration"], "duration") or 0
    try:
        end = datetime(
            int(century(match["yy"])), int(match["month"]), int(match["day"]), hour,
            int(match["minute"]),
        )
    except ValueError:
        raise SmdrParseError(f"bad date {text[0:8]!r}") from None
    extra["end"] = end.isoformat()
    record = CallRecord(
        NAME,
        (end - timedelta(seconds=duration)).isoformat(),
        match["co"],
        match["ext"],
        clock_seconds(match["ring"] or "", "ring time"),
        duration,
        number,
        direction,
        text,
        extra,
    )
    return record
