"""The switch's own events: protocol-neutral, one object per state change.

Front-ends turn each into wire messages (a CSTA XML event per monitor, a serial status line...).
`parties` names every device that sees the event together with the state the event leaves its
connection in, so a front-end can fan an event out to the monitors of those devices and fill in
each monitor's local connection state without asking the switch again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Kinds, named as cti.events names the normalised events (ECMA-269 in snake_case).
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
# Routing dialogue with one registered application (not fanned out to monitors).
ROUTE_REQUEST = "route_request"
ROUTE_END = "route_end"
# Voice-unit events (ECMA-269 PlayEvent / StopEvent) about a message played over a connection.
PLAY = "play"
STOP = "stop"


@dataclass(slots=True)
class SwitchEvent:
    """One state change.

    `device` is the device the event is about (alerting device for delivered, releasing device
    for connection_cleared, the queue for queued...), `call_id` the call of the event's
    connection, which is (`call_id`, `device`) unless `connection_device` says otherwise.
    `details` holds the kind-specific fields:

    - transferred / conferenced: ``primary_old_call``, ``secondary_old_call`` (or None),
      ``to_device`` (transferredToDevice / addedParty), ``connections``: list of
      ``(device, new_call_id, old_call_id or None)``
    - diverted: ``new_destination``; queued: ``queue_count``; network_reached: ``trunk``;
      digits_dialed: ``digits``
    - agent_*: ``agent_id``, ``reason`` (not ready), ``group``
    - do_not_disturb: ``on``; forwarding: ``type``, ``on``, ``to``
    - route_request: ``registration``, ``xref``, ``pilot``, ``calling``;
      route_end: ``registration``, ``xref``, ``error`` (None when routed normally)
    - play / stop: ``message`` (the message ID), play also ``length`` (seconds; absent for
      music, which plays until stopped)
    """

    kind: str
    time: float
    call_id: str | None = None
    device: str | None = None
    parties: tuple[tuple[str, str], ...] = ()
    calling: str | None = None
    called: str | None = None
    cause: str | None = None
    last_redirection: str | None = None
    connection_device: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def devices(self) -> tuple[str, ...]:
        return tuple(device for device, _ in self.parties)

    def state_of(self, device: str) -> str:
        """The state this event leaves `device`'s connection in ("null" when it has none)."""
        for party, state in self.parties:
            if party == device:
                return state
        return "null"
