"""Call records (SMDR) of the simulated switch, printed as a real PBX's printer port does.

The printer watches the switch, keeps one record per call ID (a transfer ends the old calls'
records and starts one for the new call, as PBXs print one line per segment), and prints a
line in the chosen format when the record ends. Formats are the ones drivers/serial/smdr
parses, so what the simulator prints is checked by the same parser that reads real switches.
Only calls with an outside party are logged: call-charge printers leave internal calls out.

Formats: ``siemens-hipath`` (80-column fixed layout) and ``avaya-ipo`` (CSV).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import IO

from simulators.pbx import events as ev
from simulators.pbx.events import SwitchEvent
from simulators.pbx.model import Extension
from simulators.pbx.switch import Switch


@dataclass(slots=True)
class Segment:
    """What a printer remembers of one call ID until it ends."""

    call_id: str
    started: float
    trunk: str | None = None
    outside: str | None = None
    direction: str = "in"
    extension: str | None = None
    rang: float | None = None
    answered: float | None = None


def _clock(seconds: float, hours: bool) -> str:
    seconds = max(0, int(round(seconds)))
    if hours:
        return f"{min(seconds // 3600, 99):02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return f"{min(seconds // 60, 99):02d}:{seconds % 60:02d}"


def siemens_hipath(segment: Segment, ended: float, zone: tzinfo) -> str:
    """``DD.MM.YYHH:MM:SS`` line ext ring duration number units type (smdr/siemens_hipath.py)."""
    start = datetime.fromtimestamp(segment.started, zone)
    ring = _clock((segment.answered or ended) - segment.rang, False) if segment.rang else "     "
    duration = _clock(ended - segment.answered, True) if segment.answered else "00:00:00"
    call_type = 1 if segment.direction == "in" else 2
    return (
        start.strftime("%d.%m.%y%H:%M:%S")
        + (segment.trunk or "")[-3:].rjust(3)
        + (segment.extension or "")[-6:].rjust(6)
        + ring + duration
        + (segment.outside or "")[:25].ljust(25)
        + " " * 11
        + str(call_type).rjust(2)
    )


def avaya_ipo(segment: Segment, ended: float, zone: tzinfo) -> str:
    """IP Office SMDR CSV (smdr/avaya_ipo.py): start, duration, ring, caller, direction..."""
    start = datetime.fromtimestamp(segment.started, zone)
    talk = int(round(ended - segment.answered)) if segment.answered else 0
    ring = int(round((segment.answered or ended) - segment.rang)) if segment.rang else 0
    inbound = segment.direction == "in"
    caller = segment.outside if inbound else segment.extension
    called = segment.extension if inbound else segment.outside
    trunk = segment.trunk or "9001"
    ext = segment.extension or ""
    party1 = ("E" + ext, ext) if not inbound else ("T" + trunk, "Line " + trunk)
    party2 = ("T" + trunk, "Line " + trunk) if not inbound else ("E" + ext, ext)
    return ",".join([
        start.strftime("%Y/%m/%d %H:%M:%S"), _clock(talk, True), str(ring), caller or "",
        "I" if inbound else "O", called or "", called or "", "", "0", segment.call_id, "0",
        party1[0], party1[1], party2[0], party2[1], "0", "0",
    ])


FORMATS: dict[str, Callable[[Segment, float, tzinfo], str]] = {
    "siemens-hipath": siemens_hipath,
    "avaya-ipo": avaya_ipo,
}


class SmdrPrinter:
    """Prints one record per finished call segment with an outside party to `out`.

    `zone` is the PBX's local time zone for the printed start (default UTC, so a run's
    output does not depend on the machine it runs on).
    """

    def __init__(self, switch: Switch, out: IO[str], format: str = "siemens-hipath",
                 zone: tzinfo = UTC) -> None:
        if format not in FORMATS:
            raise ValueError(f"unknown SMDR format {format!r} (known: {', '.join(FORMATS)})")
        self.switch = switch
        self.out = out
        self.render = FORMATS[format]
        self.zone = zone
        self.segments: dict[str, Segment] = {}
        self.printed = 0
        switch.subscribe(self.on_event)

    def close(self) -> None:
        self.switch.unsubscribe(self.on_event)

    def on_event(self, event: SwitchEvent) -> None:
        call_id = event.call_id
        if call_id is None:
            return
        kind = event.kind
        if kind in (ev.TRANSFERRED, ev.CONFERENCED):
            for old in (event.details.get("primary_old_call"),
                        event.details.get("secondary_old_call")):
                if old and old != call_id:
                    self._finish(old, event.time)
            if kind == ev.TRANSFERRED:
                self._finish(call_id, event.time)
                self._begin(event, answered=True)
            return
        if kind == ev.CALL_CLEARED:
            self._finish(call_id, event.time)
            return
        segment = self.segments.get(call_id) or self._begin(event)
        if kind == ev.DELIVERED and self._is_extension(event.device):
            segment.rang = segment.rang if segment.rang is not None else event.time
            segment.extension = segment.extension or event.device
        elif kind == ev.ESTABLISHED and segment.answered is None:
            segment.answered = event.time  # by an extension, or the far end of an outbound call
            if self._is_extension(event.device):
                segment.extension = event.device
        elif kind == ev.ORIGINATED and self._is_extension(event.device):
            segment.extension = segment.extension or event.device

    def _begin(self, event: SwitchEvent, answered: bool = False) -> Segment:
        call = self.switch.calls.get(event.call_id or "")
        segment = Segment(event.call_id or "", event.time)
        if call is not None:
            segment.trunk = call.trunk
            internal = {d for d, c in call.connections.items() if not c.external}
            outside = [d for d, c in call.connections.items() if c.external]
            if call.calling and call.calling not in self.switch.devices:
                segment.outside, segment.direction = call.calling, "in"
            elif call.called and self.switch.is_external(call.called):
                segment.outside, segment.direction = call.called, "out"
            elif outside:
                segment.outside = outside[0]
            extensions = [d for d in internal if self._is_extension(d)]
            if extensions:
                segment.extension = extensions[0]
        if answered:
            segment.answered = event.time
        self.segments[segment.call_id] = segment
        return segment

    def _finish(self, call_id: str, ended: float) -> None:
        segment = self.segments.pop(call_id, None)
        if segment is None or segment.outside is None:
            return
        self.out.write(self.render(segment, ended, self.zone) + "\r\n")
        self.out.flush()
        self.printed += 1

    def _is_extension(self, device: str | None) -> bool:
        return isinstance(self.switch.devices.get(device or ""), Extension)


__all__ = ["FORMATS", "Segment", "SmdrPrinter"]
