"""The normalised event vocabulary: the one contract between drivers and the core.

Every driver (CSTA, serial link, voice board) turns what its switch says into these events, and
everything above the drivers (call model, ACD, API, `cti monitor`) reads only these. The field
meanings are pinned by shared/product/interfaces.md; `Event.to_dict` produces exactly the JSON
shape scripts rely on.

Times are float seconds since the Unix epoch (UTC), supplied by whoever creates the event, so the
model and the ACD never read a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Call-control events (ECMA-269 names in snake_case; "transferred", not ECMA's "Transfered").
SERVICE_INITIATED = "service_initiated"
ORIGINATED = "originated"
DELIVERED = "delivered"
ESTABLISHED = "established"
HELD = "held"
RETRIEVED = "retrieved"
CONNECTION_CLEARED = "connection_cleared"
CALL_CLEARED = "call_cleared"
TRANSFERRED = "transferred"
CONFERENCED = "conferenced"
DIVERTED = "diverted"
FAILED = "failed"
QUEUED = "queued"
NETWORK_REACHED = "network_reached"
DIGITS_DIALED = "digits_dialed"
CALL_INFORMATION = "call_information"

# Agent and device-feature events.
AGENT_LOGGED_ON = "agent_logged_on"
AGENT_LOGGED_OFF = "agent_logged_off"
AGENT_READY = "agent_ready"
AGENT_NOT_READY = "agent_not_ready"
AGENT_WORKING_AFTER_CALL = "agent_working_after_call"
AGENT_BUSY = "agent_busy"
DO_NOT_DISTURB = "do_not_disturb"
FORWARDING = "forwarding"
BACK_IN_SERVICE = "back_in_service"
OUT_OF_SERVICE = "out_of_service"

# Routing (the switch asks the application where a call on a pilot number should go).
ROUTE_REQUEST = "route_request"
ROUTE_END = "route_end"

# Voice unit: a message (queue announcement, music) played over a connection; `data["message"]`
# holds the message ID (docs/csta-wire.md, "Voice unit"). Nothing in the core acts on them.
PLAY = "play"
STOP = "stop"
VOICE_UNIT_EVENTS = frozenset({PLAY, STOP})

# Link life-cycle and resynchronisation, emitted by drivers themselves.
LINK_UP = "link_up"
LINK_DOWN = "link_down"
SNAPSHOT_DEVICE = "snapshot_device"
SNAPSHOT_CALL = "snapshot_call"

CALL_EVENTS = frozenset(
    {
        SERVICE_INITIATED, ORIGINATED, DELIVERED, ESTABLISHED, HELD, RETRIEVED,
        CONNECTION_CLEARED, CALL_CLEARED, TRANSFERRED, CONFERENCED, DIVERTED, FAILED, QUEUED,
        NETWORK_REACHED, DIGITS_DIALED, CALL_INFORMATION,
    }
)
AGENT_EVENTS = frozenset(
    {
        AGENT_LOGGED_ON, AGENT_LOGGED_OFF, AGENT_READY, AGENT_NOT_READY,
        AGENT_WORKING_AFTER_CALL, AGENT_BUSY,
    }
)
DEVICE_EVENTS = frozenset({DO_NOT_DISTURB, FORWARDING, BACK_IN_SERVICE, OUT_OF_SERVICE})

# ECMA-269 connection states, the only spellings used anywhere (parties[].state, snapshots).
NULL = "null"
INITIATED = "initiated"
ALERTING = "alerting"
CONNECTED = "connected"
HOLD = "hold"
QUEUED_STATE = "queued"
FAIL = "fail"
CONNECTION_STATES = (NULL, INITIATED, ALERTING, CONNECTED, HOLD, QUEUED_STATE, FAIL)


@dataclass(slots=True, frozen=True)
class Party:
    """One connection of a call as a switch reports it: (call, device) and its state.

    Used for the new connections of a transfer or conference and for snapshot results.
    `state` is one of CONNECTION_STATES or None when the switch did not say.
    """

    call_id: str
    device: str | None
    state: str | None = None
    raw_device: str | None = None


@dataclass(slots=True)
class Event:
    """One normalised event.

    `device` is the device the event is about (alerting device for delivered, answering device
    for established, ...; see interfaces.md), `call_id` the call the event leaves that device in
    (the resulting call for transferred / conferenced), `old_call_ids` the calls that ceased to
    exist on transferred / conferenced. Numbers are normalised by cti.numbers; the switch's own
    spellings stay in the raw_* fields.
    """

    event: str
    time: float
    call_id: str | None = None
    device: str | None = None
    calling: str | None = None
    called: str | None = None
    old_call_ids: tuple[str, ...] = ()
    monitor: str | None = None
    link: str | None = None
    cause: str | None = None
    state: str | None = None
    """The local connection state the event leaves `device` in, where the switch says it."""
    parties: tuple[Party, ...] = ()
    """New connections (transferred / conferenced) or a device's connections (snapshot)."""
    network_calling: str | None = None
    network_called: str | None = None
    last_redirection: str | None = None
    raw_device: str | None = None
    raw_calling: str | None = None
    raw_called: str | None = None
    agent_id: str | None = None
    reason: str | None = None
    """Agent not-ready reason code, or the reason text of a failure / out-of-service."""
    digits: str | None = None
    cross_ref: str | None = None
    """Routing cross-reference of route_request / route_end; monitor cross-ref otherwise."""
    data: dict[str, Any] = field(default_factory=dict)
    """Attached user data (correlator data, UUI, account codes) and other extra fields."""
    private: str | None = None
    """Vendor extensions (CSTA privateData) verbatim; kept, never interpreted by the core."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of interfaces.md: pinned keys always present, others when set."""
        out: dict[str, Any] = {
            "event": self.event,
            "call_id": self.call_id,
            "device": self.device,
            "calling": self.calling,
            "called": self.called,
            "time": iso_time(self.time),
        }
        if self.event in (TRANSFERRED, CONFERENCED):
            out["old_call_ids"] = list(self.old_call_ids)
        if self.monitor is not None:
            out["monitor"] = self.monitor
        for key in (
            "link", "cause", "state", "network_calling", "network_called", "last_redirection",
            "raw_device", "raw_calling", "raw_called", "agent_id", "reason", "digits",
            "cross_ref", "private",
        ):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.parties:
            out["parties"] = [
                {"call_id": p.call_id, "device": p.device, "state": p.state} for p in self.parties
            ]
        if self.data:
            out["data"] = self.data
        return out


def iso_time(seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and a Z, as every JSON time in the product is written."""
    stamp = datetime.fromtimestamp(seconds, UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"
