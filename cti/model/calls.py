"""Calls and their connections as the model keeps them, and the JSON views the API serves.

A `Call` is mutable and owned by the `Model`: only `Model.apply` and the model's own methods
change it, so everything above the model may read it freely but must not write to it. When a
call ends it is frozen into a `CallRecord` for the history, so readers of finished calls never
see a half-updated object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from cti.events import (
    ALERTING,
    CONNECTED,
    FAIL,
    HOLD,
    INITIATED,
    NULL,
    QUEUED_STATE,
    iso_time,
)


@dataclass(slots=True, eq=False)
class Connection:
    """One device's part in one call; shared by the call and the device's index.

    It holds no call ID on purpose: when a transfer or conference gives the call a new ID, the
    connection object moves unchanged. `inferred` marks a state the switch did not report for
    this device itself (a transfer's party list, a calling number).
    """

    device: str
    state: str
    since: float
    inferred: bool = False


class Step(NamedTuple):
    """One change in a call's life: a connection changed state, joined or left (state null).

    Recorded only when something actually changed, which is what makes an event repeated on
    several monitors leave no trace.
    """

    time: float
    event: str
    call_id: str
    device: str | None
    state: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": iso_time(self.time),
            "event": self.event,
            "call_id": self.call_id,
            "device": self.device,
            "state": self.state,
        }


MAX_STEPS = 256
"""A call's own log is bounded so that a call held and retrieved all day cannot grow forever."""


@dataclass(slots=True, eq=False)
class Note:
    time: float
    author: str | None
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"time": iso_time(self.time), "author": self.author, "text": self.text}


@dataclass(slots=True, eq=False)
class Call:
    """A call as the switch reports it, followed across the call IDs it goes through.

    `calling` / `called` are the first numbers the switch reported for the call; `ani` / `dnis`
    prefer the network forms and, across a transfer or conference, come from the earliest
    call, so the customer's number is never replaced by an agent's consultation call.
    `aliases` are the call IDs that were merged into this one, oldest first.
    `parties` is every device ever seen on the call, in order of appearance.
    """

    call_id: str
    started: float
    link: str | None = None
    connections: dict[str, Connection] = field(default_factory=dict)
    parties: dict[str, None] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    calling: str | None = None
    called: str | None = None
    ani: str | None = None
    dnis: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    digits: dict[str, str] = field(default_factory=dict)
    queue: str | None = None
    answered: float | None = None
    answered_by: str | None = None
    ended: float | None = None
    cause: str | None = None
    last_event: float = 0.0
    stale: bool = False
    """Set when the link went down; cleared by the next event or snapshot about the call."""
    steps: list[Step] = field(default_factory=list)

    @property
    def state(self) -> str:
        """The call's overall state (docs/api.md), summarised from its connections.

        Hold wins (someone has the caller waiting), then two connected parties (talking),
        then the states of a call still being set up.
        """
        if self.ended is not None or not self.connections:
            return NULL
        connected = 0
        seen = set()
        for conn in self.connections.values():
            if conn.state == CONNECTED:
                connected += 1
            seen.add(conn.state)
        if HOLD in seen:
            return HOLD
        if connected >= 2:
            return CONNECTED
        for state in (QUEUED_STATE, ALERTING, FAIL, INITIATED):
            if state in seen:
                return state
        return INITIATED if connected else NULL

    def restore_numbers(self, calling: str | None = None, called: str | None = None,
                        ani: str | None = None, dnis: str | None = None) -> bool:
        """Give a call rebuilt from a snapshot (which lists devices, not numbers) the numbers
        kept from before; a number the switch has reported since wins. True when any was
        missing and is now set."""
        changed = False
        for name, number in (("calling", calling), ("called", called), ("ani", ani),
                             ("dnis", dnis)):
            if number and getattr(self, name) is None:
                setattr(self, name, number)
                changed = True
        return changed

    def log(self, time: float, event: str, device: str | None, state: str | None) -> None:
        if len(self.steps) < MAX_STEPS:
            self.steps.append(Step(time, event, self.call_id, device, state))

    def to_dict(self) -> dict[str, Any]:
        """The call object of docs/api.md (less what the server adds, such as customer_id)."""
        return {
            "call_id": self.call_id,
            "state": self.state,
            "parties": [{"device": c.device, "state": c.state} for c in self.connections.values()],
            "calling": self.calling,
            "called": self.called,
            "ani": self.ani,
            "dnis": self.dnis,
            "data": dict(self.data),
            "notes": [note.to_dict() for note in self.notes],
            "digits": dict(self.digits),
            "queue": self.queue,
            "aliases": list(self.aliases),
            "parties_seen": list(self.parties),
            "started": iso_time(self.started),
            "answered": _iso(self.answered),
            "answered_by": self.answered_by,
            "ended": _iso(self.ended),
            "link": self.link,
            "stale": self.stale,
        }

    def record(self) -> CallRecord:
        return CallRecord(
            call_id=self.call_id,
            aliases=tuple(self.aliases),
            calling=self.calling,
            called=self.called,
            ani=self.ani,
            dnis=self.dnis,
            data=self.data,
            notes=tuple(self.notes),
            digits=self.digits,
            parties=tuple(self.parties),
            queue=self.queue,
            started=self.started,
            answered=self.answered,
            answered_by=self.answered_by,
            ended=self.ended if self.ended is not None else self.last_event,
            cause=self.cause,
            link=self.link,
            steps=tuple(self.steps),
        )


@dataclass(slots=True, frozen=True, eq=False)
class CallRecord:
    """A finished call as the history keeps it (and the database may store it)."""

    call_id: str
    aliases: tuple[str, ...]
    calling: str | None
    called: str | None
    ani: str | None
    dnis: str | None
    data: dict[str, Any]
    notes: tuple[Note, ...]
    digits: dict[str, str]
    parties: tuple[str, ...]
    queue: str | None
    started: float
    answered: float | None
    answered_by: str | None
    ended: float
    cause: str | None
    link: str | None
    steps: tuple[Step, ...]

    @property
    def call_ids(self) -> tuple[str, ...]:
        return (*self.aliases, self.call_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "state": NULL,
            "aliases": list(self.aliases),
            "calling": self.calling,
            "called": self.called,
            "ani": self.ani,
            "dnis": self.dnis,
            "data": dict(self.data),
            "notes": [note.to_dict() for note in self.notes],
            "digits": dict(self.digits),
            "parties_seen": list(self.parties),
            "queue": self.queue,
            "started": iso_time(self.started),
            "answered": _iso(self.answered),
            "answered_by": self.answered_by,
            "ended": iso_time(self.ended),
            "cause": self.cause,
            "link": self.link,
            "steps": [step.to_dict() for step in self.steps],
        }


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else iso_time(seconds)
