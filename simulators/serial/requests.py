"""Generic-dialect requests executed on the switch: one small function per request name.

Each takes the switch, the request's neutral fields and the front-end's monitored set, and
returns the positive response's fields; a refusal is an exception (a SwitchError from the
switch, or RequestError for a malformed request), which the front-end turns into a negative
response with messages.error_code.
"""

from __future__ import annotations

from collections.abc import Callable, MutableSet

from simulators.pbx.errors import InvalidCall, InvalidDevice, SwitchError
from simulators.pbx.switch import Switch

Fields = dict[str, str]
Handler = Callable[[Switch, Fields, MutableSet[str]], Fields]

AGENT_REQUESTS = {
    "logged_on": "loggedOn", "logged_off": "loggedOff", "ready": "ready",
    "not_ready": "notReady", "working_after_call": "workingAfterCall",
    # ECMA spellings, which the driver passes through unchanged as well.
    "loggedOn": "loggedOn", "loggedOff": "loggedOff", "notReady": "notReady",
    "workingAfterCall": "workingAfterCall",
}


class RequestError(SwitchError):
    """A request this PBX does not carry out (unknown service, unknown agent state)."""

    value = "notSupported"


def _call(fields: Fields, key: str = "call_id") -> str:
    value = fields.get(key)
    if not value:
        raise InvalidCall(f"the request names no call ({key})")
    return value


def _device(fields: Fields, key: str = "device") -> str:
    value = fields.get(key)
    if not value:
        raise InvalidDevice(f"the request names no device ({key})")
    return value


def monitor_start(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    device = _device(fields)
    switch.device(device)
    monitored.add(device)
    return {}


def monitor_stop(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    monitored.discard(_device(fields))
    return {}


def make_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    return {"call_id": switch.make_call(_device(fields), _device(fields, "called"))}


def answer_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.answer_call(_call(fields), _device(fields))
    return {}


def clear_connection(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.clear_connection(_call(fields), _device(fields))
    return {}


def clear_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.clear_call(_call(fields))
    return {}


def hold_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.hold_call(_call(fields), _device(fields))
    return {}


def retrieve_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.retrieve_call(_call(fields), _device(fields))
    return {}


def consultation_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    new = switch.consultation_call(_call(fields), _device(fields), _device(fields, "called"))
    return {"call_id": new}


def transfer_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    new = switch.transfer_call(_call(fields, "held_call"), _call(fields), _device(fields))
    return {"call_id": new}


def conference_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    kept = switch.conference_call(_call(fields, "held_call"), _call(fields), _device(fields))
    return {"call_id": kept}


def deflect_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    switch.deflect_call(_call(fields), _device(fields), _device(fields, "to"))
    return {}


def set_agent_state(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    state = fields.get("state", "")
    if state not in AGENT_REQUESTS:
        raise RequestError(f"unknown agent state {state!r}")
    switch.set_agent_state(
        _device(fields), AGENT_REQUESTS[state], agent_id=fields.get("agent_id"),
        password=fields.get("password"), group=fields.get("group"), reason=fields.get("reason"),
    )
    return {}


def snapshot_device(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    items = switch.snapshot_device(_device(fields))
    return {"parties": ",".join(f"{call_id}:{state}" for call_id, state in items)}


def snapshot_call(switch: Switch, fields: Fields, monitored: MutableSet[str]) -> Fields:
    items = switch.snapshot_call(_call(fields))
    return {"parties": ",".join(f"{device}:{state}" for device, state in items)}


HANDLERS: dict[str, Handler] = {
    handler.__name__: handler
    for handler in (
        monitor_start, monitor_stop, make_call, answer_call, clear_connection, clear_call,
        hold_call, retrieve_call, consultation_call, transfer_call, conference_call,
        deflect_call, set_agent_state, snapshot_device, snapshot_call,
    )
}


def execute(switch: Switch, name: str, fields: Fields, monitored: MutableSet[str]) -> Fields:
    """Carries out request `name`; the positive response's fields, or raises why not."""
    handler = HANDLERS.get(name)
    if handler is None:
        raise RequestError(f"{name} is not supported on this link")
    return handler(switch, fields, monitored)
