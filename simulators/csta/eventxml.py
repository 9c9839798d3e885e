"""Switch events as ECMA-323 event documents.

An event goes to every monitor of every device it concerns, each copy with its own
monitorCrossRefID and localConnectionInfo. `render` therefore builds the parts that are the same
for all copies once, and `assemble` splices in the per-monitor values.
"""

from __future__ import annotations

from collections.abc import Callable

from simulators.csta.xmlcodec import CSTA_NS, DECLARATION, conn_xml, device_xml, element
from simulators.pbx import events as ev
from simulators.pbx.events import SwitchEvent

Rendered = tuple[str, str, str | None]
"""(element name, fields before localConnectionInfo, fields after it or None for no LCI)."""


def _calling_called(e: SwitchEvent) -> str:
    return device_xml("callingDevice", e.calling) + device_xml("calledDevice", e.called)


def _last_redirection(e: SwitchEvent) -> str:
    if e.last_redirection is None:
        return "<lastRedirectionDevice><notRequired/></lastRedirectionDevice>"
    return device_xml("lastRedirectionDevice", e.last_redirection)


def _cause(e: SwitchEvent) -> str:
    return element("cause", e.cause)


def _service_initiated(e: SwitchEvent) -> Rendered:
    return ("ServiceInitiatedEvent",
            conn_xml("initiatedConnection", e.call_id, e.device)
            + device_xml("initiatingDevice", e.device), _cause(e))


def _originated(e: SwitchEvent) -> Rendered:
    return ("OriginatedEvent",
            conn_xml("originatedConnection", e.call_id, e.device) + _calling_called(e),
            _cause(e))


def _delivered(e: SwitchEvent) -> Rendered:
    return ("DeliveredEvent",
            conn_xml("connection", e.call_id, e.device) + device_xml("alertingDevice", e.device)
            + _calling_called(e) + _last_redirection(e), _cause(e))


def _established(e: SwitchEvent) -> Rendered:
    return ("EstablishedEvent",
            conn_xml("establishedConnection", e.call_id, e.device)
            + device_xml("answeringDevice", e.device) + _calling_called(e)
            + _last_redirection(e), _cause(e))


def _held(e: SwitchEvent) -> Rendered:
    return ("HeldEvent", conn_xml("heldConnection", e.call_id, e.device)
            + device_xml("holdingDevice", e.device), _cause(e))


def _retrieved(e: SwitchEvent) -> Rendered:
    return ("RetrievedEvent", conn_xml("retrievedConnection", e.call_id, e.device)
            + device_xml("retrievingDevice", e.device), _cause(e))


def _connection_cleared(e: SwitchEvent) -> Rendered:
    return ("ConnectionClearedEvent", conn_xml("droppedConnection", e.call_id, e.device)
            + device_xml("releasingDevice", e.device), _cause(e))


def _call_cleared(e: SwitchEvent) -> Rendered:
    return ("CallClearedEvent", f"<clearedCall>{element('callID', e.call_id)}</clearedCall>"
            + _cause(e), None)


def _connection_list(e: SwitchEvent) -> str:
    items = []
    for device, new_call, old_call in e.details["connections"]:
        old = conn_xml("oldConnection", old_call, device) if old_call else ""
        items.append(
            "<connectionListItem>" + conn_xml("newConnection", new_call, device) + old
            + device_xml("endpoint", device) + "</connectionListItem>"
        )
    return "".join(items)


def _old_calls(e: SwitchEvent) -> str:
    d = e.details
    secondary = d["secondary_old_call"]
    return conn_xml("primaryOldCall", d["primary_old_call"], e.device) + (
        conn_xml("secondaryOldCall", secondary, e.device) if secondary else ""
    )


def _transferred(e: SwitchEvent) -> Rendered:
    return ("TransferedEvent",
            _old_calls(e) + device_xml("transferringDevice", e.device)
            + device_xml("transferredToDevice", e.details["to_device"])
            + f"<transferredConnections>{_connection_list(e)}</transferredConnections>",
            _cause(e))


def _conferenced(e: SwitchEvent) -> Rendered:
    return ("ConferencedEvent",
            _old_calls(e) + device_xml("conferencingDevice", e.device)
            + device_xml("addedParty", e.details["to_device"])
            + f"<conferenceConnections>{_connection_list(e)}</conferenceConnections>",
            _cause(e))


def _diverted(e: SwitchEvent) -> Rendered:
    return ("DivertedEvent",
            conn_xml("connection", e.call_id, e.device) + device_xml("divertingDevice", e.device)
            + device_xml("newDestination", e.details["new_destination"]) + _calling_called(e)
            + _last_redirection(e), _cause(e))


def _failed(e: SwitchEvent) -> Rendered:
    return ("FailedEvent", conn_xml("failedConnection", e.call_id, e.device)
            + device_xml("failingDevice", e.device) + _calling_called(e), _cause(e))


