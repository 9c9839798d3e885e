"""Devices (extensions, queues, trunks' far ends) and the agent state the switch reports for them.

The agent state here is the switch's word (ECMA-269 agent events), not the ACD's: the ACD keeps
its own view of what an agent chose and what the system did, and reads this one as input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cti.events import BACK_IN_SERVICE, DO_NOT_DISTURB, OUT_OF_SERVICE, Event, iso_time
from cti.model.calls import Connection

LOGGED_ON = "logged_on"
READY = "ready"
NOT_READY = "not_ready"
WORKING_AFTER_CALL = "working_after_call"
BUSY = "busy"
LOGGED_OFF = "logged_off"
AGENT_STATES = (LOGGED_ON, READY, NOT_READY, WORKING_AFTER_CALL, BUSY, LOGGED_OFF)


@dataclass(slots=True, frozen=True)
class AgentState:
    """Replaced, never mutated, so a listener may keep the previous one to compare."""

    agent_id: str | None
    device: str
    state: str
    reason: str | None
    since: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "device": self.device,
            "state": self.state,
            "reason": self.reason,
            "since": iso_time(self.since),
        }


@dataclass(slots=True, eq=False)
class Device:
    """One device and what the model knows about it.

    `monitored` is set once an event arrives on the device's own monitor (or a snapshot of it):
    the model then knows it will hear about the device's calls, which decides when a call can
    no longer be observed. `forwarding` maps a forwarding type (immediate, busy, no_answer) to
    its destination.
    """

    device: str
    connections: dict[str, Connection] = field(default_factory=dict)
    monitored: bool = False
    do_not_disturb: bool = False
    forwarding: dict[str, str | None] = field(default_factory=dict)
    in_service: bool = True
    agent: AgentState | None = None
    link: str | None = None

    @property
    def plain(self) -> bool:
        """Nothing worth remembering: a far end the model met only as a party of a call."""
        return not (
            self.connections or self.monitored or self.agent or self.do_not_disturb
            or self.forwarding or not self.in_service
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "connections": [
                {"call_id": call_id, "state": conn.state}
                for call_id, conn in self.connections.items()
            ],
            "monitored": self.monitored,
            "do_not_disturb": self.do_not_disturb,
            "forwarding": [{"type": kind, "to": to} for kind, to in self.forwarding.items()],
            "in_service": self.in_service,
            "agent": self.agent.to_dict() if self.agent else None,
            "link": self.link,
        }


_FORWARDING_TYPES = {
    "immediate": "immediate",
    "forwardimmediate": "immediate",
    "busy": "busy",
    "forwardbusy": "busy",
    "noanswer": "no_answer",
    "noans": "no_answer",
    "forwardnoans": "no_answer",
    "forwardnoanswer": "no_answer",
}
_TRUE = frozenset({"true", "on", "1", "yes", "active"})
_FALSE = frozenset({"false", "off", "0", "no", "inactive"})
_MISSING = object()


def apply_feature(dev: Device, event: Event) -> bool | None:
    """Apply a do_not_disturb / forwarding / out_of_service / back_in_service event.

    True when the device changed, False when it already was so, None when the event does not
    say whether the feature went on or off (then nothing changes).
    """
    name = event.event
    if name == OUT_OF_SERVICE or name == BACK_IN_SERVICE:
        on = name == BACK_IN_SERVICE
        changed = dev.in_service != on
        dev.in_service = on
        return changed
    data = event.data
    on = _flag(event, "do_not_disturb" if name == DO_NOT_DISTURB else "forward_status")
    if on is None:
        return None
    if name == DO_NOT_DISTURB:
        changed = dev.do_not_disturb != on
        dev.do_not_disturb = on
        return changed
    kind = _forwarding_type(data.get("forwarding_type", data.get("type")))
    if on:
        to = data.get("forward_to") or data.get("to") or event.called
        changed = dev.forwarding.get(kind, _MISSING) != to
        dev.forwarding[kind] = to
        return changed
    return dev.forwarding.pop(kind, _MISSING) is not _MISSING


def _flag(event: Event, key: str) -> bool | None:
    """On or off, as the CSTA codec (data[key], text) or the simulator (data["on"], a bool)
    gives it, else the event's state."""
    data = event.data
    value = data.get(key, data.get("on", event.state))
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    return None


def _forwarding_type(raw: object) -> str:
    """ECMA's forwardImmediate / forwardBusy / forwardNoAns as immediate / busy / no_answer."""
    if not isinstance(raw, str) or not raw:
        return "immediate"
    return _FORWARDING_TYPES.get(raw.replace("_", "").replace("-", "").lower(), raw)
