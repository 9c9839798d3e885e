"""What the ACD engine tells the world: decisions to execute and records to keep.

The engine never acts itself. Every input returns a list of these values, in the order they
happened; the server turns them into switch commands (deflect, route select, play prompt), API
events and rows in db/, and the simulator reads them to drive its virtual callers and agents.
All of them are frozen dataclasses so they can be compared in tests and logged as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Target:
    """Where an overflow sends a caller: another queue, voice mail, an announcement or a number."""

    kind: str
    value: str

    KINDS = ("queue", "voicemail", "announcement", "number")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"overflow target kind must be one of {', '.join(self.KINDS)}")


@dataclass(frozen=True, slots=True)
class Offer:
    """Ring one agent with a queued call (deflect / route select to `extension`)."""

    call_id: str
    agent_id: str
    extension: str | None
    queue: str
    ring_timeout: float | None


@dataclass(frozen=True, slots=True)
class RingAll:
    """Ring several agents at once with one call; the first to answer wins (ring-all)."""

    call_id: str
    agents: tuple[tuple[str, str | None], ...]
    """(agent_id, extension) pairs, in the order they were chosen."""
    queue: str
    ring_timeout: float | None


@dataclass(frozen=True, slots=True)
class StopRinging:
    """Stop alerting these agents with this call (answered elsewhere, timeout, abandon)."""

    call_id: str
    agents: tuple[tuple[str, str | None], ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Announce:
    """Play something to a waiting caller.

    kind: "enter" (first message on joining, with position and expected wait), "position"
    (periodic update), "music" (start music on hold of class `music`).
    """

    call_id: str
    queue: str
    kind: str
    position: int | None = None
    expected_wait: float | None = None
    music: str | None = None


@dataclass(frozen=True, slots=True)
class Overflow:
    """Send the caller elsewhere. A target of kind "queue" has already been joined by the engine."""

    call_id: str
    queue: str
    reason: str
    target: Target


@dataclass(frozen=True, slots=True)
class Exit:
    """The caller leaves the ACD without an agent (refused on arrival or taken out while waiting).

    reason: "full", "timeout", "closed", "empty", "leave_empty", "unknown_queue", "unknown_dnis",
    "queue_removed". The server plays its default treatment (busy tone, message) and clears.
    """

    call_id: str
    queue: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent's status (what the agent chose) or state (what the system did) changed.

    status: "logged_out", "available", "not_ready" (with `reason`);
    state: "idle", "ringing", "in_call", "wrap_up".
    """

    time: float
    agent_id: str
    status: str
    state: str
    reason: str | None = None
    call_id: str | None = None
    acd: bool = True
    """False while the agent is busy on a call the ACD did not deliver (non-ACD call)."""


@dataclass(frozen=True, slots=True)
class QueueLogEvent:
    """One queue_log record, named as Asterisk's queue_log so existing reports understand it.

    event: ENTERQUEUE, CONNECT(holdtime, ringtime), COMPLETECALLER / COMPLETEAGENT(holdtime,
    talktime, holdseconds), ABANDON(position, origposition, waittime), EXITWITHTIMEOUT(position,
    origposition, waittime), EXITEMPTY(...), FULL, CLOSED, OVERFLOW(reason, target, waittime),
    TRANSFER(target, holdtime, talktime), RINGNOANSWER(ringtime), REJECT(ringtime),
    ACW(seconds), AGENTLOGIN(extension), AGENTLOGOFF(logintime), PAUSE(reason), UNPAUSE,
    ADMIN(change).
    """

    time: float
    queue: str | None
    call_id: str | None
    agent_id: str | None
    event: str
    data: dict[str, Any] = field(default_factory=dict)


Decision = Offer | RingAll | StopRinging | Announce | Overflow | Exit | AgentState | QueueLogEvent
