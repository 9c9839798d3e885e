"""Reading requests and writing responses in the plain ECMA-323 ed4 form of docs/csta-wire.md.

Requests are parsed with a hardened lxml parser (no DTDs, no entity expansion, no network) and
read by local element names, so prefixes and other editions' namespaces are accepted. Outgoing
messages are string templates with escaped text: they are small, their shapes fixed, and the
event path has to render tens of thousands of them per second.
"""

from __future__ import annotations

from lxml import etree

from cti.numbers import normalize_device

CSTA_NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
SESSION_NS = "http://www.ecma-international.org/standards/ecma-354/appl_session"
RING_ALL_NS = "urn:x-cti-middleware:csta:1"
"""Our privateData namespace (docs/csta-wire.md, "Parallel alerting")."""
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_comments=True, remove_pis=True,
)


class Malformed(ValueError):
    """The body is not a well-formed XML document we are willing to read."""


def parse(body: bytes) -> etree._Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise Malformed("DTDs and entity declarations are refused")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise Malformed(str(exc)) from None
    if root is None:
        raise Malformed("empty document")
    return root


def local(element: etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    if element is None:
        return None
    for item in element:
        if local(item) == name:
            return item
    return None


def text(element: etree._Element | None, *path: str) -> str | None:
    """Stripped text at a path of local names below `element`, or None."""
    for name in path:
        element = child(element, name)
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None


def descendant_text(element: etree._Element, name: str) -> str | None:
    for item in element.iter():
        if local(item) == name and item.text and item.text.strip():
            return item.text.strip()
    return None


def device(element: etree._Element | None, name: str) -> str | None:
    """A device field: the number as text, or inside <deviceIdentifier>, normalised."""
    field = child(element, name)
    if field is None:
        return None
    raw = (field.text or "").strip() or text(field, "deviceIdentifier")
    return normalize_device(raw) or raw


def connection(element: etree._Element | None, name: str) -> tuple[str | None, str | None]:
    """(callID, deviceID) of a connection field; either may be None when absent."""
    field = child(element, name)
    raw = text(field, "deviceID")
    return text(field, "callID"), (normalize_device(raw) or raw) if raw else None


def ring_all(request: etree._Element) -> tuple[str, ...]:
    """The further destinations of a DeflectCall / RouteSelect: the deviceIDs of a `ringAll`
    element in our namespace inside extensions/privateData/private. Vendor privateData in
    other namespaces is ignored, as a switch ignores what it does not know."""
    extensions = child(request, "extensions")
    if extensions is None:
        return ()
    found = extensions.find(f".//{{{RING_ALL_NS}}}ringAll")
    if found is None:
        return ()
    numbers = []
    for item in found:
        if local(item) == "deviceID" and item.text and item.text.strip():
            raw = item.text.strip()
            numbers.append(normalize_device(raw) or raw)
    return tuple(numbers)


def esc(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


def message(name: str, inner: str = "", namespace: str = CSTA_NS) -> bytes:
    if not inner:
        return f'{DECLARATION}<{name} xmlns="{namespace}"/>'.encode()
    return f'{DECLARATION}<{name} xmlns="{namespace}">{inner}</{name}>'.encode()


def element(name: str, value: str | None) -> str:
    return "" if value is None else f"<{name}>{esc(value)}</{name}>"


def conn_xml(name: str, call_id: str | None, device_id: str | None) -> str:
    inner = element("callID", call_id) + element("deviceID", device_id)
    return f"<{name}>{inner}</{name}>"


def device_xml(name: str, number: str | None) -> str:
    if number is None:
        return f"<{name}><notKnown/></{name}>"
    return f"<{name}><deviceIdentifier>{esc(number)}</deviceIdentifier></{name}>"


def error_message(category: str, value: str) -> bytes:
    return message("CSTAErrorCode", f"<{category}>{esc(value)}</{category}>")
