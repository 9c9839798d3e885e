"""NEC NEAX / SV9500 SMDR, flexible format (record kinds KK outgoing, KL incoming, KM
station-to-station), each record framed STX ... ETX.

A record is ``<device digit> "!" <kind>`` followed by fields, each ``<2-digit field kind>
<2-digit length> <data>``, kinds in ascending order. Fields used here:
01 trunk (fusion point, physical route, trunk number, logical route: 3 digits each),
02 / 04 calling / called party physical number (identification, tenant, 6-char number),
06 call start and end (``YYYYMMDDhhmmss`` + 3-digit milliseconds, each),
10 dialled number, 16 calling number / ANI (presentation digit, then the number).

The length octet does not count the same thing for every field kind (dialled number, account
and authorisation codes count one more than they carry; the telephone-number fields carry the
fusion point code in front) and varies between releases, so the walker takes each kind's usual
size and, where that does not land on the next field, one less or three more (the deviations
real records show) when that does. A record that
cannot be walked that way is reported, not guessed; only the last field may be cut short.
"""

from __future__ import annotations

from datetime import datetime

from drivers.serial.smdr.record import IN, INTERNAL, OUT, CallRecord, SmdrParseError, or_none

NAME = "nec-neax"
FRAMING = "stx-etx"

_KINDS = {"KK": OUT, "KL": IN, "KM": INTERNAL}
_ONE_SHORT = frozenset({"07", "10", "12"})
_ALTERNATIVES = (0, -1, 3)


def looks_like(text: str) -> bool:
    return len(text) > 4 and text[1] == "!" and text[2] == "K"


def is_header(text: str) -> bool:
    return False


def parse(text: str) -> CallRecord:
    if not looks_like(text):
        raise SmdrParseError("not an NEC SMDR record (expected <digit>!K<kind>)")
    kind = text[2:4]
    if kind not in _KINDS:
        raise SmdrParseError(f"NEC record kind {kind} is not supported (flexible KK/KL/KM only)")
    fields = walk(text[4:])
    direction = _KINDS[kind]
    times = fields.get("06", "")
    if len(times) < 31:
        raise SmdrParseError("NEC record without call start/end time (field 06)")
    start = _timestamp(times[0:17])
    end = _timestamp(times[17:34].ljust(17, "0"))
    duration = round((end - start).total_seconds())
    calling = _station(fields.get("02"))
    called = _station(fields.get("04"))
    trunk_field = fields.get("01")
    trunk = f"{trunk_field[3:6]}/{trunk_field[6:9]}" if trunk_field and len(trunk_field) >= 9 else None
    if direction == OUT:
        extension, number = calling, or_none(fields.get("10", ""))
    elif direction == IN:
        ani = fields.get("16", "")
        extension, number = called, or_none(ani[1:])
    else:
        extension, number = calling, called
    record = CallRecord(
        NAME, start.isoformat(timespec="seconds"), trunk, extension, None, duration, number,
        direction, text,
    )
    record.extra["record_kind"] = kind
    record.extra["end"] = end.isoformat(timespec="seconds")
    if fields.get("07"):
        record.extra["account"] = fields["07"]
    return record


def walk(body: str) -> dict[str, str]:
    """The record's fields by kind; raises SmdrParseError when no consistent walk exists."""
    found = _walk(body, 0, "00")
    if found is None:
        raise SmdrParseError("NEC record fields do not chain (bad length or kind)")
    return dict(found)


def _walk(body: str, at: int, last: str) -> list[tuple[str, str]] | None:
    if at == len(body):
        return []
    kind, length = body[at:at + 2], body[at + 2:at + 4]
    if not (kind.isdigit() and length.isdigit()) or kind <= last:
        return None
    size = int(length) - (1 if kind in _ONE_SHORT else 0)
    data_at = at + 4
    for delta in _ALTERNATIVES:
        end = data_at + size + delta
        if end > len(body) or end < data_at:
            continue
        rest = _walk(body, end, kind)
        if rest is not None:
            return [(kind, body[data_at:end]), *rest]
    if data_at + size > len(body):
        return [(kind, body[data_at:])]
    return None


def _station(field: str | None) -> str | None:
    if not field or len(field) < 4:
        return None
    return or_none(field[4:10])


def _timestamp(text: str) -> datetime:
    try:
        return datetime(
            int(text[0:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
            int(text[12:14]), int(text[14:17] or 0) * 1000,
        )
    except ValueError:
        raise SmdrParseError(f"bad NEC time {text!r}") from None