def _queued(e: SwitchEvent) -> Rendered:
    return ("QueuedEvent", conn_xml("queuedConnection", e.call_id, e.device)
            + device_xml("queue", e.device) + _calling_called(e)
            + element("numberQueued", str(e.details["queue_count"])), _cause(e))


def _network_reached(e: SwitchEvent) -> Rendered:
    trunk = e.details.get("trunk")
    used = device_xml("networkInterfaceUsed", trunk) if trunk else ""
    return ("NetworkReachedEvent", conn_xml("outboundConnection", e.call_id, e.device) + used
            + _calling_called(e), _cause(e))


def _digits_dialed(e: SwitchEvent) -> Rendered:
    return ("DigitsDialedEvent", conn_xml("dialingConnection", e.call_id, e.device)
            + device_xml("dialingDevice", e.device)
            + element("dialingSequence", e.details["digits"]), _cause(e))


def _agent(name: str) -> Callable[[SwitchEvent], Rendered]:
    def render(e: SwitchEvent) -> Rendered:
        d = e.details
        inner = device_xml("agentDevice", e.device) + element("agentID", d["agent_id"])
        if d.get("group"):
            inner += element("acdGroup", d["group"])
        if name == "AgentNotReadyEvent" and d.get("reason"):
            inner += element("reasonCode", d["reason"])
        return name, inner, None
    return render


def _do_not_disturb(e: SwitchEvent) -> Rendered:
    return ("DoNotDisturbEvent", device_xml("device", e.device)
            + element("doNotDisturbOn", "true" if e.details["on"] else "false"), None)


def _forwarding(e: SwitchEvent) -> Rendered:
    d = e.details
    to = device_xml("forwardTo", d["to"]) if d["to"] else ""
    return ("ForwardingEvent", device_xml("device", e.device)
            + element("forwardingType", d["type"])
            + element("forwardStatus", "true" if d["on"] else "false") + to, None)


def _voice_unit(name: str) -> Callable[[SwitchEvent], Rendered]:
    """PlayEvent / StopEvent: the connection the message plays over and its ID; a Play of a
    message with an end also carries its length (ECMA-269 says milliseconds)."""

    def render(e: SwitchEvent) -> Rendered:
        length = e.details.get("length")
        return (name, conn_xml("connection", e.call_id, e.device)
                + element("message", e.details["message"])
                + (element("length", str(round(length * 1000))) if length is not None else ""),
                None)
    return render


def _device_only(name: str) -> Callable[[SwitchEvent], Rendered]:
    return lambda e: (name, device_xml("device", e.device), None)


RENDERERS: dict[str, Callable[[SwitchEvent], Rendered]] = {
    ev.SERVICE_INITIATED: _service_initiated,
    ev.ORIGINATED: _originated,
    ev.DELIVERED: _delivered,
    ev.ESTABLISHED: _established,
    ev.HELD: _held,
    ev.RETRIEVED: _retrieved,
    ev.CONNECTION_CLEARED: _connection_cleared,
    ev.CALL_CLEARED: _call_cleared,
    ev.TRANSFERRED: _transferred,
    ev.CONFERENCED: _conferenced,
    ev.DIVERTED: _diverted,
    ev.FAILED: _failed,
    ev.QUEUED: _queued,
    ev.NETWORK_REACHED: _network_reached,
    ev.DIGITS_DIALED: _digits_dialed,
    ev.AGENT_LOGGED_ON: _agent("AgentLoggedOnEvent"),
    ev.AGENT_LOGGED_OFF: _agent("AgentLoggedOffEvent"),
    ev.AGENT_READY: _agent("AgentReadyEvent"),
    ev.AGENT_NOT_READY: _agent("AgentNotReadyEvent"),
    ev.AGENT_WORKING_AFTER_CALL: _agent("AgentWorkingAfterCallEvent"),
    ev.AGENT_BUSY: _agent("AgentBusyEvent"),
    ev.DO_NOT_DISTURB: _do_not_disturb,
    ev.FORWARDING: _forwarding,
    ev.BACK_IN_SERVICE: _device_only("BackInServiceEvent"),
    ev.OUT_OF_SERVICE: _device_only("OutOfServiceEvent"),
    ev.PLAY: _voice_unit("PlayEvent"),
    ev.STOP: _voice_unit("StopEvent"),
}


def render(event: SwitchEvent) -> Rendered | None:
    """The shared parts of an event's document, or None for kinds CSTA does not report."""
    renderer = RENDERERS.get(event.kind)
    return renderer(event) if renderer is not None else None


def assemble(rendered: Rendered, xref: str, state: str) -> bytes:
    """One monitor's copy: its cross-reference and its device's local connection state."""
    name, before, after = rendered
    lci = "" if after is None else f"<localConnectionInfo>{state}</localConnectionInfo>{after}"
    return (
        f'{DECLARATION}<{name} xmlns="{CSTA_NS}"><monitorCrossRefID>{xref}</monitorCrossRefID>'
        f"{before}{lci}</{name}>"
    ).encode()
