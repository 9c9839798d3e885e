"""Configuration values of the ACD: queues, skill requirements, explicit members.

These are plain immutable values, validated on construction, so that the same object can come
from the TOML file, from db/ or from an admin command and a bad value is refused before it
reaches a running engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from cti.acd.decisions import Target
from cti.acd.schedule import Schedule

STRATEGIES = (
    "ring-all", "hunt", "linear", "longest-idle", "round-robin", "fewest-calls",
    "least-talk-time", "random", "weighted-random",
)
OVERFLOW_REASONS = ("full", "timeout", "closed", "empty")
EMPTY_MEANS = ("no_logged_in", "no_available")


class AcdError(ValueError):
    """A bad configuration value or an admin change that cannot apply; the text says which."""


@dataclass(frozen=True, slots=True)
class SkillReq:
    """A queue's need for one skill.

    Agents below `min_level` never serve the queue. Agents between `min_level` and `level` serve
    it with a penalty of (level - their level), so with penalty steps a caller first waits for
    a fully skilled agent and accepts a less skilled one as the wait grows.
    """

    level: int = 1
    min_level: int | None = None

    def __post_init__(self) -> None:
        floor = self.level if self.min_level is None else self.min_level
        if floor > self.level or floor < 0:
            raise AcdError(f"skill min_level {floor} must be between 0 and level {self.level}")
        object.__setattr__(self, "min_level", floor)


@dataclass(frozen=True, slots=True)
class MemberConfig:
    """An explicit queue member: base penalty, weight (weighted-random), position (linear)."""

    penalty: int = 0
    weight: float = 1.0
    position: int | None = None

    def __post_init__(self) -> None:
        if self.penalty < 0:
            raise AcdError("member penalty must be >= 0")
        if not (self.weight > 0 and math.isfinite(self.weight)):
            raise AcdError("member weight must be a positive number")


@dataclass(frozen=True)
class QueueConfig:
    """One queue or hunt group.

    Routing: `strategy` picks among idle eligible agents. Eligible agents are the explicit
    members and, when `skills` is set, every agent meeting all skill minimums (explicit members
    must meet them too). `penalty_steps` ((after_seconds, max_penalty), ...) relax the highest
    member penalty a caller accepts as it waits; without steps any penalty is accepted, lowest
    first. `weight` orders queues sharing agents: a free agent takes the caller of the
    highest-weight queue, then the highest priority, then the longest waiting.

    Rules: `max_len` callers (ringing included), `max_wait` seconds, `join_empty` /
    `leave_when_empty` with `empty_means` "no_logged_in" or "no_available", `schedule`, and
    `overflow` targets per reason ("full", "timeout", "closed", "empty"); a reason without a
    target makes the caller Exit.
    """

    name: str
    strategy: str = "longest-idle"
    tenant: str | None = None
    skills: Mapping[str, SkillReq] = field(default_factory=dict)
    penalty_steps: tuple[tuple[float, int], ...] = ()
    weight: int = 0
    ring_timeout: float | None = 15.0
    autopause: bool = True
    wrapup_seconds: float | None = 0.0
    """After-call work after each ACD call: 0 none, None manual (until wrapup_done)."""
    max_len: int | None = None
    max_wait: float | None = None
    join_empty: bool = True
    leave_when_empty: bool = False
    empty_means: str = "no_logged_in"
    schedule: Schedule | None = None
    overflow: Mapping[str, Target] = field(default_factory=dict)
    announce_position: bool = False
    announce_every: float | None = None
    music: str | None = None
    sl_seconds: float = 20.0
    expected_aht: float = 180.0
    """Handling time assumed for expected-wait announcements until calls have been measured."""

    def __post_init__(self) -> None:
        if not self.name:
            raise AcdError("queue name must not be empty")
        if self.strategy not in STRATEGIES:
            raise AcdError(
                f"unknown strategy {self.strategy!r} (known: {', '.join(STRATEGIES)})"
            )
        skills = {}
        for skill, req in dict(self.skills).items():
            skills[skill] = req if isinstance(req, SkillReq) else SkillReq(int(req))
        object.__setattr__(self, "skills", skills)
        steps = tuple(sorted((float(a), int(p)) for a, p in self.penalty_steps))
        if any(a < 0 or p < 0 for a, p in steps):
            raise AcdError("penalty steps must be (seconds >= 0, penalty >= 0)")
        object.__setattr__(self, "penalty_steps", steps)
        for label, value in (
            ("ring_timeout", self.ring_timeout), ("wrapup_seconds", self.wrapup_seconds),
            ("max_wait", self.max_wait), ("announce_every", self.announce_every),
        ):
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise AcdError(f"{label} must be a number of seconds >= 0")
        if self.ring_timeout == 0 or self.announce_every == 0:
            raise AcdError("ring_timeout and announce_every must be > 0 when set")
        if self.max_len is not None and self.max_len < 0:
            raise AcdError("max_len must be >= 0")
        if self.empty_means not in EMPTY_MEANS:
            raise AcdError(f"empty_means must be one of {', '.join(EMPTY_MEANS)}")
        unknown = set(self.overflow) - set(OVERFLOW_REASONS)
        if unknown:
            raise AcdError(
                f"unknown overflow reason {sorted(unknown)[0]!r} "
                f"(known: {', '.join(OVERFLOW_REASONS)})"
            )
        if self.sl_seconds < 0 or self.expected_aht <= 0:
            raise AcdError("sl_seconds must be >= 0 and expected_aht > 0")

    def relaxation(self, waited: float) -> tuple[float, int]:
        """(penalty accepted after waiting `waited` seconds, index of the next step)."""
        if not self.penalty_steps:
            return math.inf, 0
        allowed, step = 0, 0
        for after, penalty in self.penalty_steps:
            if after > waited:
                break
            allowed, step = max(allowed, penalty), step + 1
        return allowed, step

    def penalty_for(self, skills: Mapping[str, int], member: MemberConfig | None) -> int | None:
        """An agent's penalty in this queue, or None when the agent does not serve it."""
        if member is None and not self.skills:
            return None
        penalty = member.penalty if member is not None else 0
        for skill, req in self.skills.items():
            level = skills.get(skill)
            if level is None or level < req.min_level:
                return None
            penalty += max(0, req.level - level)
        return penalty
