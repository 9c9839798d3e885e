"""The neutral message every dialect parses into and formats from (see dialects/__init__.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

EVENT = "event"
REQUEST = "request"
RESPONSE = "response"


class DialectError(ValueError):
    """Text that is not a message of this dialect."""


@dataclass(slots=True)
class Message:
    kind: str
    name: str
    fields: dict[str, str] = field(default_factory=dict)
    invoke_id: str | None = None
    ok: bool = True
