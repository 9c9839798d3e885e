"""What every switch driver offers the core, whatever the wire protocol.

A driver owns one link to one switch. It emits `cti.events.Event`s to the sinks added with
`add_sink` and executes commands, each returning a Deferred that fires with the switch's answer
or fails with `DriverError` (a clear text: which service, which switch error). The server wires
drivers to the model and the ACD by this interface only, so a new switch family is a new folder
under drivers/ and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from twisted.internet.defer import Deferred

from cti.errors import ServiceError
from cti.events import Event

EventSink = Callable[[Event], None]


class DriverError(ServiceError):
    """A command failed: the switch answered with an error, timed out, or the link is down."""

    def __init__(self, service: str, message: str, code: str | None = None) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service
        self.code = code


class LinkDown(DriverError):
    """The link to the switch is not up; the command was not sent (or its answer was lost)."""


def voice_unit(driver: object) -> VoiceUnit | None:
    """The driver's voice-unit commands, or None for a driver without them."""
    if callable(getattr(driver, "play_message", None)) \
            and callable(getattr(driver, "stop_message", None)):
        return driver  # type: ignore[return-value]
    return None


class Driver(Protocol):
    """The commands a switch link carries. Devices and numbers are normalised strings.

    `parallel_alerting`: the link can alert several devices with one call at once (the
    `also` destinations of deflect_call and route_select; the first to answer wins and the
    switch clears the others). A driver without it (or with it False) is given no `also`
    list; the server rings such a ring-all queue's agents one after another.
    """

    name: str
    parallel_alerting: bool

    def add_sink(self, sink: EventSink) -> None: ...
    def start(self) -> None: ...
    def stop(self) -> Deferred[None]: ...
    @property
    def connected(self) -> bool: ...
    def ready(self) -> Deferred[None]:
        """Fires once the link is up and every monitor asked for has been answered."""
        ...
    @property
    def failed_monitors(self) -> dict[str, str]:
        """Devices whose monitor the switch refused, with the switch's reason."""
        ...

    # Monitoring and resynchronisation.
    def monitor_start(self, device: str) -> Deferred[str]: ...
    def monitor_stop(self, device: str) -> Deferred[None]: ...
    def snapshot_device(self, device: str) -> Deferred[Event]: ...
    def snapshot_call(self, call_id: str) -> Deferred[Event]: ...

    # Call control.
    def make_call(self, calling: str, called: str) -> Deferred[str]: ...
    def answer_call(self, call_id: str, device: str) -> Deferred[None]: ...
    def clear_connection(self, call_id: str, device: str) -> Deferred[None]: ...
    def clear_call(self, call_id: str) -> Deferred[None]: ...
    def hold_call(self, call_id: str, device: str) -> Deferred[None]: ...
    def retrieve_call(self, call_id: str, device: str) -> Deferred[None]: ...
    def consultation_call(self, call_id: str, device: str, called: str) -> Deferred[str]: ...
    def transfer_call(self, held_call: str, active_call: str, device: str) -> Deferred[str]: ...
    def conference_call(self, held_call: str, active_call: str, device: str) -> Deferred[str]: ...
    def alternate_call(self, held_call: str, active_call: str, device: str) -> Deferred[None]: ...
    def reconnect_call(self, held_call: str, active_call: str, device: str) -> Deferred[None]: ...
    def deflect_call(
        self, call_id: str, device: str, to: str, also: Sequence[str] = ()
    ) -> Deferred[None]: ...
    def single_step_transfer(self, call_id: str, device: str, to: str) -> Deferred[str]: ...
    def single_step_conference(
        self, call_id: str, device: str, joining: str, mode: str = "active"
    ) -> Deferred[str]: ...
    def generate_digits(self, call_id: str, device: str, digits: str) -> Deferred[None]: ...

    # Agents and device features.
    def set_agent_state(
        self, device: str, state: str, agent_id: str | None = None,
        password: str | None = None, group: str | None = None, reason: str | None = None,
    ) -> Deferred[None]: ...
    def get_agent_state(self, device: str) -> Deferred[dict[str, Any]]: ...
    def set_do_not_disturb(self, device: str, on: bool) -> Deferred[None]: ...
    def set_forwarding(
        self, device: str, on: bool, to: str | None = None, kind: str = "immediate"
    ) -> Deferred[None]: ...

    # Routing: answers to route_request events.
    def route_select(
        self, cross_ref: str, destination: str, also: Sequence[str] = ()
    ) -> Deferred[None]: ...
    def route_end(self, cross_ref: str) -> Deferred[None]: ...


class VoiceUnit(Protocol):
    """Optional: a driver whose switch plays messages to callers (ECMA-269 voice-unit services)
    has these too (`voice_unit(driver)` tells). Message IDs are the application's, agreed with
    the switch (docs/csta-wire.md, "Voice unit"). A link that turns out unable to play fails
    with the switch's error like any refused command; callers log it and carry on."""

    def play_message(self, call_id: str, device: str, message: str) -> Deferred[None]: ...
    def stop_message(
        self, call_id: str, device: str, message: str | None = None
    ) -> Deferred[None]: ...
