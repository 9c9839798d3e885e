"""Call-control and device-feature services: one function per request element.

Each takes the switch and the parsed request and returns the positive response document; a
refusal is a SwitchError, which the protocol turns into CSTAErrorCode. Services that need the
connection's own state (sessions, monitors, routing registrations) live in protocol.py.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from simulators.csta.xmlcodec import (
    child,
    conn_xml,
    connection,
    descendant_text,
    device,
    element,
    message,
    ring_all,
    text,
)
from simulators.pbx.errors import InvalidCall, InvalidConnection, InvalidDevice, SwitchError
from simulators.pbx.model import FORWARDING_TYPES
from simulators.pbx.switch import Switch

Service = Callable[[Switch, etree._Element], bytes]

AGENT_STATE_NAMES = {
    "ready": "agentReady",
    "notReady": "agentNotReady",
    "busy": "agentBusy",
    "workingAfterCall": "agentWorkingAfterCall",
}


def _conn(req: etree._Element, name: str) -> tuple[str, str]:
    call_id, device_id = connection(req, name)
    if call_id is None:
        raise InvalidCall(f"{name} has no callID")
    if device_id is None:
        raise InvalidConnection(f"{name} has no deviceID")
    return call_id, device_id


def _device(req: etree._Element, name: str) -> str:
    number = device(req, name)
    if not number:
        raise InvalidDevice(f"{name} is missing")
    return number


def _flag(req: etree._Element, name: str) -> bool:
    value = (text(req, name) or "").lower()
    if value not in ("true", "false", "1", "0"):
        raise SwitchError(f"{name} must be true or false")
    return value in ("true", "1")


def make_call(switch: Switch, req: etree._Element) -> bytes:
    calling = _device(req, "callingDevice")
    call_id = switch.make_call(calling, _device(req, "calledDirectoryNumber"))
    return message("MakeCallResponse", conn_xml("callingDevice", call_id, calling))


def answer_call(switch: Switch, req: etree._Element) -> bytes:
    switch.answer_call(*_conn(req, "callToBeAnswered"))
    return message("AnswerCallResponse")


def clear_connection(switch: Switch, req: etree._Element) -> bytes:
    switch.clear_connection(*_conn(req, "connectionToBeCleared"))
    return message("ClearConnectionResponse")


def clear_call(switch: Switch, req: etree._Element) -> bytes:
    call_id, _ = connection(req, "callToBeCleared")
    switch.clear_call(call_id or "")
    return message("ClearCallResponse")


def hold_call(switch: Switch, req: etree._Element) -> bytes:
    switch.hold_call(*_conn(req, "callToBeHeld"))
    return message("HoldCallResponse")


def retrieve_call(switch: Switch, req: etree._Element) -> bytes:
    switch.retrieve_call(*_conn(req, "callToBeRetrieved"))
    return message("RetrieveCallResponse")


def consultation_call(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "existingCall")
    new = switch.consultation_call(call_id, device_id, _device(req, "consultedDevice"))
    return message("ConsultationCallResponse", conn_xml("initiatedCall", new, device_id))


def _held_active(req: etree._Element) -> tuple[str, str, str]:
    held_call, held_device = _conn(req, "heldCall")
    active_call, active_device = _conn(req, "activeCall")
    if held_device != active_device:
        raise InvalidConnection("heldCall and activeCall name different devices")
    return held_call, active_call, held_device


def transfer_call(switch: Switch, req: etree._Element) -> bytes:
    held, active, device_id = _held_active(req)
    to = next((d for d in switch.call(active).connections if d != device_id), None)
    new = switch.transfer_call(held, active, device_id)
    return message("TransferCallResponse", conn_xml("transferredCall", new, to))


def conference_call(switch: Switch, req: etree._Element) -> bytes:
    held, active, device_id = _held_active(req)
    kept = switch.conference_call(held, active, device_id)
    return message("ConferenceCallResponse", conn_xml("conferenceCall", kept, device_id))


def alternate_call(switch: Switch, req: etree._Element) -> bytes:
    held, active, device_id = _held_active(req)
    switch.alternate_call(held, active, device_id)
    return message("AlternateCallResponse")


def reconnect_call(switch: Switch, req: etree._Element) -> bytes:
    held, active, device_id = _held_active(req)
    switch.reconnect_call(held, active, device_id)
    return message("ReconnectCallResponse")


def deflect_call(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "callToBeDiverted")
    switch.deflect_call(call_id, device_id, _device(req, "newDestination"), also=ring_all(req))
    return message("DeflectCallResponse")


def single_step_transfer(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "activeCall")
    to = _device(req, "transferredTo")
    new = switch.single_step_transfer(call_id, device_id, to)
    return message("SingleStepTransferCallResponse", conn_xml("transferredCall", new, to))


def single_step_conference(switch: Switch, req: etree._Element) -> bytes:
    call_id, _ = _conn(req, "activeCall")
    joining = _device(req, "deviceToJoin")
    participation = text(req, "participationType") or "active"
    kept = switch.single_step_conference(call_id, joining, participation)
    return message("SingleStepConferenceCallResponse",
                   conn_xml("conferencedCall", kept, joining))


def generate_digits(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "connectionToSendDigits")
    switch.generate_digits(call_id, device_id, text(req, "charactersToSend") or "")
    return message("GenerateDigitsResponse")


def set_agent_state(switch: Switch, req: etree._Element) -> bytes:
    reason = None
    extensions = child(req, "extensions")
    if extensions is not None:
        reason = descendant_text(extensions, "reason") or descendant_text(extensions, "reasonCode")
    reason = reason or text(req, "reasonCode")
    switch.set_agent_state(
        _device(req, "device"), text(req, "requestedAgentState") or "",
        agent_id=text(req, "agentID"), password=text(req, "password"),
        group=text(req, "group"), reason=reason,
    )
    return message("SetAgentStateResponse")


def get_agent_state(switch: Switch, req: etree._Element) -> bytes:
    agent = switch.agent_state(_device(req, "device"))
    if agent is None:
        entry = "<loggedOnState>false</loggedOnState>" + (
            "<agentInfo><agentInfoItem><agentState>agentNull</agentState>"
            "</agentInfoItem></agentInfo>"
        )
    else:
        entry = (
            element("agentID", agent.agent_id) + "<loggedOnState>true</loggedOnState>"
            + "<agentInfo><agentInfoItem>" + element("agentID", agent.agent_id)
            + element("agentState", AGENT_STATE_NAMES[agent.state])
            + element("reasonCode", agent.reason) + element("acdGroup", agent.group)
            + "</agentInfoItem></agentInfo>"
        )
    return message("GetAgentStateResponse",
                   f"<agentStateList><agentStateEntry>{entry}</agentStateEntry></agentStateList>")


def set_do_not_disturb(switch: Switch, req: etree._Element) -> bytes:
    switch.set_do_not_disturb(_device(req, "device"), _flag(req, "doNotDisturbOn"))
    return message("SetDoNotDisturbResponse")


def get_do_not_disturb(switch: Switch, req: etree._Element) -> bytes:
    on = switch.do_not_disturb(_device(req, "device"))
    return message("GetDoNotDisturbResponse", element("doNotDisturbOn", _bool(on)))


def get_forwarding(switch: Switch, req: etree._Element) -> bytes:
    """Every forwarding type, active or not, so a reader learns of the ones switched off."""
    active = switch.forwarding(_device(req, "device"))
    items = "".join(
        "<forwardListItem>" + element("forwardingType", kind)
        + element("forwardStatus", _bool(kind in active)) + element("forwardDN", active.get(kind))
        + "</forwardListItem>"
        for kind in FORWARDING_TYPES
    )
    return message("GetForwardingResponse", f"<forwardingList>{items}</forwardingList>")


def _bool(value: bool) -> str:
    return "true" if value else "false"


def set_forwarding(switch: Switch, req: etree._Element) -> bytes:
    switch.set_forwarding(
        _device(req, "device"), text(req, "forwardingType") or "",
        device(req, "forwardDN"), _flag(req, "activateForward"),
    )
    return message("SetForwardingResponse")


def play_message(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "overConnection")
    switch.play_message(call_id, device_id, text(req, "messageToBePlayed") or "")
    return message("PlayMessageResponse")


def stop(switch: Switch, req: etree._Element) -> bytes:
    call_id, device_id = _conn(req, "connection")
    switch.stop_message(call_id, device_id, text(req, "messageToBeStopped"))
    return message("StopResponse")


SERVICES: dict[str, Service] = {
    "MakeCall": make_call,
    "AnswerCall": answer_call,
    "ClearConnection": clear_connection,
    "ClearCall": clear_call,
    "HoldCall": hold_call,
    "RetrieveCall": retrieve_call,
    "ConsultationCall": consultation_call,
    "TransferCall": transfer_call,
    "ConferenceCall": conference_call,
    "AlternateCall": alternate_call,
    "ReconnectCall": reconnect_call,
    "DeflectCall": deflect_call,
    "SingleStepTransferCall": single_step_transfer,
    "SingleStepConferenceCall": single_step_conference,
    "GenerateDigits": generate_digits,
    "SetAgentState": set_agent_state,
    "GetAgentState": get_agent_state,
    "SetDoNotDisturb": set_do_not_disturb,
    "GetDoNotDisturb": get_do_not_disturb,
    "SetForwarding": set_forwarding,
    "GetForwarding": get_forwarding,
    "PlayMessage": play_message,
    "Stop": stop,
}
