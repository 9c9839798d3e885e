"""Switch events -> generic-dialect event messages, and switch refusals -> error codes.

Pure functions, so the mapping is tested without a line. The switch speaks ECMA-269 kinds; the
serial link's generic dialect (docs/serial-link-protocol.md 3.2) says fewer things: events it
has no code for (service_initiated, network_reached, digits_dialed, agent_busy, device
features) are simply not reported on this link, as a real serial PBX reports less than CSTA.
"""

from __future__ import annotations

from drivers.serial.dialects import EVENT, Message
from drivers.serial.dialects.generic import EVENT_CODES
from simulators.pbx import errors
from simulators.pbx import events as ev
from simulators.pbx.events import SwitchEvent
from simulators.serial.requests import RequestError

REPORTED = frozenset(EVENT_CODES.values())
"""Switch event kinds the generic dialect can carry (same names as cti.events)."""

_AGENT_KINDS = frozenset({
    ev.AGENT_LOGGED_ON, ev.AGENT_LOGGED_OFF, ev.AGENT_READY, ev.AGENT_NOT_READY,
    ev.AGENT_WORKING_AFTER_CALL,
})

# Most specific class first: the first match names the error.
_ERROR_CODES: tuple[tuple[type[errors.SwitchError], str], ...] = (
    (RequestError, "NOT_SUPPORTED"),
    (errors.InvalidCall, "INVALID_CALL"),
    (errors.InvalidConnection, "INVALID_CALL"),
    (errors.InvalidDevice, "INVALID_DEVICE"),
    (errors.AgentRefused, "INVALID_DEVICE"),
    (errors.InvalidState, "INVALID_STATE"),
    (errors.NotForThisDevice, "NOT_SUPPORTED"),
    (errors.NoResources, "RESOURCE"),
)


def render(event: SwitchEvent) -> Message | None:
    """The event message for one switch event, or None when the dialect cannot say it."""
    kind = event.kind
    if kind not in REPORTED:
        return None
    fields: dict[str, str] = {}
    if kind in _AGENT_KINDS:
        fields["device"] = event.device or ""
        fields["agent_id"] = event.details.get("agent_id") or ""
        if kind == ev.AGENT_NOT_READY and event.details.get("reason"):
            fields["reason"] = _clean(event.details["reason"])
        return Message(EVENT, kind, fields)
    fields["call_id"] = event.call_id or ""
    if kind != ev.CALL_CLEARED and event.device:
        fields["device"] = event.device
    if event.calling:
        fields["calling"] = _clean(event.calling)
    if event.called:
        fields["called"] = _clean(event.called)
    if kind in (ev.TRANSFERRED, ev.CONFERENCED):
        old = (event.details.get("primary_old_call"), event.details.get("secondary_old_call"))
        fields["old_call_ids"] = ",".join(c for c in old if c and c != event.call_id)
        if event.details.get("to_device"):
            fields["to"] = event.details["to_device"]
    elif kind == ev.DIVERTED and event.details.get("new_destination"):
        fields["to"] = event.details["new_destination"]
    if event.cause and kind in (ev.FAILED, ev.CONNECTION_CLEARED, ev.CALL_CLEARED, ev.DIVERTED):
        fields["cause"] = _clean(event.cause)
    return Message(EVENT, kind, fields)


def error_code(error: Exception) -> str:
    """The negative response's X code for a refusal (UNKNOWN for anything unexpected)."""
    for cls, code in _ERROR_CODES:
        if isinstance(error, cls):
            return code
    return "UNKNOWN"


def _clean(value: str) -> str:
    """A value the dialect can carry: printable ASCII without the field separator."""
    return "".join(ch for ch in value if " " <= ch <= "~" and ch != ";")
