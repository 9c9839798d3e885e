"""Dialects of the serial CTI link: message text <-> neutral messages.

The link layer carries text; a dialect says what the text means. Every dialect turns its
vendor's text into the same neutral `Message` (and back), so the driver, the simulator and the
tests never look at a vendor's spelling. A second vendor's variant is one module here with a
class offering `name`, `services` (the request names it can carry), `parse(text) -> Message`
and `format(message) -> str`, plus one line in DIALECTS.

Neutral names: events use the cti.events names (``delivered``, ``transferred``, ...); requests
use the drivers.base.Driver method names (``make_call``, ``transfer_call``, ...); responses
carry the request's name. Neutral field keys: call_id, device, calling, called, old_call_ids
(comma-separated), held_call, to, agent_id, state, reason, cause, error, parties (snapshot
results: comma-separated ``call_or_device:connection_state``); requests a dialect
may add later also pass on ("1"/"0"), kind, mode, digits, password, group, cross_ref.
"""

from __future__ import annotations

from typing import Protocol

from drivers.serial.dialects.generic import GenericDialect
from drivers.serial.dialects.message import EVENT, REQUEST, RESPONSE, DialectError, Message

__all__ = [
    "DIALECTS", "EVENT", "REQUEST", "RESPONSE", "Dialect", "DialectError", "Message",
    "get_dialect",
]


class Dialect(Protocol):
    name: str
    services: frozenset[str]

    def parse(self, text: str) -> Message: ...
    def format(self, message: Message) -> str: ...


DIALECTS: dict[str, type] = {GenericDialect.name: GenericDialect}


def get_dialect(name: str) -> Dialect:
    """The dialect called `name`; ValueError naming the known ones otherwise."""
    if name not in DIALECTS:
        raise ValueError(f"unknown serial link dialect {name!r} (known: {', '.join(DIALECTS)})")
    return DIALECTS[name]()
