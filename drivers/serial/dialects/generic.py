"""The generic dialect: the message text documented in docs/serial-link-protocol.md.

``<kind><code>[;<key>=<value>]...`` with kind E (event), Q (request), P (positive response),
N (negative response); three-letter codes; one-letter keys. Values are printable ASCII
without ``;``. Parsing is one split per separator and dictionary lookups: no regular
expressions, no state.
"""

from __future__ import annotations

from cti import events as ev
from drivers.serial.dialects.message import EVENT, REQUEST, RESPONSE, DialectError, Message

EVENT_CODES: dict[str, str] = {
    "ORG": ev.ORIGINATED,
    "OFR": ev.QUEUED,
    "RNG": ev.DELIVERED,
    "ANS": ev.ESTABLISHED,
    "HLD": ev.HELD,
    "RET": ev.RETRIEVED,
    "XFR": ev.TRANSFERRED,
    "CNF": ev.CONFERENCED,
    "DIV": ev.DIVERTED,
    "REL": ev.CONNECTION_CLEARED,
    "END": ev.CALL_CLEARED,
    "FAL": ev.FAILED,
    "ALI": ev.AGENT_LOGGED_ON,
    "ALO": ev.AGENT_LOGGED_OFF,
    "ARD": ev.AGENT_READY,
    "ANR": ev.AGENT_NOT_READY,
    "AWK": ev.AGENT_WORKING_AFTER_CALL,
}
REQUEST_CODES: dict[str, str] = {
    "MON": "monitor_start",
    "MOF": "monitor_stop",
    "MAK": "make_call",
    "ANS": "answer_call",
    "REL": "clear_connection",
    "CLR": "clear_call",
    "HLD": "hold_call",
    "RET": "retrieve_call",
    "CON": "consultation_call",
    "XFR": "transfer_call",
    "CNF": "conference_call",
    "DFL": "deflect_call",
    "AGT": "set_agent_state",
    "SNP": "snapshot_device",
    "SNC": "snapshot_call",
}
FIELD_KEYS: dict[str, str] = {
    "C": "call_id",
    "D": "device",
    "A": "calling",
    "B": "called",
    "O": "old_call_ids",
    "H": "held_call",
    "T": "to",
    "G": "agent_id",
    "S": "state",
    "R": "reason",
    "X": "cause",
    "E": "error",
    "P": "parties",
}
AGENT_STATES: dict[str, str] = {
    "LI": "logged_on", "LO": "logged_off", "RD": "ready", "NR": "not_ready",
    "WK": "working_after_call",
}

_EVENT_NAMES = {name: code for code, name in EVENT_CODES.items()}
_REQUEST_NAMES = {name: code for code, name in REQUEST_CODES.items()}
_KEYS = {name: key for key, name in FIELD_KEYS.items()}
_STATE_CODES = {name: code for code, name in AGENT_STATES.items()}
_KINDS = {"E": EVENT, "Q": REQUEST, "P": RESPONSE, "N": RESPONSE}


class GenericDialect:
    name = "generic"
    services = frozenset(REQUEST_CODES.values())

    def parse(self, text: str) -> Message:
        head, *pairs = text.split(";")
        if len(head) != 4 or head[0] not in _KINDS:
            raise DialectError(f"not a generic-dialect message: {text[:40]!r}")
        kind, code = _KINDS[head[0]], head[1:]
        table = EVENT_CODES if kind == EVENT else REQUEST_CODES
        if code not in table:
            raise DialectError(f"unknown {kind} code {code!r}")
        message = Message(kind, table[code], ok=head[0] != "N")
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise DialectError(f"field without '=' in {text[:40]!r}: {pair!r}")
            if key == "I":
                message.invoke_id = value
            elif key in FIELD_KEYS:
                if key == "S":
                    value = AGENT_STATES.get(value, value)
                if value:
                    message.fields[FIELD_KEYS[key]] = value
            # Unknown keys are a later revision's additions: ignored, never fatal.
        if kind != EVENT and not message.invoke_id:
            raise DialectError(f"{kind} without invoke id: {text[:40]!r}")
        return message

    def format(self, message: Message) -> str:
        if message.kind == EVENT:
            head = "E" + _code(_EVENT_NAMES, message.name)
        elif message.kind == REQUEST:
            head = "Q" + _code(_REQUEST_NAMES, message.name)
        elif message.kind == RESPONSE:
            head = ("P" if message.ok else "N") + _code(_REQUEST_NAMES, message.name)
        else:
            raise DialectError(f"unknown message kind {message.kind!r}")
        parts = [head]
        if message.invoke_id is not None:
            parts.append("I=" + message.invoke_id)
        for name, value in message.fields.items():
            if name not in _KEYS:
                raise DialectError(f"field {name!r} has no key in the generic dialect")
            if ";" in value:
                raise DialectError(f"field {name} may not contain ';': {value!r}")
            if name == "state":
                value = _STATE_CODES.get(value, value)
            parts.append(f"{_KEYS[name]}={value}")
        return ";".join(parts)


def _code(table: dict[str, str], name: str) -> str:
    try:
        return table[name]
    except KeyError:
        raise DialectError(f"{name!r} cannot be said in the generic dialect") from None
