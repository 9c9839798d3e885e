"""Why the switch refused a request, in ECMA-269's error vocabulary.

Each error carries the category and value a CSTA front-end puts into ``CSTAErrorCode``
(``<operation>invalidCallID</operation>``); a serial front-end maps the same classes onto its own
negative acknowledgements. The switch never knows which front-end asked.
"""

from __future__ import annotations


class SwitchError(Exception):
    """A refused request; `category` and `value` are the ECMA-269 error category and value."""

    category = "operation"
    value = "generic"

    def __init__(self, message: str = "", value: str | None = None) -> None:
        super().__init__(message or self.value)
        if value is not None:
            self.value = value


class InvalidDevice(SwitchError):
    """The device is not configured on this switch (or cannot be dialled)."""

    value = "invalidDeviceID"


class InvalidCall(SwitchError):
    """No call with that ID exists."""

    value = "invalidCallID"


class InvalidConnection(SwitchError):
    """The call exists but the device is not a party of it."""

    value = "invalidConnectionID"


class InvalidState(SwitchError):
    """The connection or device is in a state where the service makes no sense."""

    category = "stateIncompatibility"
    value = "invalidObjectState"


class NotForThisDevice(SwitchError):
    """The device exists but cannot do that (hold on a queue, log an agent onto a trunk...)."""

    value = "requestIncompatibleWithObject"


class AgentRefused(SwitchError):
    """Unknown agent ID or wrong password."""

    category = "security"
    value = "generic"


class NoResources(SwitchError):
    """Every trunk channel is busy."""

    category = "systemResourceAvailability"
    value = "generic"
