"""ECMA-323 XML <-> Python: decoding of events and responses, encoding of requests.

Pure functions, no I/O: the protocol hands in the XML document of one frame and gets back an
Event or the parsed root element; the driver asks for request documents by service name.

Real switches differ in edition (ed2..ed6), namespace spelling (ecma.ch, ecma-international.org,
vendor suffixes such as .../ed3/priv5), prefixes and whitespace, so everything here works on
*local* element names and never on namespaces. Decoding is on the hot path of every event, so
each event's top-level children are visited once and dispatched by tag through a dict to their
role (connection, device, calling, ...); no XPath, no regular expressions, and child lists are
taken as `element[:]`, which lxml builds in one C call (several times cheaper than iterating).

The parser is hardened: no DTDs, no entity expansion, no network, no huge trees. A document
carrying a DOCTYPE is refused outright (CSTA never needs one; entity bombs live there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from lxml import etree

from cti import events as ev
from cti.events import Event, Party
from cti.numbers import normalize_device
from drivers.base import DriverError

CSTA_NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
SESSION_NS = "http://www.ecma-international.org/standards/ecma-354/appl_session"
RING_ALL_NS = "urn:x-cti-middleware:csta:1"
"""Our privateData namespace: parallel alerting (docs/csta-wire.md, "Parallel alerting")."""

# CSTA has no mixed content and no xml:id, so whitespace between elements (pretty-printed
# switches) and the ID table are never read: not building them is the cheapest saving per frame.
_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    remove_comments=True, remove_blank_text=True, collect_ids=False,
)
_PARSER = etree.XMLParser(**_PARSER_OPTIONS)
# Only for documents whose sole fault is an undeclared prefix (ns3:MonitorStart without xmlns:ns3).
_LENIENT_PARSER = etree.XMLParser(**_PARSER_OPTIONS, recover=True)
_fromstring = etree.fromstring


class DecodeError(ValueError):
    """The bytes of a frame are not a CSTA document we can read; the frame is skipped."""


# ---------------------------------------------------------------------------------------------
# Parsing and element helpers

_LOCAL_NAMES: dict[str, str] = {}


def local_name(tag: Any) -> str:
    """``{ns}Name`` / ``prefix:Name`` / ``Name`` -> ``Name`` (cached: tags repeat endlessly)."""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        if not isinstance(tag, str):
            return ""
        name = tag.rpartition("}")[2].rpartition(":")[2]
        if len(_LOCAL_NAMES) < 4096:
            _LOCAL_NAMES[tag] = name
    return name


def without_default_namespace(body: bytes) -> bytes:
    """The document with the default namespace declaration of its root element removed.

    lxml spells every namespaced tag as ``{uri}Name`` and builds that string on each access;
    we read local names only, so the CSTA namespace of the root (which all unprefixed elements
    inherit) carries nothing for us, and dropping it makes the tag of every element cheaper.
    Prefixed vendor namespaces are untouched. Anything unusual is left as it is.
    """
    start = body.find(b"?>") + 2 if body.startswith(b"<?") else 0
    start = body.find(b"<", start)
    end = body.find(b">", start)
    declaration = body.find(b' xmlns="', start, end)
    if declaration < 0:
        return body
    close = body.find(b'"', declaration + 8, end)
    if close < 0:
        return body
    return body[:declaration] + body[close + 1:]


def parse(body: bytes) -> etree._Element:
    """The root element of one frame's XML document; DecodeError if there is none."""
    if b"!" in body and b"<!DOCTYPE" in body:  # one memchr for the usual frame
        raise DecodeError("document type declarations are not accepted")
    body = without_default_namespace(body)
    try:
        return _fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        if "Namespace prefix" not in str(exc):
            raise DecodeError(f"malformed XML: {exc}") from None
    try:
        root = _fromstring(body, _LENIENT_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DecodeError(f"malformed XML: {exc}") from None
    if root is None:
        raise DecodeError("malformed XML: no root element")
    return root


def text_of(element: etree._Element | None) -> str | None:
    """Stripped text, or None for a missing or empty element."""
    if element is None:
        return None
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def children_by_name(element: etree._Element) -> dict[str, etree._Element]:
    """Direct children by local name (the first wins), the one pass over an event."""
    found: dict[str, etree._Element] = {}
    names = _LOCAL_NAMES
    for item in element[:]:
        tag = item.tag
        name = names.get(tag) or local_name(tag)
        if name not in found:
            found[name] = item
    return found


def first(fields: dict[str, etree._Element], *names: str) -> etree._Element | None:
    """The first of `names` present (elements are never truth-tested: empty ones are falsy)."""
    for name in names:
        found = fields.get(name)
        if found is not None:
            return found
    return None


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    for item in element[:]:
        if local_name(item.tag) == name:
            return item
    return None


def descendant(element: etree._Element | None, name: str) -> etree._Element | None:
    """First element below `element` with this local name, at any depth."""
    if element is None:
        return None
    for item in element.iter():
        if item is not element and local_name(item.tag) == name:
            return item
    return None


def descendant_text(element: etree._Element | None, name: str) -> str | None:
    return text_of(descendant(element, name))


def device_of(element: etree._Element | None) -> str | None:
    """The raw identifier of a device field: ``<x><deviceIdentifier>N</deviceIdentifier></x>``.

    Also accepts the number directly as text (``<deviceObject>1001</deviceObject>``) and any
    single wrapper (``<deviceID>``); ``<notKnown/>``, ``<notRequired/>``, ``<restricted/>`` give
    None. Comments are removed by the parser, so the first child is the identifier.
    """
    if element is None:
        return None
    if len(element):
        first = element[0]
        text = first.text
        if text is not None:
            text = text.strip()
            if text:
                return text
        if len(first):
            return device_of(first)
        return None
    text = element.text
    if text is not None:
        text = text.strip()
        if text:
            return text
    return None


def connection_of(element: etree._Element | None) -> tuple[str | None, str | None]:
    """(callID, raw deviceID) of a connection field; call IDs always as strings."""
    if element is None:
        return None, None
    call_id = device = None
    names = _LOCAL_NAMES
    for item in element[:]:
        name = names.get(item.tag)
        if name is None:
            name = local_name(item.tag)
        if name == "callID":
            text = item.text
            if text is not None:
                call_id = text.strip() or None
        elif name == "deviceID":
            text = item.text
            if text is not None and (text := text.strip()):
                device = text
            else:
                device = device_of(item)
        elif name in ("connectionID", "newConnection", "connection") and call_id is None:
            call_id, device = connection_of(item)
    return call_id, device


def call_id_of(element: etree._Element) -> str | None:
    """Only the callID of a connection (old calls of a transfer need no device)."""
    names = _LOCAL_NAMES
    for item in element[:]:
        name = names.get(item.tag)
        if name is None:
            name = local_name(item.tag)
        if name == "callID":
            text = item.text
            return text.strip() or None if text is not None else None
    return connection_of(element)[0]


def element_to_data(element: etree._Element) -> Any:
    """A generic nested form (local names -> text or dicts) for fields we do not model."""
    if not len(element):
        return text_of(element)
    out: dict[str, Any] = {}
    for item in element[:]:
        name = local_name(item.tag)
        if name and name not in out:
            out[name] = element_to_data(item)
    return out


def snake_case(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index and not name[index - 1].isupper():
            out.append("_")
        out.append(char.lower())
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Events

# Element name -> (event name, the field naming `device`, the connection field giving call_id).
_EVENTS: dict[str, tuple[str, str | None, str | None]] = {
    "ServiceInitiatedEvent": (ev.SERVICE_INITIATED, "initiatingDevice", "initiatedConnection"),
    "OriginatedEvent": (ev.ORIGINATED, "callingDevice", "originatedConnection"),
    "DeliveredEvent": (ev.DELIVERED, "alertingDevice", "connection"),
    "EstablishedEvent": (ev.ESTABLISHED, "answeringDevice", "establishedConnection"),
    "HeldEvent": (ev.HELD, "holdingDevice", "heldConnection"),
    "RetrievedEvent": (ev.RETRIEVED, "retrievingDevice", "retrievedConnection"),
    "ConnectionClearedEvent": (ev.CONNECTION_CLEARED, "releasingDevice", "droppedConnection"),
    "CallClearedEvent": (ev.CALL_CLEARED, None, "clearedCall"),
    "TransferedEvent": (ev.TRANSFERRED, "transferringDevice", None),
    "TransferredEvent": (ev.TRANSFERRED, "transferringDevice", None),
    "ConferencedEvent": (ev.CONFERENCED, "conferencingDevice", None),
    "DivertedEvent": (ev.DIVERTED, "divertingDevice", "connection"),
    "FailedEvent": (ev.FAILED, "failingDevice", "failedConnection"),
    "QueuedEvent": (ev.QUEUED, "queue", "queuedConnection"),
    "NetworkReachedEvent": (ev.NETWORK_REACHED, None, "outboundConnection"),
    "DigitsDialedEvent": (ev.DIGITS_DIALED, "dialingDevice", "dialingConnection"),
    "CallInformationEvent": (ev.CALL_INFORMATION, "device", "connection"),
    "AgentLoggedOnEvent": (ev.AGENT_LOGGED_ON, "agentDevice", None),
    "AgentLoggedOffEvent": (ev.AGENT_LOGGED_OFF, "agentDevice", None),
    "AgentReadyEvent": (ev.AGENT_READY, "agentDevice", None),
    "AgentNotReadyEvent": (ev.AGENT_NOT_READY, "agentDevice", None),
    "AgentWorkingAfterCallEvent": (ev.AGENT_WORKING_AFTER_CALL, "agentDevice", None),
    "AgentBusyEvent": (ev.AGENT_BUSY, "agentDevice", None),
    "DoNotDisturbEvent": (ev.DO_NOT_DISTURB, "device", None),
    "ForwardingEvent": (ev.FORWARDING, "device", None),
    "BackInServiceEvent": (ev.BACK_IN_SERVICE, "device", None),
    "OutOfServiceEvent": (ev.OUT_OF_SERVICE, "device", None),
    "RouteEnd": (ev.ROUTE_END, None, None),
    "RouteEndRequest": (ev.ROUTE_END, None, None),
    "RouteRequest": (ev.ROUTE_REQUEST, "currentRoute", "routedCall"),
    "PlayEvent": (ev.PLAY, None, "connection"),
    "StopEvent": (ev.STOP, None, "connection"),
}
_STATES = frozenset(ev.CONNECTION_STATES)
# Extra fields copied into Event.data under snake_case keys, as text or nested dicts.
_DATA_FIELDS = {
    "correlatorData": "correlator_data",
    "userData": "user_data",
    "callLinkageData": "call_linkage",
    "accountInfo": "account_info",
    "agentMode": "agent_mode",
    "pendingAgentState": "pending_agent_state",
    "doNotDisturbOn": "do_not_disturb",
    "forwardingType": "forwarding_type",
    "forwardStatus": "forward_status",
    "numberQueued": "number_queued",
    "routeRegisterReqID": "route_register_id",
    "routeUsed": "route_used",
    "errorValue": "error",
    "message": "message",
    "length": "length",
}
_DEVICE_DATA_FIELDS = {
    "transferredToDevice": "transferred_to",
    "addedParty": "added_party",
    "newDestination": "new_destination",
    "forwardTo": "forward_to",
    "networkInterfaceUsed": "network_interface",
    "associatedCallingDevice": "associated_calling",
    "associatedCalledDevice": "associated_called",
}


def event_name(element_name: str) -> str:
    """The normalised name of an event element, known or not (never fails)."""
    known = _EVENTS.get(element_name)
    if known is not None:
        return known[0]
    base = element_name[:-5] if element_name.endswith("Event") else element_name
    return snake_case(base) or ev.CALL_INFORMATION


def is_event(element_name: str) -> bool:
    return element_name.endswith("Event") or element_name in _EVENTS


# What a top-level child of an event means, by local name. Every event shares these; each
# event adds its own connection field (-> call_id) and device field (-> device).
_CONNECTION, _DEVICE, _CALLING, _CALLED, _NET_CALLING, _NET_CALLED, _LAST_REDIRECTION = range(7)
_XREF, _CAUSE, _STATE, _PRIVATE, _AGENT_ID, _REASON, _DIGITS, _ROUTE_XREF = range(7, 15)
_DATA_TEXT, _DATA_DEVICE, _OLD_CALL, _NEW_CONNECTIONS, _ALT_DEVICE = range(15, 20)

_COMMON_ROLES: dict[str, int] = {
    "monitorCrossRefID": _XREF,
    "callingDevice": _CALLING,
    "calledDevice": _CALLED,
    "localConnectionInfo": _STATE,
    "cause": _CAUSE,
    "lastRedirectionDevice": _LAST_REDIRECTION,
    "networkCallingDevice": _NET_CALLING,
    "networkCalledDevice": _NET_CALLED,
    "extensions": _PRIVATE,
    "privateData": _PRIVATE,
    "agentID": _AGENT_ID,
    "reasonCode": _REASON,
    "reason": _REASON,
    "dialingSequence": _DIGITS,
    "dialledDigits": _DIGITS,
    "crossRefIdentifier": _ROUTE_XREF,
    "routingCrossRefID": _ROUTE_XREF,
    "primaryOldCall": _OLD_CALL,
    "secondaryOldCall": _OLD_CALL,
    "transferredConnections": _NEW_CONNECTIONS,
    "conferenceConnections": _NEW_CONNECTIONS,
    "connectionList": _NEW_CONNECTIONS,
    **dict.fromkeys(_DATA_FIELDS, _DATA_TEXT),
    **dict.fromkeys(_DEVICE_DATA_FIELDS, _DATA_DEVICE),
}


def _roles(device_field: str | None, connection_field: str | None) -> dict[str, int]:
    roles = dict(_COMMON_ROLES)
    if connection_field is not None:
        roles[connection_field] = _CONNECTION
    if device_field is not None and device_field != "callingDevice":
        roles[device_field] = _DEVICE
    return roles


_ROLES: dict[str, dict[str, int]] = {
    element: _roles(device_field, connection_field)
    for element, (_, device_field, connection_field) in _EVENTS.items()
}
_ROLES["DigitsDialedEvent"]["diallingDevice"] = _ALT_DEVICE
_UNKNOWN_ROLES = _roles("device", "connection") | {"eventConnection": _CONNECTION}
_SKIP = -1
_DECODERS: dict[str, tuple[str, dict[str, int], dict[Any, int]]] = {}
"""Event element name -> (event name, roles by local name, roles by full tag). The last is
filled as tags are met, so each child costs one dict lookup whatever its namespace."""


def _decoder(name: str) -> tuple[str, dict[str, int], dict[Any, int]]:
    known = _EVENTS.get(name)
    if known is None:
        entry = (event_name(name), _UNKNOWN_ROLES, {})
    else:
        entry = (known[0], _ROLES[name], {})
    if len(_DECODERS) < 512:
        _DECODERS[name] = entry
    return entry


def decode_event(
    root: etree._Element, now: float, name: str | None = None, body: bytes | None = None
) -> Event:
    """One event element as a normalised Event (unknown events keep their own snake_case name).

    One pass over the top-level children, each dispatched by local name to its role. `monitor`
    is left for the caller, which alone knows which device a monitorCrossRefID belongs to; the
    cross-ref itself goes in `cross_ref` (the routing cross-ref for route events).
    """
    if name is None:
        name = local_name(root.tag)
    kind, roles, tag_roles = _DECODERS.get(name) or _decoder(name)
    event = Event(kind, now)
    raw = conn_device = alt_device = private = new_connections = data = None
    old_calls: list[str] = []

    for item in root[:]:
        tag = item.tag
        role = tag_roles.get(tag)
        if role is None:
            role = roles.get(local_name(tag), _SKIP)
            if len(tag_roles) < 512:
                tag_roles[tag] = role
        if role == _SKIP:
            continue
        if role == _XREF:
            value = item.text
            event.cross_ref = value.strip() if value is not None else None
        elif role == _CONNECTION:
            event.call_id, conn_device = connection_of(item)
        elif role == _DEVICE:
            raw = device_of(item)
        elif role == _CALLING:
            event.raw_calling = value = device_of(item)
            event.calling = normalize_device(value)
        elif role == _CALLED:
            event.raw_called = value = device_of(item)
            event.called = normalize_device(value)
        elif role == _STATE:
            value = item.text
            if value is not None:
                value = value.strip()
                if value in _STATES:
                    event.state = value
        elif role == _CAUSE:
            value = item.text
            event.cause = value.strip() if value is not None else None
        elif role == _LAST_REDIRECTION:
            value = device_of(item)
            if value is not None:
                event.last_redirection = normalize_device(value)
        elif role == _NET_CALLING:
            event.network_calling = normalize_device(device_of(item))
        elif role == _NET_CALLED:
            event.network_called = normalize_device(device_of(item))
        elif role == _PRIVATE:
            private = item
        elif role == _AGENT_ID:
            event.agent_id = text_of(item)
        elif role == _REASON:
            event.reason = text_of(item)
        elif role == _DIGITS:
            event.digits = text_of(item)
        elif role == _ROUTE_XREF:
            event.cross_ref = text_of(item)
        elif role == _OLD_CALL:
            call_id = call_id_of(item)
            if call_id is not None and call_id not in old_calls:
                old_calls.append(call_id)
        elif role == _NEW_CONNECTIONS:
            new_connections = item
        elif role == _ALT_DEVICE:
            alt_device = device_of(item)
        else:
            local = local_name(tag)
            if role == _DATA_TEXT:
                value = element_to_data(item)
                key = _DATA_FIELDS[local]
            else:
                value = normalize_device(device_of(item))
                key = _DEVICE_DATA_FIELDS[local]
            if value is not None:
                if data is None:
                    data = {}
                data[key] = value

    if kind != ev.CALL_CLEARED:
        if raw is None:
            if kind == ev.ORIGINATED:
                raw = event.raw_calling
            if raw is None:
                raw = alt_device if alt_device is not None else conn_device
        event.raw_device = raw
        event.device = normalize_device(raw)
    if kind in (ev.TRANSFERRED, ev.CONFERENCED):
        _decode_call_change(event, old_calls, new_connections)
    if data is not None:
        correlator = data.get("correlator_data")
        if isinstance(correlator, dict) and "string" in correlator:
            correlator["string"] = "".join((correlator["string"] or "").split())
        event.data = data
    if private is not None:
        event.private = _verbatim(body, private)
        if event.reason is None and kind == ev.AGENT_NOT_READY:
            event.reason = descendant_text(private, "reasonCode") or descendant_text(
                private, "reason"
            )
    return event


def _verbatim(body: bytes | None, element: etree._Element) -> str:
    """The vendor extension exactly as the switch sent it.

    `extensions` is the last child of every ECMA-323 event, so its closing tag sits in the last
    bytes of the document and its opening tag is the nearest one before that: slicing those
    bytes out is both more faithful and cheaper than re-serialising the subtree. Anything
    unusual (another element name, a self-closing tag, no body) is serialised by lxml instead.
    """
    if body is not None and local_name(element.tag) == "extensions":
        end = body.rfind(b"extensions>", max(0, len(body) - 96))
        if end < 0:
            end = body.rfind(b"extensions>")
        if end > 0:
            start = body.rfind(b"<extensions", 0, end)
            if start < 0:
                colon = body.rfind(b":extensions", 0, end - 2)
                start = body.rfind(b"<", 0, colon) if colon > 0 else -1
            if start >= 0:
                return body[start:end + 11].decode("utf-8", "replace")
    return etree.tostring(element, encoding="unicode", with_tail=False)


def _decode_call_change(
    event: Event, old_calls: list[str], connections: etree._Element | None
) -> None:
    """Transfer / conference: the resulting call from the new connections, the old ones gone."""
    parties = []
    resulting = None
    if connections is not None:
        for new in connections.iter("{*}newConnection"):
            call_id, raw = connection_of(new)
            if call_id is None:
                continue
            if raw is None:
                raw = device_of(child(new.getparent(), "endpoint"))
            if resulting is None:
                resulting = call_id
            parties.append(_party(call_id, raw))
    if resulting is None and event.event == ev.CONFERENCED and old_calls:
        resulting = old_calls[-1]
    event.call_id = resulting
    event.old_call_ids = tuple([call for call in old_calls if call != resulting])
    event.parties = tuple(parties)


_PARTIES: dict[tuple[str, str | None], Party] = {}


def _party(call_id: str, raw: str | None) -> Party:
    """A (call, device) party; shared, since Party is immutable and each transfer or conference
    arrives once per monitor involved, with the same connections."""
    key = (call_id, raw)
    party = _PARTIES.get(key)
    if party is None:
        if len(_PARTIES) >= 1024:
            _PARTIES.clear()
        party = _PARTIES[key] = Party(call_id, normalize_device(raw), None, raw)
    return party


def attribute_local_state(event: Event) -> None:
    """Keep localConnectionInfo only where it says something about the event's parties.

    ECMA-323's localConnectionInfo is the state of the MONITORED device's connection, sent on
    every event of its monitor, including events about another device (a NetworkReached or
    Delivered for the far end carries the caller's own "connected"). Event.state is the state
    of `device`, so it keeps the value only when `device` is the monitored device; on a
    transfer or conference, whose parties ECMA lists without states, it becomes the state of
    the monitored device's own party instead. Called once `monitor` is known (the driver maps
    the cross-ref); with no monitor the state cannot be attributed and is dropped.
    """
    state = event.state
    if state is None:
        return
    monitor = event.monitor
    if event.device != monitor or monitor is None:
        event.state = None
    if monitor is not None and event.parties and event.event in (ev.TRANSFERRED, ev.CONFERENCED):
        event.parties = tuple(
            Party(p.call_id, p.device, state, p.raw_device)
            if p.device == monitor and p.state is None else p
            for p in event.parties
        )


def decode_event_bytes(body: bytes, now: float) -> Event:
    """Parse and decode in one step (the benchmark's unit and a convenience for tests)."""
    root = parse(body)
    return decode_event(root, now, None, body)


# ---------------------------------------------------------------------------------------------
# Responses and errors

_ERROR_NAMES = frozenset({"CSTAErrorCode", "UniversalFailure", "ErrorValue"})


def is_error(name: str) -> bool:
    return name in _ERROR_NAMES or name.endswith("NegResponse")


def error_of(service: str, root: etree._Element) -> DriverError:
    """A CSTAErrorCode / NegResponse as a DriverError like ``HoldCall: operation/invalidCallID``."""
    name = local_name(root.tag)
    if name.endswith("NegResponse"):
        code = descendant_text(root, "definedError") or descendant_text(root, "errorCode")
        code = code or "unspecified"
        return DriverError(service, f"{name} {code}", code)
    category = value = None
    for item in root.iter():
        if item is root or len(item):
            continue
        category = local_name(item.tag)
        value = text_of(item) or category
        break
    if category is None:
        return DriverError(service, f"{name} without detail", "unspecified")
    return DriverError(service, f"{category}/{value}", value)


def snapshot_parties(root: etree._Element) -> tuple[Party, ...]:
    """The connections of a SnapshotDevice / SnapshotCall response, with their states."""
    parties = []
    for item in root.iter():
        name = local_name(item.tag)
        if name not in ("snapshotDeviceResponseInfo", "snapshotCallResponseInfo"):
            continue
        parts = children_by_name(item)
        connection = first(parts, "connectionIdentifier", "callIdentifier")
        call_id, raw = connection_of(connection)
        if name == "snapshotCallResponseInfo":
            raw = device_of(parts.get("deviceOnCall")) or raw
        state = None
        for field_name in ("localConnectionState", "localCallState", "compoundCallState"):
            found = parts.get(field_name)
            if found is not None:
                state = text_of(found) or device_of(found)
                break
        if call_id is None:
            continue
        parties.append(
            Party(call_id, normalize_device(raw), state if state in _STATES else None, raw)
        )
    return tuple(parties)


def agent_states(root: etree._Element) -> dict[str, Any]:
    """GetAgentStateResponse as ``{"state": first agent's state, "agents": [...]}``."""
    agents = []
    for item in root.iter():
        if local_name(item.tag) != "agentStateEntry":
            continue
        logged_on = descendant_text(item, "loggedOnState")
        agents.append(
            {
                "agent_id": descendant_text(item, "agentID"),
                "logged_on": logged_on == "true" if logged_on is not None else None,
                "state": descendant_text(item, "agentState"),
                "reason": descendant_text(item, "reasonCode"),
            }
        )
    if not agents:
        state = descendant_text(root, "agentState")
        if state is not None:
            agents.append({"agent_id": descendant_text(root, "agentID"), "logged_on": None,
                           "state": state, "reason": descendant_text(root, "reasonCode")})
    return {"state": agents[0]["state"] if agents else None, "agents": agents}


def do_not_disturb_on(root: etree._Element) -> bool:
    """GetDoNotDisturbResponse's doNotDisturbOn."""
    value = descendant_text(root, "doNotDisturbOn")
    if value not in ("true", "false"):
        raise ValueError(f"doNotDisturbOn is {value!r}, not true or false")
    return value == "true"


def forwarding_list(root: etree._Element) -> list[dict[str, str | None]]:
    """GetForwardingResponse's forwardListItems, keyed as a ForwardingEvent's Event.data."""
    items = []
    for item in root.iter():
        if local_name(item.tag) != "forwardListItem":
            continue
        forward_to = descendant(item, "forwardDN")
        items.append({
            "forwarding_type": descendant_text(item, "forwardingType"),
            "forward_status": descendant_text(item, "forwardStatus"),
            "forward_to": normalize_device(device_of(forward_to)),
        })
    return items


# ---------------------------------------------------------------------------------------------
# Requests

Child = tuple[str, "str | Sequence[Child] | None"]


def build(name: str, children: Iterable[Child], namespace: str | None = CSTA_NS) -> bytes:
    """A CSTA document: root `name` in `namespace` (default namespace, unprefixed children).

    Children are (tag, text) or (tag, [children...]); None values are left out, so optional
    fields need no special casing by callers.
    """
    nsmap = {None: namespace} if namespace else None
    qualify = (lambda tag: f"{{{namespace}}}{tag}") if namespace else (lambda tag: tag)
    root = etree.Element(qualify(name), nsmap=nsmap)
    _add_children(root, children, qualify)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _add_children(
    parent: etree._Element, children: Iterable[Child], qualify: Callable[[str], str]
) -> None:
    """A tag in Clark notation (``{namespace}tag``) starts a subtree in that namespace (its
    default namespace, children unprefixed): vendor or private data inside a CSTA request."""
    for tag, value in children:
        if value is None:
            continue
        inner = qualify
        if tag.startswith("{"):
            namespace = tag[1:tag.index("}")]
            element = etree.SubElement(parent, tag, nsmap={None: namespace})

            def inner(name: str, namespace: str = namespace) -> str:
                return f"{{{namespace}}}{name}"
        else:
            element = etree.SubElement(parent, qualify(tag))
        if isinstance(value, str):
            element.text = value
        else:
            _add_children(element, value, inner)


def connection(tag: str, call_id: str, device: str | None = None) -> Child:
    return (tag, [("callID", call_id), ("deviceID", device)])


def ring_all(devices: Sequence[str]) -> Child:
    """The privateData naming further destinations to alert with a DeflectCall / RouteSelect
    (left out when there are none)."""
    if not devices:
        return ("extensions", None)
    listed: list[Child] = [("deviceID", device) for device in devices]
    return ("extensions", [("privateData", [("private", [(f"{{{RING_ALL_NS}}}ringAll", listed)])])])


def ring_all_devices(root: etree._Element) -> tuple[str, ...]:
    """The further destinations a request names in our privateData (none: ``()``); privateData
    of any other namespace is not ours and is ignored."""
    found = root.find(f".//{{{RING_ALL_NS}}}ringAll")
    if found is None:
        return ()
    numbers = []
    for item in found:
        raw = text_of(item) if local_name(item.tag) == "deviceID" else None
        if raw:
            numbers.append(normalize_device(raw) or raw)
    return tuple(numbers)


def boolean(value: bool) -> str:
    return "true" if value else "false"


AGENT_STATES = {
    "logged_on": "loggedOn", "loggedOn": "loggedOn", "login": "loggedOn",
    "logged_off": "loggedOff", "loggedOff": "loggedOff", "logout": "loggedOff",
    "not_ready": "notReady", "notReady": "notReady",
    "ready": "ready",
    "working_after_call": "workingAfterCall", "workingAfterCall": "workingAfterCall",
    "wrapup": "workingAfterCall",
}
FORWARDING_TYPES = {
    "immediate": "forwardImmediate", "forwardImmediate": "forwardImmediate",
    "busy": "forwardBusy", "forwardBusy": "forwardBusy",
    "no_answer": "forwardNoAns", "noAnswer": "forwardNoAns", "forwardNoAns": "forwardNoAns",
}
PARTICIPATION_TYPES = {
    "active": "active", "barge": "active", "silent": "silent", "listen": "silent",
    "whisper": "whisper",
}


def start_application_session(
    application_id: str, duration: int, resume_session: str | None = None
) -> bytes:
    return build(
        "StartApplicationSession",
        [
            ("applicationInfo", [("applicationID", application_id)]),
            ("requestedProtocolVersions", [("protocolVersion", CSTA_NS)]),
            ("requestedSessionDuration", str(duration)),
            ("sessionID", resume_session),
        ],
        SESSION_NS,
    )


def reset_session_timer(session_id: str, duration: int) -> bytes:
    return build(
        "ResetApplicationSessionTimer",
        [("sessionID", session_id), ("requestedSessionDuration", str(duration))],
        SESSION_NS,
    )


def stop_application_session(session_id: str) -> bytes:
    return build(
        "StopApplicationSession",
        [("sessionID", session_id), ("sessionEndReason", [("definedEndReason", "normal")])],
        SESSION_NS,
    )


def system_status() -> bytes:
    return build("SystemStatus", [("systemStatus", "normal")])


def system_status_response() -> bytes:
    return build("SystemStatusResponse", [])


def system_register() -> bytes:
    return build("SystemRegister", [("requestTypes", [("systemStatus", "true")])])
