"""The simulated switch: one protocol-neutral model that every wire front-end sits on.

Services take call IDs and devices as CSTA names them (a connection is (call ID, device)), raise
a SwitchError subclass when refused, and emit SwitchEvents to every listener, synchronously and in
the order a real switch reports them. Time comes only from the injected IReactorTime, so tests
drive ring timeouts and auto-answer with task.Clock. Hunt groups and routing live in groups.py,
agents in agents.py; this module holds calls, their services and the switch's bookkeeping.

Call-ID rules (docs/simulator-scenarios.md repeats them):
- call IDs are decimal strings from one counter, never reused while the switch runs;
- a transfer (two-step or single-step) puts the remaining parties into a NEW call with a fresh
  ID; both old calls cease to exist (TransferedEvent, no CallCleared for them);
- a two-step conference keeps the ACTIVE (consultation) call's ID and ends the held call
  (ConferencedEvent names both; the held call ceases without CallCleared);
- a single-step conference (listen / whisper / barge) adds the device to the existing call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Collection, Iterable
from typing import Any

from simulators.pbx import events as ev
from simulators.pbx.agents import AgentsMixin
from simulators.pbx.errors import (
    InvalidCall,
    InvalidConnection,
    InvalidDevice,
    InvalidState,
    NoResources,
    NotForThisDevice,
    SwitchError,
)
from simulators.pbx.groups import GroupsMixin, RouteDialogue
from simulators.pbx.media import MediaMixin
from simulators.pbx.model import (
    AGENT_BUSY,
    AGENT_WORK,
    ALERTING,
    CONNECTED,
    DISTRIBUTIONS,
    FAIL,
    FORWARD_BUSY,
    FORWARD_IMMEDIATE,
    FORWARD_NO_ANSWER,
    FORWARDING_TYPES,
    HOLD,
    HUNT,
    INITIATED,
    NULL,
    QUEUED,
    RING_ALL,
    Announcement,
    Call,
    Connection,
    Device,
    Extension,
    Pilot,
    Player,
    Queue,
    Trunk,
    VoiceMail,
    VoiceMessage,
)

Listener = Callable[[ev.SwitchEvent], None]
PARTICIPATION_TYPES = ("active", "silent", "whisper")
MAX_REDIRECTIONS = 8


class Switch(GroupsMixin, AgentsMixin, MediaMixin):
    """A small PBX: extensions, trunks, hunt-group pilots, ACD queues, agents, calls,
    announcements and voice mail.

    `clock` is an IReactorTime (the reactor, or task.Clock in tests). `external_answer_seconds`
    is how long the far end of an outgoing trunk call rings before answering (None: it rings
    until someone answers it explicitly). `wrap_up_seconds`: after-call work of agents who were
    ready when their call began (0: straight back to ready). `route_timeout`: how long a
    RouteRequest may stay unanswered before the pilot's own distribution takes over.
    `message_seconds`: how long a message played with PlayMessage lasts (music: until stopped).
    """

    def __init__(
        self,
        clock: Any,
        *,
        external_answer_seconds: float | None = 3.0,
        busy_release_seconds: float = 2.0,
        wrap_up_seconds: float = 0.0,
        route_timeout: float = 5.0,
        agents: dict[str, str] | None = None,
        message_seconds: float = 3.0,
    ) -> None:
        self.clock = clock
        self.external_answer_seconds = external_answer_seconds
        self.busy_release_seconds = busy_release_seconds
        self.wrap_up_seconds = wrap_up_seconds
        self.route_timeout = route_timeout
        self.message_seconds = message_seconds
        self.agent_passwords: dict[str, str] = dict(agents or {})
        self.devices: dict[str, Device] = {}
        self.calls: dict[str, Call] = {}
        self.listeners: list[Listener] = []
        self._call_ids = itertools.count(1)
        self._route_ids = itertools.count(1)
        self._route_xrefs = itertools.count(1)
        self.registrations: dict[str, str | None] = {}
        self.routes: dict[str, RouteDialogue] = {}
        self._trunks: list[Trunk] = []
        self._pilots: list[Pilot] = []
        self._players: dict[Connection, Player] = {}
        self._recordings: dict[Connection, tuple[str, float]] = {}
        self.recorded: list[Callable[[VoiceMessage], None]] = []

    # ------------------------------------------------------------------ configuration

    def add_extensions(self, numbers: Iterable[str], auto_answer: float | None = None) -> None:
        for number in numbers:
            self._add(Extension(number, auto_answer=auto_answer))

    def add_trunks(self, numbers: Iterable[str]) -> None:
        """Trunk channels; without any, outside calls use an unlimited, unnamed network."""
        for number in numbers:
            trunk = Trunk(number)
            self._add(trunk)
            self._trunks.append(trunk)

    def add_pilot(
        self, number: str, members: Iterable[str], distribution: str = HUNT,
        ring_seconds: float = 15.0,
    ) -> None:
        if distribution not in DISTRIBUTIONS:
            raise ValueError(f"unknown distribution {distribution!r} (one of {DISTRIBUTIONS})")
        pilot = Pilot(number, members=list(members), distribution=distribution,
                      ring_seconds=ring_seconds)
        self._add(pilot)
        self._pilots.append(pilot)

    def add_queue(self, number: str) -> None:
        self._add(Queue(number))

    def _add(self, device: Device) -> None:
        if device.number in self.devices:
            raise ValueError(f"device {device.number} is configured twice")
        self.devices[device.number] = device

    def close(self) -> None:
        """Cancel every timer the switch has pending (ringing, wrap-up, routing) for shutdown."""
        for call in self.calls.values():
            for conn in call.connections.values():
                conn.cancel_timer()
        for route in list(self.routes.values()):
            self._forget_route(route)
        for device in self.devices.values():
            if isinstance(device, Extension) and device.agent is not None:
                self._cancel_agent_timer(device.agent)
        self._close_media()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    # ------------------------------------------------------------------ the switch's truth

    def snapshot(self) -> dict[str, Any]:
        """Every call with its parties and their states, and every device's feature state.

        The shape is JSON-friendly and stable: end-to-end tests compare it with what a driver's
        call model believes.
        """
        calls = {
            call.call_id: {
                "call_id": call.call_id,
                "calling": call.calling,
                "called": call.called,
                "parties": call.parties(),
            }
            for call in self.calls.values()
        }
        agents = {
            number: {"agent_id": d.agent.agent_id, "state": d.agent.state, "reason": d.agent.reason}
            for number, d in self.devices.items()
            if isinstance(d, Extension) and d.agent is not None
        }
        features = {
            number: {"dnd": d.dnd, "forwards": dict(d.forwards)}
            for number, d in self.devices.items()
            if isinstance(d, Extension) and (d.dnd or d.forwards)
        }
        return {"calls": calls, "agents": agents, "features": features}

    def snapshot_device(self, number: str) -> list[tuple[str, str]]:
        """(call ID, state) of every connection at a configured device."""
        device = self.device(number)
        if isinstance(device, Trunk):
            return [
                (call.call_id, call.connections[outside].state)
                for call in self.calls.values()
                if (outside := call.trunks.get(number)) in call.connections
            ]
        return [(conn.call.call_id, conn.state) for conn in device.connections]

    def snapshot_connections(self, number: str) -> list[tuple[str, str, str]]:
        """(call ID, connection's device, state) at a configured device.

        The connection's device is the device itself, except on a trunk, where the call's
        party is the outside number using the trunk (as the events name it).
        """
        device = self.device(number)
        if isinstance(device, Trunk):
            return [
                (call.call_id, outside, call.connections[outside].state)
                for call in self.calls.values()
                if (outside := call.trunks.get(number)) in call.connections
            ]
        return [(conn.call.call_id, number, conn.state) for conn in device.connections]

    def snapshot_call(self, call_id: str) -> list[tuple[str, str]]:
        """(device, state) of every connection of a call."""
        return [(c.device, c.state) for c in self.call(call_id).connections.values()]

    def device(self, number: str | None) -> Device:
        device = self.devices.get(number or "")
        if device is None:
            raise InvalidDevice(f"no device {number!r} on this switch")
        return device

    def call(self, call_id: str | None) -> Call:
        call = self.calls.get(call_id or "")
        if call is None:
            raise InvalidCall(f"no call {call_id!r}")
        return call

    def connection(self, call_id: str | None, device: str | None) -> Connection:
        call = self.call(call_id)
        conn = call.connections.get(device or "")
        if conn is None:
            raise InvalidConnection(f"device {device!r} is not in call {call_id}")
        return conn

    def is_external(self, number: str) -> bool:
        """Numbers that leave through a trunk: international, national, or long enough."""
        if number in self.devices:
            return False
        digits = number.lstrip("+")
        return bool(digits) and digits.isdigit() and (
            number.startswith(("+", "0")) or len(digits) >= 7
        )

    def extension(self, number: str | None) -> Extension:
        device = self.device(number)
        if not isinstance(device, Extension):
            raise NotForThisDevice(f"{number} is a {device.kind}, not an extension")
        return device

    # ------------------------------------------------------------------ call services

    def make_call(self, calling: str, called: str) -> str:
        """An extension calls any number; returns the new call's ID."""
        if self.extension(calling).out_of_service:
            raise InvalidState(f"{calling} is out of service")
        self._check_dialable(called)
        if called == calling:
            raise InvalidDevice(f"{calling} cannot call itself")
        call = self._new_call(calling, called)
        conn = self._join(call, calling, INITIATED)
        self._emit(ev.SERVICE_INITIATED, call, calling, cause="makeCall")
        conn.state = CONNECTED
        self._emit(ev.ORIGINATED, call, calling, cause="newCall")
        self._offer(call, called, cause="newCall")
        return call.call_id

    def inbound_call(self, caller: str, called: str, trunk: str | None = None) -> str:
        """An outside caller (any number, e.g. +4930123456) calls in on a trunk."""
        self._check_dialable(called)
        if not caller or caller in self.devices:
            raise InvalidDevice(f"an inbound call comes from an outside number, not {caller!r}")
        seized = self._seize_trunk(trunk)
        call = self._new_call(caller, called)
        if seized is not None:
            call.trunks[seized] = caller
        self._join(call, caller, CONNECTED, external=True)
        self._offer(call, called, cause="newCall")
        return call.call_id

    def answer_call(self, call_id: str, device: str) -> None:
        conn = self.connection(call_id, device)
        if conn.state != ALERTING:
            raise InvalidState(f"{device} is {conn.state} in call {call_id}, not alerting")
        call = conn.call
        conn.cancel_timer()
        conn.state = CONNECTED
        call.hunt_pilot = None
        others = [c for c in call.connections.values()
                  if c is not conn and c.state == ALERTING and not c.external]
        for other in others:
            self._drop(other, cause="callPickup")
        self._emit(ev.ESTABLISHED, call, device, cause="newCall")
        self._agent_on_call(device)
        for other in others:
            self._after_leaving(other.device)

    def clear_connection(self, call_id: str, device: str) -> None:
        conn = self.connection(call_id, device)
        self._release(conn, cause="normalClearing")

    def clear_call(self, call_id: str) -> None:
        call = self.call(call_id)
        left = list(call.connections)
        for conn in list(call.connections.values()):
            self._drop(conn, cause="normalClearing")
        self._end_call(call, left)
        for device in left:
            self._after_leaving(device)

    def hold_call(self, call_id: str, device: str) -> None:
        conn = self.connection(call_id, device)
        self._hold(conn)

    def retrieve_call(self, call_id: str, device: str) -> None:
        conn = self.connection(call_id, device)
        self._retrieve(conn)

    def consultation_call(self, call_id: str, device: str, consulted: str) -> str:
        """Hold the existing call at `device` and call `consulted`; returns the new call's ID."""
        conn = self.connection(call_id, device)
        self.extension(device)
        self._check_dialable(consulted)
        if consulted == device:
            raise InvalidDevice(f"{device} cannot consult itself")
        if conn.state != CONNECTED:
            raise InvalidState(f"{device} is {conn.state} in call {call_id}")
        self._hold(conn)
        call = self._new_call(device, consulted)
        new = self._join(call, device, INITIATED)
        self._emit(ev.SERVICE_INITIATED, call, device, cause="consultation")
        new.state = CONNECTED
        self._emit(ev.ORIGINATED, call, device, cause="consultation")
        self._offer(call, consulted, cause="consultation")
        return call.call_id

    def transfer_call(self, held_call: str, active_call: str, device: str) -> str:
        """Join the held and the active call's other parties in a NEW call; `device` leaves."""
        held, active = self._held_and_active(held_call, active_call, device)
        if len(held.call.connections) < 2 or len(active.call.connections) < 2:
            raise InvalidState("both calls need another party to transfer")
        old_held, old_active = held.call, active.call
        to_device = next(d for d in old_active.connections if d != device)
        call = self._new_call(old_held.calling, old_active.called)
        call.trunks = {**old_held.trunks, **old_active.trunks}
        moved = []
        for old in (old_held, old_active):
            for conn in list(old.connections.values()):
                if conn.device == device:
                    continue
                if conn.device in call.connections:
                    self._drop(conn, cause="transfer")
                    continue
                self._move_connection(conn, call)
                moved.append((conn.device, call.call_id, old.call_id))
        for conn in (held, active):
            conn.cancel_timer()
            self._detach(conn)
        del self.calls[old_held.call_id]
        del self.calls[old_active.call_id]
        self._emit(
            ev.TRANSFERRED, call, device, cause="transfer",
            extra=((device, NULL),),
            details={
                "primary_old_call": old_held.call_id,
                "secondary_old_call": old_active.call_id,
                "to_device": to_device,
                "connections": moved,
            },
        )
        left = [device]
        self._settle(call, left)
        for gone in left:
            self._after_leaving(gone)
        return call.call_id

    def conference_call(self, held_call: str, active_call: str, device: str) -> str:
        """Merge the held call into the active one (whose ID survives); returns that ID."""
        held, active = self._held_and_active(held_call, active_call, device)
        old_held, kept = held.call, active.call
        connections = []
        for conn in kept.connections.values():
            connections.append((conn.device, kept.call_id, kept.call_id))
        added = next((c.device for c in kept.connections.values() if c.device != device), None)
        self._detach(held)
        for conn in list(old_held.connections.values()):
            if conn.device in kept.connections:
                self._drop(conn, cause="conference")
                continue
            self._move_connection(conn, kept)
            connections.append((conn.device, kept.call_id, old_held.call_id))
        del self.calls[old_held.call_id]
        self._emit(
            ev.CONFERENCED, kept, device, cause="conference",
            details={
                "primary_old_call": old_held.call_id,
                "secondary_old_call": kept.call_id,
                "to_device": added,
                "connections": connections,
            },
        )
        return kept.call_id

    def alternate_call(self, held_call: str, active_call: str, device: str) -> None:
        held, active = self._held_and_active(held_call, active_call, device)
        self._hold(active)
        self._retrieve(held)

    def reconnect_call(self, held_call: str, active_call: str, device: str) -> None:
        held, active = self._held_and_active(held_call, active_call, device, active_states=None)
        self._release(active, cause="normalClearing")
        self._retrieve(held)

    def deflect_call(self, call_id: str, device: str, destination: str,
                     also: Iterable[str] = ()) -> None:
        """Send an alerting or queued call on to another destination (same call ID).

        `also`: further extensions alerted at the same time (parallel alerting); the first to
        answer wins and the others are cleared. A call alerting at several devices moves as one:
        deflecting it from one of them clears the others first.
        """
        conn = self.connection(call_id, device)
        if conn.state not in (ALERTING, QUEUED):
            raise InvalidState(f"{device} is {conn.state}: only alerting or queued calls deflect")
        call = conn.call
        siblings = [c for c in call.connections.values()
                    if conn.state == ALERTING and c is not conn and c.state == ALERTING
                    and not c.external]
        also = tuple(also)
        self._check_destinations(call, destination, also, leaving={c.device for c in siblings})
        for sibling in siblings:
            self._drop(sibling, cause="redirected")
        self._redirect(conn, destination, cause="redirected", also=also)
        for sibling in siblings:
            self._after_leaving(sibling.device)

    def single_step_transfer(self, call_id: str, device: str, destination: str) -> str:
        """Hand the call at `device` to `destination`; the remaining parties get a NEW call ID."""
        conn = self.connection(call_id, device)
        if conn.state not in (CONNECTED, HOLD, QUEUED, ALERTING):
            raise InvalidState(f"{device} is {conn.state} in call {call_id}")
        self._check_dialable(destination)
        if destination in conn.call.connections:
            raise InvalidState(f"{destination} is already in call {call_id}")
        old = conn.call
        call = self._new_call(old.calling, destination)
        call.trunks, call.last_redirection = dict(old.trunks), device
        moved = []
        for other in list(old.connections.values()):
            if other is not conn:
                self._move_connection(other, call)
                moved.append((other.device, call.call_id, old.call_id))
        moved.append((destination, call.call_id, None))
        conn.cancel_timer()
        self._detach(conn)
        del self.calls[old.call_id]
        if old.route is not None:
            self._forget_route(old.route)
            self._emit_route_end(old.route, error="callTransferred")
        self._emit(
            ev.TRANSFERRED, call, device, cause="singleStepTransfer",
            extra=((device, NULL),),
            details={
                "primary_old_call": old.call_id,
                "secondary_old_call": None,
                "to_device": destination,
                "connections": moved,
            },
        )
        self._after_leaving(device)
        self._offer(call, destination, cause="singleStepTransfer")
        return call.call_id

    def single_step_conference(self, call_id: str, device_to_join: str,
                               participation: str = "active") -> str:
        """Add a device (supervisor) to a call: barge (active), listen (silent) or whisper."""
        call = self.call(call_id)
        if participation not in PARTICIPATION_TYPES:
            raise SwitchError(f"participation must be one of {PARTICIPATION_TYPES}")
        self.extension(device_to_join)
        if device_to_join in call.connections:
            raise InvalidState(f"{device_to_join} is already in call {call_id}")
        if not any(c.state == CONNECTED for c in call.connections.values()):
            raise InvalidState(f"call {call_id} has no connected party to join")
        conn = self._join(call, device_to_join, CONNECTED)
        conn.participation = participation
        self._emit(
            ev.CONFERENCED, call, device_to_join, cause="singleStepConference",
            details={
                "primary_old_call": call_id,
                "secondary_old_call": None,
                "to_device": device_to_join,
                "participation": participation,
                "connections": [(c.device, call_id, call_id) for c in call.connections.values()],
            },
        )
        return call_id

    def generate_digits(self, call_id: str, device: str, digits: str) -> None:
        conn = self.connection(call_id, device)
        if conn.state != CONNECTED:
            raise InvalidState(f"{device} is {conn.state}: digits need a connected call")
        if not digits or any(ch not in "0123456789*#ABCD" for ch in digits):
            raise SwitchError(f"cannot send digits {digits!r}")
        self._emit(ev.DIGITS_DIALED, conn.call, device, details={"digits": digits})

    # ------------------------------------------------------------------ device features

    def set_do_not_disturb(self, device: str, on: bool) -> None:
        ext = self.extension(device)
        ext.dnd = on
        self._emit(ev.DO_NOT_DISTURB, None, device, extra=((device, NULL),), details={"on": on})
        if not on:
            self._member_free(ext)

    def do_not_disturb(self, device: str) -> bool:
        return self.extension(device).dnd

    def forwarding(self, device: str) -> dict[str, str]:
        """Forwarding type -> destination, for the types that are active."""
        return dict(self.extension(device).forwards)

    def set_in_service(self, device: str, in_service: bool) -> None:
        """Unplug (False) or plug back (True) a telephone; calls to it fail meanwhile."""
        ext = self.extension(device)
        if ext.out_of_service == (not in_service):
            return
        ext.out_of_service = not in_service
        kind = ev.BACK_IN_SERVICE if in_service else ev.OUT_OF_SERVICE
        self._emit(kind, None, device, extra=((device, NULL),))
        if in_service:
            self._member_free(ext)

    def set_forwarding(self, device: str, forwarding_type: str, destination: str | None,
                       on: bool) -> None:
        ext = self.extension(device)
        if forwarding_type not in FORWARDING_TYPES:
            raise SwitchError(f"unknown forwarding type {forwarding_type!r}")
        if on:
            if not destination:
                raise InvalidDevice("forwarding needs a destination")
            self._check_dialable(destination)
            if destination == device:
                raise InvalidDevice("a device cannot forward to itself")
            ext.forwards[forwarding_type] = destination
        else:
            destination = ext.forwards.pop(forwarding_type, None)
        self._emit(
            ev.FORWARDING, None, device, extra=((device, NULL),),
            details={"type": forwarding_type, "on": on, "to": destination},
        )

    # ------------------------------------------------------------------ internals: calls

    def _new_call(self, calling: str | None, called: str | None) -> Call:
        call = Call(str(next(self._call_ids)), calling, called, self.clock.seconds())
        self.calls[call.call_id] = call
        return call

    def _join(self, call: Call, device: str, state: str, external: bool = False) -> Connection:
        conn = Connection(call, device, state, external=external)
        call.connections[device] = conn
        owner = self.devices.get(device)
        if owner is not None:
            owner.connections.append(conn)
        return conn

    def _detach(self, conn: Connection) -> None:
        self._media_gone(conn)
        conn.call.connections.pop(conn.device, None)
        owner = self.devices.get(conn.device)
        if owner is not None and conn in owner.connections:
            owner.connections.remove(conn)

    def _move_connection(self, conn: Connection, call: Call) -> None:
        conn.call.connections.pop(conn.device, None)
        conn.call = call
        call.connections[conn.device] = conn

    def _check_dialable(self, number: str | None) -> None:
        if not number or (number not in self.devices and not self.is_external(number)):
            raise InvalidDevice(f"cannot dial {number!r}")

    def _seize_trunk(self, wanted: str | None) -> str | None:
        if wanted is not None:
            trunk = self.device(wanted)
            if not isinstance(trunk, Trunk):
                raise NotForThisDevice(f"{wanted} is not a trunk")
            if trunk.in_use:
                raise NoResources(f"trunk {wanted} is busy")
            trunk.in_use = True
            return wanted
        if not self._trunks:
            return None
        for trunk in self._trunks:
            if not trunk.in_use:
                trunk.in_use = True
                return trunk.number
        raise NoResources("every trunk channel is busy")

    def _offer(self, call: Call, destination: str, cause: str, hops: int = 0) -> None:
        """Present the call to a destination: ring it, queue it, route it or fail it."""
        device = self.devices.get(destination)
        if destination in call.connections:
            self._fail(call, destination, cause="busy")
        elif device is None:
            self._offer_outside(call, destination)
        elif isinstance(device, Extension):
            self._offer_extension(call, device, cause, hops)
        elif isinstance(device, Pilot):
            conn = self._join(call, destination, QUEUED)
            reg_id = self._registration_for(destination)
            self._emit(ev.QUEUED, call, destination, cause="enteringDistribution",
                       details={"queue_count": len(device.waiting) + 1})
            if reg_id is not None:
                self._request_route(call, device, reg_id)
            else:
                self._distribute(call, device, conn)
        elif isinstance(device, Queue):
            self._join(call, destination, QUEUED)
            count = sum(1 for c in device.connections if c.state == QUEUED)
            self._emit(ev.QUEUED, call, destination, cause="enteringDistribution",
                       details={"queue_count": count})
        elif isinstance(device, (Announcement, VoiceMail)):
            self._offer_media(call, device, cause)
        else:
            self._fail(call, destination, cause="blocked")

    def _offer_outside(self, call: Call, number: str) -> None:
        try:
            trunk = self._seize_trunk(None) if call.trunk is None else call.trunk
        except NoResources:
            self._fail(call, number, cause="trunksBusy")
            return
        if trunk is not None:
            call.trunks.setdefault(trunk, number)
        conn = self._join(call, number, ALERTING, external=True)
        self._emit(ev.NETWORK_REACHED, call, number, details={"trunk": trunk},
                   extra=(), cause="normal")
        self._emit(ev.DELIVERED, call, number, cause="newCall")
        if self.external_answer_seconds is not None:
            conn.timer = self.clock.callLater(self.external_answer_seconds, self._auto_answer, conn)

    def _offer_extension(self, call: Call, ext: Extension, cause: str, hops: int) -> None:
        forward = ext.forwards.get(FORWARD_IMMEDIATE)
        if forward and hops < MAX_REDIRECTIONS:
            self._divert_unseen(call, ext.number, forward, "callForwardImmediate", hops)
            return
        if ext.out_of_service:
            self._fail(call, ext.number, cause="blocked")
            return
        if ext.dnd or ext.busy:
            forward = ext.forwards.get(FORWARD_BUSY)
            if forward and hops < MAX_REDIRECTIONS:
                self._divert_unseen(call, ext.number, forward, "callForwardBusy", hops)
            else:
                self._fail(call, ext.number, cause="doNotDisturb" if ext.dnd else "busy")
            return
        conn = self._join(call, ext.number, ALERTING)
        self._emit(ev.DELIVERED, call, ext.number, cause=cause)
        self._start_ring_timers(conn, ext, hops)

    def _start_ring_timers(self, conn: Connection, ext: Extension, hops: int) -> None:
        if ext.auto_answer is not None:
            conn.timer = self.clock.callLater(ext.auto_answer, self._auto_answer, conn)
        elif conn.call.hunt_pilot is not None:
            pilot = self.devices[conn.call.hunt_pilot]
            if pilot.distribution != RING_ALL:  # type: ignore[attr-defined]
                conn.timer = self.clock.callLater(
                    pilot.ring_seconds, self._hunt_no_answer, conn  # type: ignore[attr-defined]
                )
        elif ext.forwards.get(FORWARD_NO_ANSWER) and hops < MAX_REDIRECTIONS:
            conn.timer = self.clock.callLater(ext.no_answer_seconds, self._no_answer, conn, hops)

    def _divert_unseen(self, call: Call, device: str, destination: str, cause: str,
                       hops: int) -> None:
        """Forward before the device ever rang: a Diverted event, then the new destination."""
        call.last_redirection = device
        self._emit(ev.DIVERTED, call, device, cause=cause, extra=((device, NULL),),
                   details={"new_destination": destination})
        self._offer(call, destination, cause=cause, hops=hops + 1)

    def _redirect(self, conn: Connection, destination: str, cause: str, hops: int = 0,
                  also: tuple[str, ...] = ()) -> None:
        """Move a ringing or queued leg to another destination (deflect, route, no answer);
        with `also`, to several extensions alerting at once."""
        call, device = conn.call, conn.device
        conn.cancel_timer()
        self._detach(conn)
        call.last_redirection = device
        self._emit(ev.DIVERTED, call, device, cause=cause, extra=((device, NULL),),
                   details={"new_destination": destination})
        owner = self.devices.get(device)
        if isinstance(owner, Extension):
            self._member_free(owner)
        if also:
            self._offer_parallel(call, (destination, *also), cause=cause, hops=hops + 1)
        else:
            self._offer(call, destination, cause=cause, hops=hops + 1)

    def _check_destinations(self, call: Call, destination: str, also: tuple[str, ...],
                            leaving: Collection[str] = ()) -> None:
        """Refuse a redirection the switch cannot carry out: an undialable number, a party of
        the call (other than legs about to be cleared), or a parallel alerting list that names
        anything but free-standing extensions, or one twice."""
        wanted = (destination, *also)
        for number in wanted:
            self._check_dialable(number)
            if number in call.connections and number not in leaving:
                raise InvalidState(f"{number} is already in call {call.call_id}")
        if also:
            if len(set(wanted)) != len(wanted):
                raise InvalidDevice(f"a device is named twice in {', '.join(wanted)}")
            for number in wanted:
                if not isinstance(self.devices.get(number), Extension):
                    raise NotForThisDevice(f"{number} is not an extension: parallel alerting "
                                           "reaches extensions only")

    def _offer_parallel(self, call: Call, destinations: tuple[str, ...], cause: str,
                        hops: int) -> None:
        """Alert every listed extension that can ring now (the first to answer takes the call,
        answer_call clears the rest); one that cannot (busy, do not disturb, out of service,
        forwarded) is left out. If none can, the first is offered as a single destination,
        which reports why it failed."""
        ringable = []
        for number in destinations:
            ext = self.devices[number]
            if isinstance(ext, Extension) and not (ext.busy or ext.dnd or ext.out_of_service
                                                   or ext.forwards.get(FORWARD_IMMEDIATE)):
                ringable.append(ext)
        if not ringable:
            self._offer(call, destinations[0], cause=cause, hops=hops)
            return
        for ext in ringable:
            conn = self._join(call, ext.number, ALERTING)
            self._emit(ev.DELIVERED, call, ext.number, cause=cause)
            self._start_ring_timers(conn, ext, hops)

    def _fail(self, call: Call, device: str, cause: str) -> None:
        """The destination cannot take the call; an outside caller gives up after a while.

        A destination already in the call (a forwarding loop back to the caller) gets no
        second connection: the Failed event alone tells the story.
        """
        if device in call.connections:
            self._emit(ev.FAILED, call, device, cause=cause)
            holder = call.connections[device]
        else:
            holder = self._join(call, device, FAIL)
            self._emit(ev.FAILED, call, device, cause=cause)
        callers = [c for c in call.connections.values() if c is not holder]
        if callers and all(c.external for c in callers) and holder.timer is None:
            holder.timer = self.clock.callLater(self.busy_release_seconds,
                                                self._release_failed, call)

    def _release_failed(self, call: Call) -> None:
        if self.calls.get(call.call_id) is call:
            for conn in list(call.connections.values()):
                if conn.external:
                    self._release(conn, cause="normalClearing")
                    return

    def _hold(self, conn: Connection) -> None:
        if conn.state != CONNECTED:
            raise InvalidState(f"{conn.device} is {conn.state}: only a connected call holds")
        if conn.external or not isinstance(self.devices.get(conn.device), Extension):
            raise NotForThisDevice(f"{conn.device} cannot hold")
        conn.state = HOLD
        self._emit(ev.HELD, conn.call, conn.device, cause="newCall")

    def _retrieve(self, conn: Connection) -> None:
        if conn.state != HOLD:
            raise InvalidState(f"{conn.device} is {conn.state}: only a held call is retrieved")
        conn.state = CONNECTED
        self._emit(ev.RETRIEVED, conn.call, conn.device, cause="newCall")

    def _held_and_active(self, held_call: str, active_call: str, device: str,
                         active_states: tuple[str, ...] | None = (CONNECTED, ALERTING)
                         ) -> tuple[Connection, Connection]:
        held = self.connection(held_call, device)
        active = self.connection(active_call, device)
        if held_call == active_call:
            raise InvalidCall("held and active call are the same call")
        if held.state != HOLD:
            raise InvalidState(f"{device} is {held.state} in call {held_call}, not holding")
        if active.state not in (active_states or (CONNECTED, ALERTING, INITIATED)):
            raise InvalidState(f"{device} is {active.state} in call {active_call}")
        return held, active

    def _auto_answer(self, conn: Connection) -> None:
        conn.timer = None
        if conn.state == ALERTING and conn.call.connections.get(conn.device) is conn:
            self.answer_call(conn.call.call_id, conn.device)

    def _no_answer(self, conn: Connection, hops: int) -> None:
        conn.timer = None
        ext = self.devices.get(conn.device)
        if conn.state != ALERTING or not isinstance(ext, Extension):
            return
        destination = ext.forwards.get(FORWARD_NO_ANSWER)
        if destination:
            self._redirect(conn, destination, cause="callForwardNoAnswer", hops=hops)

    def _release(self, conn: Connection, cause: str) -> None:
        """One party hangs up; the call ends unless two live parties, one talking, remain."""
        call = conn.call
        left = [conn.device]
        self._drop(conn, cause)
        self._settle(call, left, cause)
        for device in left:
            self._after_leaving(device)

    def _settle(self, call: Call, left: list[str] | None = None,
                cause: str = "normalClearing") -> None:
        """End a call that has nobody left to talk to (appending the devices it drops).

        Listening and whispering supervisors do not keep a call up on their own.
        """
        left = [] if left is None else left
        live = [c for c in call.connections.values()
                if c.state != FAIL and c.participation == "active"]
        if len(live) >= 2 and any(c.state in (CONNECTED, HOLD) for c in live):
            return
        for other in list(call.connections.values()):
            left.append(other.device)
            self._drop(other, cause)
        self._end_call(call, left)

    def _drop(self, conn: Connection, cause: str) -> None:
        call = conn.call
        conn.cancel_timer()
        self._detach(conn)
        self._emit(ev.CONNECTION_CLEARED, call, conn.device, cause=cause,
                   extra=((conn.device, NULL),))

    def _end_call(self, call: Call, devices: list[str]) -> None:
        if self.calls.get(call.call_id) is not call:
            return
        if call.route is not None:
            route = call.route
            self._forget_route(route)
            self._emit_route_end(route, error="callCleared")
        del self.calls[call.call_id]
        for number in call.trunks:
            trunk = self.devices.get(number)
            if isinstance(trunk, Trunk):
                trunk.in_use = False
        self._emit(ev.CALL_CLEARED, call, None, cause="normalClearing",
                   extra=tuple((d, NULL) for d in dict.fromkeys(devices)))

    def _after_leaving(self, device: str) -> None:
        ext = self.devices.get(device)
        if isinstance(ext, Extension) and not ext.connections:
            agent = ext.agent
            if agent is not None and agent.state == AGENT_BUSY:
                if self.wrap_up_seconds > 0:
                    agent.state = AGENT_WORK
                    self._emit_agent(ev.AGENT_WORKING_AFTER_CALL, ext)
                    agent.timer = self.clock.callLater(self.wrap_up_seconds, self._wrap_up_done,
                                                       ext)
                else:
                    self._agent_ready(ext)
                    return
            self._member_free(ext)

    # ------------------------------------------------------------------ emission

    def _emit(
        self, kind: str, call: Call | None, device: str | None, *, cause: str | None = None,
        extra: tuple[tuple[str, str], ...] = (), details: dict[str, Any] | None = None,
    ) -> None:
        if not self.listeners:
            return
        if call is not None:
            parties = tuple((c.device, c.state) for c in call.connections.values())
            for trunk, outside in call.trunks.items():
                carried = call.connections.get(outside)
                parties += ((trunk, carried.state if carried is not None else NULL),)
            if extra:
                parties += tuple(p for p in extra if p[0] not in call.connections)
            event = ev.SwitchEvent(
                kind, self.clock.seconds(), call.call_id, device, parties, call.calling,
                call.called, cause, call.last_redirection, None, details or {},
            )
        else:
            event = ev.SwitchEvent(kind, self.clock.seconds(), None, device, extra,
                                   cause=cause, details=details or {})
        for listener in list(self.listeners):
            listener(event)
