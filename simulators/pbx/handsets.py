"""What a person does at a telephone, in terms of the switch's connection-level services.

Scenarios, traffic and end-to-end tests say "1001 answers" or "1001 transfers"; the CSTA
services need (call ID, device) pairs. This module finds the connection a person would mean
(the ringing call to answer, the talking call to hold, the held and the active call to
transfer) and calls the switch, so the same script drives every front-end.
"""

from __future__ import annotations

from simulators.pbx.errors import InvalidDevice, InvalidState
from simulators.pbx.model import ALERTING, CONNECTED, HOLD, INITIATED, QUEUED, Connection
from simulators.pbx.switch import Switch


class Handsets:
    """Device-level actions on one switch; every method returns the call ID it acted on."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch

    def call(self, caller: str, called: str) -> str:
        """An extension dials, or an outside number calls in (by whether `caller` is configured)."""
        if caller in self.switch.devices:
            return self.switch.make_call(caller, called)
        return self.switch.inbound_call(caller, called)

    def answer(self, device: str) -> str:
        conn = self._find(device, (ALERTING,))
        self.switch.answer_call(conn.call.call_id, device)
        return conn.call.call_id

    def hangup(self, device: str) -> str:
        """Clear the talking (or ringing, or dialling) call at the device, else a held one."""
        conn = self._find(device, (CONNECTED, INITIATED, ALERTING, QUEUED, HOLD))
        call_id = conn.call.call_id
        self.switch.clear_connection(call_id, device)
        return call_id

    def hold(self, device: str) -> str:
        conn = self._find(device, (CONNECTED,))
        self.switch.hold_call(conn.call.call_id, device)
        return conn.call.call_id

    def retrieve(self, device: str) -> str:
        conn = self._find(device, (HOLD,))
        self.switch.retrieve_call(conn.call.call_id, device)
        return conn.call.call_id

    def consult(self, device: str, target: str) -> str:
        conn = self._find(device, (CONNECTED,))
        return self.switch.consultation_call(conn.call.call_id, device, target)

    def transfer(self, device: str) -> str:
        held, active = self._held_and_active(device)
        return self.switch.transfer_call(held, active, device)

    def conference(self, device: str) -> str:
        held, active = self._held_and_active(device)
        return self.switch.conference_call(held, active, device)

    def alternate(self, device: str) -> str:
        held, active = self._held_and_active(device)
        self.switch.alternate_call(held, active, device)
        return held

    def reconnect(self, device: str) -> str:
        held, active = self._held_and_active(device)
        self.switch.reconnect_call(held, active, device)
        return held

    def deflect(self, device: str, destination: str) -> str:
        conn = self._find(device, (ALERTING, QUEUED))
        self.switch.deflect_call(conn.call.call_id, device, destination)
        return conn.call.call_id

    def single_step_transfer(self, device: str, destination: str) -> str:
        conn = self._find(device, (CONNECTED, QUEUED, ALERTING))
        return self.switch.single_step_transfer(conn.call.call_id, device, destination)

    def join(self, supervisor: str, device: str, participation: str = "active") -> str:
        """The supervisor listens to (silent), whispers to, or barges into `device`'s call."""
        conn = self._find(device, (CONNECTED,))
        return self.switch.single_step_conference(conn.call.call_id, supervisor, participation)

    def digits(self, device: str, digits: str) -> str:
        conn = self._find(device, (CONNECTED,))
        self.switch.generate_digits(conn.call.call_id, device, digits)
        return conn.call.call_id

    def connections(self, device: str) -> list[Connection]:
        owner = self.switch.devices.get(device)
        if owner is not None:
            return list(owner.connections)
        found = [c for call in self.switch.calls.values()
                 for c in call.connections.values() if c.device == device]
        if not found and not self.switch.is_external(device):
            raise InvalidDevice(f"no device {device!r} on this switch")
        return found

    def _find(self, device: str, states: tuple[str, ...]) -> Connection:
        conns = self.connections(device)
        for state in states:
            for conn in reversed(conns):
                if conn.state == state:
                    return conn
        have = ", ".join(f"{c.call.call_id}:{c.state}" for c in conns) or "no calls"
        raise InvalidState(f"{device} has no {'/'.join(states)} call ({have})")

    def _held_and_active(self, device: str) -> tuple[str, str]:
        held = self._find(device, (HOLD,))
        active = self._find(device, (CONNECTED, ALERTING, INITIATED))
        return held.call.call_id, active.call.call_id
