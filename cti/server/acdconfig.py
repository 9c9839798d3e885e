"""A stored queue (db.records.Queue) as the ACD's QueueConfig: one translation, used by the
running server to load and reload its engines and by `cti admin` to refuse a bad value before
it is stored.

Named columns carry the common settings; the queue's free-form `options` carry the rest:
``penalty_steps`` ([[after_seconds, max_penalty], ...]), ``weight`` (precedence among queues
sharing agents), ``empty_means``, ``announce_every``, ``expected_aht``, ``autopause`` and
``music`` (the music class waiting callers hear). A stored overflow or closed target is a number,
or ``KIND:VALUE`` for another kind of Target: ``voicemail:700``, ``announcement:7001``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cti.acd.config import AcdError, QueueConfig
from cti.acd.decisions import Target
from cti.acd.schedule import Schedule

OPTION_KEYS = ("penalty_steps", "weight", "empty_means", "announce_every", "expected_aht",
               "autopause", "music")


def queue_config(queue: Any, tenant: str, schedules: Mapping[str, Any] | None = None
                 ) -> QueueConfig:
    """The engine's configuration of a stored queue (with its opening hours when `schedules`,
    the tenant's stored schedules by name, holds the queue's); AcdError names a bad value."""
    options = dict(queue.options or {})
    overflow: dict[str, Target] = {}
    if queue.overflow_queue:
        overflow = {"full": Target("queue", queue.overflow_queue),
                    "timeout": Target("queue", queue.overflow_queue)}
    elif queue.overflow_target:
        overflow = dict.fromkeys(("full", "timeout"), stored_target(queue.overflow_target))
    if queue.closed_target:
        overflow["closed"] = stored_target(queue.closed_target)
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
    """An overflow or closed target as stored: ``voicemail:700`` / ``announcement:7001``
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
