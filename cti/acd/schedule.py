"""Opening hours of a queue: weekly time ranges and holidays in the queue's own time zone.

The engine evaluates a schedule at the time carried by the input, never the wall clock, so a
simulation of a Monday morning in Berlin behaves as a live Monday morning in Berlin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Ranges = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class Schedule:
    """Open during `weekly[weekday]` ranges (0 = Monday), closed on `holidays`.

    `special` replaces the weekly hours on given dates (e.g. short hours on 24 December). A
    range ending at 00:00 runs to midnight.
    """

    timezone: str = "UTC"
    weekly: Mapping[int, Ranges] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    special: Mapping[date, Ranges] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        object.__setattr__(self, "_zone", zone)

    def is_open(self, when: float) -> bool:
        """Whether the queue takes callers at Unix time `when`."""
        local = datetime.fromtimestamp(when, self._zone)  # type: ignore[attr-defined]
        day = local.date()
        if day in self.special:
            ranges = self.special[day]
        elif day in self.holidays:
            return False
        else:
            ranges = self.weekly.get(local.weekday(), ())
        now = local.time().replace(tzinfo=None)
        return any(start <= now and (now < end or end == time(0)) for start, end in ranges)

    @classmethod
    def parse(
        cls,
        hours: Mapping[str, str | Iterable[str]],
        timezone: str = "UTC",
        holidays: Iterable[str] = (),
        special: Mapping[str, str | Iterable[str]] | None = None,
    ) -> Schedule:
        """Build from configuration text: {"mon-fri": "08:00-18:00", "sat": ["09:00-12:00"]}.

        Holidays and special dates are ISO dates ("2026-12-25"). Raises ValueError naming the
        offending entry.
        """
        weekly: dict[int, Ranges] = {}
        for days, text in hours.items():
            ranges = _ranges(text)
            for day in _days(days):
                weekly[day] = weekly.get(day, ()) + ranges
        specials = {_date(key): _ranges(text) for key, text in (special or {}).items()}
        return cls(timezone, weekly, frozenset(_date(d) for d in holidays), specials)


def _days(text: str) -> list[int]:
    first, _, last = text.strip().lower().partition("-")
    try:
        start = DAYS.index(first)
        end = DAYS.index(last) if last else start
    except ValueError:
        raise ValueError(f"bad day range {text!r} (use mon..sun, e.g. mon-fri)") from None
    return list(range(start, end + 1)) if start <= end else [*range(start, 7), *range(end + 1)]


def _ranges(text: str | Iterable[str]) -> Ranges:
    items = [text] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        for part in item.split(","):
            start, sep, end = part.strip().partition("-")
            try:
                if not sep:
                    raise ValueError
                out.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
            except ValueError:
                raise ValueError(f"bad time range {part.strip()!r} (use HH:MM-HH:MM)") from None
    return tuple(out)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad date {text!r} (use YYYY-MM-DD)") from None
