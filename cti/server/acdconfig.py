"""A stored queue (db.records.Queue) as the ACD's QueueConfig: one translation, used by the
running server to load and reload its engines and by `cti admin` to refuse a bad value before
it is stored.

Named columns carry the common settings; the queue's free-form `options` carry the rest:
``penalty_steps`` ([[after_seconds, max_penalty], ...]), ``weight`` (precedence among queues
sharing agents), ``empty_means``, ``announce_every``, ``expected_aht``, ``autopause`` and
``music`` (the music class waiting callers hear) and ``empty_target``; `checked_options` is
what administrators may write there. A stored overflow, closed or empty target is a number,
or ``KIND:VALUE`` for another kind of Target: ``voicemail:700``, ``announcement:7001``.

Where refused callers go, per reason: "full" and "timeout" to the overflow queue, else the
overflow target; "closed" to the closed target; "empty" (refused by join-empty, or made to
leave by leave-when-empty) to ``empty_target``, else the overflow queue, else the overflow
target, as Asterisk's dialplan goes on (typically to voice mail) after a joinempty refusal.
A reason without a destination clears the caller (the engine's Exit).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from cti.acd.config import EMPTY_MEANS, AcdError, QueueConfig
from cti.acd.decisions import Target
from cti.acd.schedule import Schedule

OPTION_KEYS = ("penalty_steps", "weight", "empty_means", "announce_every", "expected_aht",
               "autopause", "music", "empty_target")

MUSIC_CLASS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A music class: it travels in the voice unit's message ID `music:CLASS`, so no separators."""

TARGET_NUMBER = re.compile(r"\+?[0-9*#]{1,32}")
"""A stored target without a kind: a number the switch can dial."""

TARGET_VALUE = re.compile(r"\S{1,64}")
"""The value of a ``KIND:VALUE`` target: a queue name or a number, no blanks."""


def checked_options(given: Mapping[str, Any]) -> dict[str, Any]:
    """The queue options an administrator gives, each checked (AcdError: one line naming the
    option and what it takes); None stays None (db/ removes the option: back to its default).
    Checked when written, not when loaded, so a stored value older rules accepted still loads."""
    return {key: None if value is None else _check_option(key, value)
            for key, value in given.items()}


def _check_option(key: str, value: Any) -> Any:
    if key == "penalty_steps":
        if not isinstance(value, (list, tuple)) or not all(
                isinstance(step, (list, tuple)) and len(step) == 2
                and _number(step[0]) and step[0] >= 0 and _whole(step[1]) and step[1] >= 0
                for step in value):
            raise AcdError("penalty_steps: expected [[after_seconds, max_penalty], ...] with "
                           f"seconds >= 0 and whole penalties >= 0, got {value!r}")
        return [list(step) for step in value]
    if key == "weight":
        if not _whole(value):
            raise AcdError(f"weight: expected a whole number, got {value!r}")
        return value
    if key == "empty_means":
        if value not in EMPTY_MEANS:
            raise AcdError(f"empty_means: expected one of {', '.join(EMPTY_MEANS)}, "
                           f"got {value!r}")
        return value
    if key in ("announce_every", "expected_aht"):
        if not (_number(value) and value > 0):
            raise AcdError(f"{key}: expected a number of seconds > 0, got {value!r}")
        return value
    if key == "autopause":
        if not isinstance(value, bool):
            raise AcdError(f"autopause: expected true or false, got {value!r}")
        return value
    if key == "music":
        if not (isinstance(value, str) and MUSIC_CLASS.fullmatch(value)):
            raise AcdError("music: expected a music class name (letters, digits, '.', '-', "
                           f"'_'; at most 64), got {value!r}")
        return value
    if key == "empty_target":
        return _check_target(key, value)
    raise AcdError(f"unknown queue option {key!r} (known: {', '.join(OPTION_KEYS)})")


def _check_target(key: str, value: Any) -> str:
    """A target as `stored_target` reads it; an unknown kind would be taken for a number, so
    it is refused here rather than dialled."""
    if isinstance(value, str):
        kind, sep, rest = value.partition(":")
        if sep and kind in Target.KINDS and TARGET_VALUE.fullmatch(rest) \
                or not sep and TARGET_NUMBER.fullmatch(value):
            return value
    raise AcdError(f"{key}: expected a number or KIND:VALUE with KIND one of "
                   f"{', '.join(Target.KINDS)} (e.g. voicemail:700), got {value!r}")


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def queue_config(queue: Any, tenant: str, schedules: Mapping[str, Any] | None = None
                 ) -> QueueConfig:
    """The engine's configuration of a stored queue (with its opening hours when `schedules`,
    the tenant's stored schedules by name, holds the queue's); AcdError names a bad value."""
    options = dict(queue.options or {})
    overflow: dict[str, Target] = {}
    if queue.overflow_queue:
        overflow = dict.fromkeys(("full", "timeout", "empty"),
                                 Target("queue", queue.overflow_queue))
    elif queue.overflow_target:
        overflow = dict.fromkeys(("full", "timeout", "empty"),
                                 stored_target(queue.overflow_target))
    if queue.closed_target:
        overflow["closed"] = stored_target(queue.closed_target)
    if options.get("empty_target"):
        overflow["empty"] = stored_target(str(options["empty_target"]))
        if overflow["empty"] == Target("queue", queue.name):
            raise AcdError(f"empty_target: queue {queue.name!r} cannot overflow to itself")
    try:
        steps = tuple((float(after), int(penalty))
                      for after, penalty in options.get("penalty_steps") or ())
        return QueueConfig(
            name=queue.name, strategy=queue.strategy, tenant=tenant,
            skills={s.skill: s.min_level for s in queue.skills},
            penalty_steps=steps,
            weight=int(options.get("weight", 0)),
            ring_timeout=float(queue.ring_timeout_seconds) or None,
            wrapup_seconds=float(queue.wrapup_seconds),
            max_len=queue.max_length,
            max_wait=None if queue.max_wait_seconds is None else float(queue.max_wait_seconds),
            join_empty=queue.join_empty, leave_when_empty=queue.leave_when_empty,
            empty_means=options.get("empty_means", "no_logged_in"),
            announce_position=queue.announce_position,
            announce_every=_seconds(options.get("announce_every")),
            expected_aht=float(options.get("expected_aht", 180.0)),
            autopause=bool(options.get("autopause", True)),
            music=options.get("music") or None,
            sl_seconds=float(queue.service_level_seconds),
            overflow=overflow,
            schedule=opening_hours((schedules or {}).get(queue.schedule or "")),
        )
    except (TypeError, ValueError) as exc:
        if isinstance(exc, AcdError):
            raise
        raise AcdError(f"queue {queue.name!r}: {exc}") from None


def stored_target(text: str) -> Target:
    """An overflow, closed or empty target as stored: ``voicemail:700`` / ``announcement:7001``
    (any Target kind, then its value), anything else a number to send the caller to."""
    kind, sep, value = text.partition(":")
    if sep and value and kind in Target.KINDS:
        return Target(kind, value)
    return Target("number", text)


def opening_hours(stored: Any) -> Schedule | None:
    """A stored schedule (db.records.Schedule) as the engine's Schedule."""
    if stored is None:
        return None
    weekly: dict[int, list[Any]] = {}
    for hours in stored.hours:
        weekly.setdefault(hours.weekday, []).append((hours.opens, hours.closes))
    return Schedule(stored.time_zone, {day: tuple(r) for day, r in weekly.items()},
                    frozenset(stored.holidays))


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)
