"""The API's ISO 8601 times and the durations the desktop shows."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_time(text: str | None) -> float | None:
    """``2026-11-23T04:06:28.123Z`` as epoch seconds; None for a missing or bad value."""
    if not text:
        return None
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def format_duration(seconds: float | None) -> str:
    """``m:ss`` below an hour, ``h:mm:ss`` above; a dash when unknown."""
    if seconds is None:
        return "–"
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_clock(seconds: float | None) -> str:
    """Local wall-clock ``HH:MM`` of an epoch time, for history lists."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(seconds).strftime("%H:%M")
