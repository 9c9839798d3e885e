"""What the switch is made of: devices, calls and their connections.

Plain data with a little bookkeeping; every decision (who rings, what a transfer does) lives in
switch.py, so these classes read as the switch's inventory.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

NULL = "null"
INITIATED = "initiated"
ALERTING = "alerting"
CONNECTED = "connected"
HOLD = "hold"
QUEUED = "queued"
FAIL = "fail"

RING_ALL = "ring-all"
HUNT = "hunt"
LINEAR = "linear"
DISTRIBUTIONS = (RING_ALL, HUNT, LINEAR)

FORWARD_IMMEDIATE = "forwardImmediate"
FORWARD_BUSY = "forwardBusy"
FORWARD_NO_ANSWER = "forwardNoAns"
FORWARDING_TYPES = (FORWARD_IMMEDIATE, FORWARD_BUSY, FORWARD_NO_ANSWER)

# Agent states, as ECMA-269 names them (loggedOff is "no Agent object at all").
AGENT_NOT_READY = "notReady"
AGENT_READY = "ready"
AGENT_BUSY = "busy"
AGENT_WORK = "workingAfterCall"


class Connection:
    """One device's leg of one call. Moves to a new Call object on transfer/conference."""

    __slots__ = ("call", "device", "state", "participation", "timer", "external")

    def __init__(self, call: Call, device: str, state: str, external: bool = False) -> None:
        self.call = call
        self.device = device
        self.state = state
        self.participation = "active"
        self.timer: Any = None
        self.external = external

    def cancel_timer(self) -> None:
        if self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None

    def __repr__(self) -> str:
        return f"<Connection {self.call.call_id}/{self.device} {self.state}>"


class Call:
    """A call: its ID (decimal string), its connections by device, who called whom.

    `trunks` maps each trunk channel the call holds to the outside number it carries: one for
    an ordinary outside call, two once a transfer joins an inbound caller to an outside
    number. Every one is freed when the call ends.
    """

    __slots__ = (
        "call_id", "connections", "calling", "called", "last_redirection", "trunks",
        "created", "hunt_pilot", "hunt_tried", "route",
    )

    def __init__(self, call_id: str, calling: str | None, called: str | None, now: float) -> None:
        self.call_id = call_id
        self.connections: dict[str, Connection] = {}
        self.calling = calling
        self.called = called
        self.last_redirection: str | None = None
        self.trunks: dict[str, str] = {}
        self.created = now
        self.hunt_pilot: str | None = None
        self.hunt_tried: set[str] = set()
        self.route: Any = None

    @property
    def trunk(self) -> str | None:
        """The first trunk channel the call seized (what a call record names)."""
        return next(iter(self.trunks), None)

    def parties(self) -> list[dict[str, str]]:
        return [{"device": c.device, "state": c.state} for c in self.connections.values()]

    def __repr__(self) -> str:
        legs = ", ".join(f"{c.device}:{c.state}" for c in self.connections.values())
        return f"<Call {self.call_id} {legs}>"


@dataclass(slots=True)
class Agent:
    """An agent logged on at an extension."""

    agent_id: str
    state: str = AGENT_NOT_READY
    reason: str | None = None
    group: str | None = None
    timer: Any = None


@dataclass(slots=True, eq=False)
class Device:
    """A configured device; `connections` are its current legs (at most a handful)."""

    number: str
    connections: list[Connection] = field(default_factory=list)

    kind = "device"

    def connection_in(self, call_id: str) -> Connection | None:
        for conn in self.connections:
            if conn.call.call_id == call_id:
                return conn
        return None


@dataclass(slots=True, eq=False)
class Extension(Device):
    """A telephone. `auto_answer` (seconds) makes it pick up by itself after ringing that long."""

    dnd: bool = False
    out_of_service: bool = False
    forwards: dict[str, str] = field(default_factory=dict)
    agent: Agent | None = None
    auto_answer: float | None = None
    no_answer_seconds: float = 20.0

    kind = "extension"

    @property
    def busy(self) -> bool:
        return bool(self.connections)


@dataclass(slots=True, eq=False)
class Pilot(Device):
    """A hunt-group pilot number; `distribution` is its own way to pick members."""

    members: list[str] = field(default_factory=list)
    distribution: str = HUNT
    ring_seconds: float = 15.0
    next_index: int = 0
    waiting: deque = field(default_factory=deque)

    kind = "pilot"


@dataclass(slots=True, eq=False)
class Queue(Device):
    """An ACD queue device: calls park here (state queued) until deflected or transferred."""

    kind = "queue"


@dataclass(slots=True, eq=False)
class Trunk(Device):
    """One trunk channel towards the public network."""

    in_use: bool = False

    kind = "trunk"


@dataclass(slots=True, eq=False)
class Announcement(Device):
    """A recorded announcement: answers every call delivered to it, plays `message` for
    `seconds`, then clears the call or, with `returns`, hands it back to the device that sent
    it there (a queue's delay announcement). Any number of callers hear it at once."""

    seconds: float = 10.0
    message: str = ""
    returns: bool = False

    kind = "announcement"


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """One message left in a mailbox: who called, when recording began, how long it is."""

    mailbox: str
    caller: str | None
    time: float
    seconds: float
    call_id: str


@dataclass(slots=True, eq=False)
class VoiceMail(Device):
    """A voice-mail pilot: answers, records the caller until they hang up or `max_seconds`
    have passed, and files the message in the mailbox of the device that sent the call there
    (the last redirecting device; its own number for a call dialled straight to it)."""

    max_seconds: float = 120.0
    mailboxes: dict[str, list[VoiceMessage]] = field(default_factory=dict)

    kind = "voicemail"


class Player:
    """What a voice unit plays over one connection: a spoken message (with the timer that
    ends it) in front of an optional music stream, which resumes when the message ends."""

    __slots__ = ("spoken", "music", "timer")

    def __init__(self) -> None:
        self.spoken: str | None = None
        self.music: str | None = None
        self.timer: Any = None

    def cancel_timer(self) -> None:
        if self.timer is not None:
            if self.timer.active():
                self.timer.cancel()
            self.timer = None
