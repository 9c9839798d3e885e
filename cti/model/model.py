"""The vendor-neutral call model: normalised events in; calls, devices and agents out.

Only events change the model (`Model.apply`), plus the few things the switch never reports:
attached user data and notes. Time comes from the events or from the caller, never from a
clock, so the same model runs in production, in tests and in virtual-time simulation.

Two facts about the wire shape the rules here:
- The same event reaches the server once per monitored device on the call. Every change is
  therefore a "set", never an "add": a repeated event finds nothing to change, records no step
  and notifies no one.
- Transfer and conference end call IDs (field-notes.md). The calls that ceased are merged into
  the resulting call and their IDs become aliases of it, so lookups by an old ID keep working.
  An event that still names an old ID finds the call for its call-level facts (numbers, data),
  but does not touch connections: the old connections ended with the old ID, and a late
  call_cleared for it must not end the call that lives on under the new ID.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cti.events import (
    AGENT_BUSY,
    AGENT_LOGGED_OFF,
    AGENT_LOGGED_ON,
    AGENT_NOT_READY,
    AGENT_READY,
    AGENT_WORKING_AFTER_CALL,
    ALERTING,
    BACK_IN_SERVICE,
    CALL_CLEARED,
    CALL_INFORMATION,
    CONFERENCED,
    CONNECTED,
    CONNECTION_CLEARED,
    CONNECTION_STATES,
    DELIVERED,
    DIGITS_DIALED,
    DIVERTED,
    DO_NOT_DISTURB,
    ESTABLISHED,
    FAIL,
    FAILED,
    FORWARDING,
    HELD,
    HOLD,
    INITIATED,
    LINK_DOWN,
    LINK_UP,
    NETWORK_REACHED,
    NULL,
    ORIGINATED,
    OUT_OF_SERVICE,
    QUEUED,
    QUEUED_STATE,
    RETRIEVED,
    ROUTE_END,
    ROUTE_REQUEST,
    SERVICE_INITIATED,
    SNAPSHOT_CALL,
    SNAPSHOT_DEVICE,
    TRANSFERRED,
    VOICE_UNIT_EVENTS,
    Event,
)
from cti.model.calls import MAX_STEPS, Call, Connection, Note
from cti.model.devices import (
    BUSY,
    LOGGED_OFF,
    LOGGED_ON,
    NOT_READY,
    READY,
    WORKING_AFTER_CALL,
    AgentState,
    Device,
    apply_feature,
)
from cti.model.history import CallHistory

log = logging.getLogger(__name__)

# Kinds passed to call listeners with the Call. A transfer or conference shows as "updated" on
# the resulting call, whose `aliases` then hold the IDs that ceased.
CALL_CREATED = "created"
CALL_UPDATED = "updated"
CALL_ENDED = "ended"
# Kinds passed to device listeners with the Device.
DEVICE_UPDATED = "device"
AGENT_UPDATED = "agent"

CallListener = Callable[[str, Call], None]
DeviceListener = Callable[[str, Device], None]

IGNORED_EVENTS = frozenset({LINK_UP, ROUTE_REQUEST, ROUTE_END}) | VOICE_UNIT_EVENTS
"""Events the model deliberately leaves alone: a link coming up is followed by snapshots,
routing belongs to the ACD, and a message played to a caller changes no connection; the call
itself shows up through queued / delivered events."""

_LIVE_STATES = frozenset(CONNECTION_STATES) - {NULL}
_NOTHING = frozenset()

# What a connection event does to the device it is about: the state it leaves the device in
# (None: whatever state the switch reported, if any) and the states it must not override,
# because a connection never goes back from them (a late delivered must not un-answer a call).
# Connections the model only inferred (a transfer's party list, where ECMA gives no state; a
# calling number) take any state the device's own events report.
_CONNECTION_EVENTS: dict[str, tuple[str | None, frozenset[str]]] = {
    SERVICE_INITIATED: (INITIATED, frozenset({ALERTING, CONNECTED, HOLD, QUEUED_STATE, FAIL})),
    ORIGINATED: (CONNECTED, frozenset({HOLD})),
    DELIVERED: (ALERTING, frozenset({CONNECTED, HOLD})),
    ESTABLISHED: (CONNECTED, _NOTHING),
    HELD: (HOLD, _NOTHING),
    RETRIEVED: (CONNECTED, _NOTHING),
    QUEUED: (QUEUED_STATE, frozenset({CONNECTED, HOLD})),
    FAILED: (FAIL, _NOTHING),
    NETWORK_REACHED: (None, frozenset({HOLD})),
}
# Events that start a call: seen on an ID that is an alias, they mean the switch reused the ID.
_CALL_STARTS = frozenset({SERVICE_INITIATED, ORIGINATED})
# Events whose calling device is on the call: the event may be the first the model hears of it
# (monitoring started mid-call), so it joins, connected; otherwise it only leaves initiated.
_CALLER_ON_CALL = frozenset({DELIVERED, ESTABLISHED, QUEUED, FAILED, NETWORK_REACHED})
_CALLING_KEEP = _LIVE_STATES - {INITIATED}
# States a transfer or conference without party states leaves as they were: not yet answered.
_NOT_ANSWERED = frozenset({ALERTING, QUEUED_STATE})

_AGENT_EVENTS = {
    AGENT_LOGGED_ON: LOGGED_ON,
    AGENT_READY: READY,
    AGENT_NOT_READY: NOT_READY,
    AGENT_WORKING_AFTER_CALL: WORKING_AFTER_CALL,
    AGENT_BUSY: BUSY,
    AGENT_LOGGED_OFF: LOGGED_OFF,
}
# Extra fields drivers put in Event.data that describe the event, not the call: they stay out
# of the call's attached data (which the screen-pop shows and transfers carry along).
_EVENT_DETAILS = frozenset({
    "number_queued", "transferred_to", "added_party", "new_destination", "network_interface",
    "associated_calling", "associated_called", "agent_mode", "pending_agent_state",
    "do_not_disturb", "forwarding_type", "forward_status", "forward_to", "route_register_id",
    "route_used", "error",
})
_MISSING = object()


class UnknownCall(LookupError):
    """No live call has this ID (nor had it as an old ID)."""

    def __init__(self, call_id: str) -> None:
        super().__init__(f"no call {call_id!r}")
        self.call_id = call_id


class Model:
    """Calls, devices and agents of every link, kept up to date by `apply`.

    `history_size` bounds the finished calls kept in `history`. `is_internal` tells the
    model's own numbers from outside ones (for ANI across transfers); by default a number is
    internal when it is a monitored device.

    When the last monitored device leaves a call that still has other parties, no monitor will
    report the rest of it (an agent hung up on an outside caller; a call transferred or
    diverted to an unmonitored number), so the call ends then. The end is settled
    `unobserved_grace` seconds of event time later, because a switch may clear one device
    before the next one reports (a pickup, a queue handing over by clearing): a monitored
    device rejoining within the grace keeps the call alive, with its data.
    """

    def __init__(
        self,
        history_size: int = 10_000,
        is_internal: Callable[[str], bool] | None = None,
        unobserved_grace: float = 2.0,
    ) -> None:
        self.calls: dict[str, Call] = {}
        self.aliases: dict[str, str] = {}
        """Old call ID -> the ID of the live call it was merged into."""
        self.devices: dict[str, Device] = {}
        self.agents: dict[str, str] = {}
        """Agent ID -> the device the agent is (or was last) on."""
        self.history = CallHistory(history_size)
        self.events = 0
        self.ignored = 0
        self._is_internal = is_internal
        self._monitors: set[str] = set()
        self.unobserved_grace = unobserved_grace
        self._unobserved: dict[str, tuple[Call, float]] = {}
        """Live calls the last monitored device left: call ID -> (call, when it left); a call
        leaves it when it ends or merges, not only at the next settling (an idle server
        would otherwise hold every call of its last busy seconds)."""
        self._unobserved_due = math.inf
        self._call_listeners: tuple[CallListener, ...] = ()
        self._device_listeners: tuple[DeviceListener, ...] = ()
        handlers: dict[str, Callable[[Event], Call | None]] = dict.fromkeys(
            _CONNECTION_EVENTS, self._on_connection_event
        )
        handlers.update(dict.fromkeys(_AGENT_EVENTS, self._on_agent))
        handlers.update(
            {
                CONNECTION_CLEARED: self._on_connection_cleared,
                CALL_CLEARED: self._on_call_cleared,
                TRANSFERRED: self._on_merge,
                CONFERENCED: self._on_merge,
                DIVERTED: self._on_diverted,
                DIGITS_DIALED: self._on_call_info,
                CALL_INFORMATION: self._on_call_info,
                DO_NOT_DISTURB: self._on_device_feature,
                FORWARDING: self._on_device_feature,
                BACK_IN_SERVICE: self._on_device_feature,
                OUT_OF_SERVICE: self._on_device_feature,
                SNAPSHOT_DEVICE: self._on_snapshot,
                SNAPSHOT_CALL: self._on_snapshot_call,
                LINK_DOWN: self._on_link_down,
            }
        )
        self._handlers = handlers

    # -- the one way in -------------------------------------------------------------------

    def apply(self, event: Event) -> Call | None:
        """Update the model from one normalised event; returns the call it concerned, if any.

        Never raises on what a switch may send: unknown event names, events about unknown
        calls, missing fields are counted in `ignored` and otherwise skipped.
        """
        self.events += 1
        if event.time >= self._unobserved_due:
            self._settle_unobserved(event.time)
        monitor = event.monitor
        if monitor is not None and monitor not in self._monitors:
            self._mark_monitored(monitor, event.link)
        handler = self._handlers.get(event.event)
        if handler is None:
            self.ignored += 1
            return None
        return handler(event)

    # -- reading --------------------------------------------------------------------------

    @property
    def handled_events(self) -> frozenset[str]:
        """The event names `apply` acts on (IGNORED_EVENTS are left alone on purpose)."""
        return frozenset(self._handlers)

    def find_call(self, call_id: str) -> Call | None:
        """The live call with this ID, or the one an old ID was merged into."""
        call = self.calls.get(call_id)
        if call is None:
            target = self.aliases.get(call_id)
            if target is not None:
                call = self.calls.get(target)
        return call

    def call(self, call_id: str) -> Call:
        call = self.find_call(call_id)
        if call is None:
            raise UnknownCall(call_id)
        return call

    def calls_at(self, device: str) -> list[Call]:
        dev = self.devices.get(device)
        if dev is None:
            return []
        return [self.calls[call_id] for call_id in dev.connections]

    def device(self, device: str) -> Device | None:
        return self.devices.get(device)

    def agent(self, agent_id: str) -> AgentState | None:
        device = self.agents.get(agent_id)
        dev = self.devices.get(device) if device is not None else None
        return dev.agent if dev is not None else None

    # -- what the switch does not report ----------------------------------------------------

    def attach_data(self, call_id: str, mapping: Mapping[str, Any]) -> Call:
        """Merge user data into a call; it travels with the call through transfers."""
        if not isinstance(mapping, Mapping):
            raise TypeError(f"attached data must be a mapping, not {type(mapping).__name__}")
        bad = [key for key in mapping if not isinstance(key, str)]
        if bad:
            raise ValueError(f"attached data keys must be strings, not {bad[0]!r}")
        call = self.call(call_id)
        call.data.update(mapping)
        self._notify(CALL_UPDATED, call)
        return call

    def add_note(self, call_id: str, text: str, time: float, author: str | None = None) -> Note:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("a note needs some text")
        call = self.call(call_id)
        note = Note(time, author, text)
        call.notes.append(note)
        self._notify(CALL_UPDATED, call)
        return note

    def restore_numbers(self, call_id: str, calling: str | None = None,
                        called: str | None = None, ani: str | None = None,
                        dnis: str | None = None) -> Call:
        """Numbers the switch's snapshot did not carry, kept from before (a restarted
        server's stored call context); only missing ones are set."""
        call = self.call(call_id)
        if call.restore_numbers(calling, called, ani, dnis):
            self._notify(CALL_UPDATED, call)
        return call

    def mark_monitored(self, devices: Iterable[str], link: str | None = None) -> None:
        """Tell the model which devices the server monitors, before their first event."""
        for device in devices:
            if device not in self._monitors:
                self._mark_monitored(device, link)

    # -- housekeeping the server schedules ------------------------------------------------

    def end_stale_calls(self, time: float, link: str | None = None) -> list[Call]:
        """End the calls still marked stale once every device of a link has been snapshot."""
        self._settle_unobserved(time)
        stale = [c for c in self.calls.values() if c.stale and (link is None or c.link == link)]
        for call in stale:
            self._end(call, time, "resync")
        return stale

    def sweep(self, now: float, max_idle: float) -> list[Call]:
        """End calls no monitored device is on that have had no event for `max_idle` seconds.

        Such a call gets no further events, so nothing else would ever end it: a call seen only
        as far ends, or one whose monitored devices left while no event followed to settle it
        (those end here once their grace has passed, whatever `max_idle`).
        """
        ended = self._settle_unobserved(now)
        limit = now - max_idle
        idle = [
            call for call in self.calls.values()
            if call.last_event < limit and not self._observable(call)
        ]
        for call in idle:
            self._end(call, now, "idle")
        return ended + idle

    # -- listeners --------------------------------------------------------------------------

    def add_call_listener(self, listener: CallListener) -> None:
        """`listener(kind, call)` on CALL_CREATED / CALL_UPDATED / CALL_ENDED."""
        self._call_listeners = (*self._call_listeners, listener)

    def remove_call_listener(self, listener: CallListener) -> None:
        self._call_listeners = tuple(x for x in self._call_listeners if x != listener)

    def add_device_listener(self, listener: DeviceListener) -> None:
        """`listener(kind, device)` on DEVICE_UPDATED (features) / AGENT_UPDATED."""
        self._device_listeners = (*self._device_listeners, listener)

    def remove_device_listener(self, listener: DeviceListener) -> None:
        self._device_listeners = tuple(x for x in self._device_listeners if x != listener)

    # -- call events ----------------------------------------------------------------------

    def _on_connection_event(self, event: Event) -> Call | None:
        name = event.event
        call_id = event.call_id
        if not call_id:
            return self._ignore()
        call = self.calls.get(call_id)
        created = False
        if call is None:
            target = self.aliases.get(call_id)
            if target is not None and name not in _CALL_STARTS:
                call = self.calls[target]
                if self._take_info(call, event):
                    self._notify(CALL_UPDATED, call)
                return call
            if target is not None:
                del self.aliases[call_id]
            call = self._new_call(call_id, event)
            created = True
        changed = self._take_info(call, event)
        device = event.device
        if name in _CALLER_ON_CALL:
            calling = event.calling
            if calling is not None and calling != device:
                conn = call.connections.get(calling)
                if (conn is None and calling not in call.parties) or (
                    conn is not None and conn.state == INITIATED
                ):
                    if self._set_state(call, calling, CONNECTED, event, _CALLING_KEEP, True):
                        changed = True
        state, keep = _CONNECTION_EVENTS[name]
        if state is None:
            state = event.state if event.state in _LIVE_STATES else None
        if device is not None and state is not None:
            if self._set_state(call, device, state, event, keep):
                changed = True
            if name == ESTABLISHED and call.answered is None:
                call.answered = event.time
                call.answered_by = device
            elif name == QUEUED and call.queue != device:
                call.queue = device
        if created:
            self._notify(CALL_CREATED, call)
        elif changed:
            self._notify(CALL_UPDATED, call)
        return call

    def _on_connection_cleared(self, event: Event) -> Call | None:
        call = self.calls.get(event.call_id) if event.call_id else None
        if call is None:
            return self._ignore()
        changed = self._take_info(call, event)
        device = event.device
        if device is not None and self._drop(call, device, event.time, event.event):
            if not call.connections:
                self._end(call, event.time, event.cause)
                return call
            self._check_observed(call, device, event.time)
            changed = True
        if changed:
            self._notify(CALL_UPDATED, call)
        return call

    def _on_call_cleared(self, event: Event) -> Call | None:
        call = self.calls.get(event.call_id) if event.call_id else None
        if call is None:
            return self._ignore()
        self._take_info(call, event)
        self._end(call, event.time, event.cause)
        return call

    def _on_diverted(self, event: Event) -> Call | None:
        """The diverting device leaves; the destination joins with its own delivered event."""
        call = self.calls.get(event.call_id) if event.call_id else None
        if call is None:
            return self._ignore()
        changed = self._take_info(call, event)
        if event.device is not None and self._drop(call, event.device, event.time, event.event):
            self._check_observed(call, event.device, event.time)
            changed = True
        if changed:
            self._notify(CALL_UPDATED, call)
        return call

    def _on_call_info(self, event: Event) -> Call | None:
        call = self.find_call(event.call_id) if event.call_id else None
        if call is None:
            return self._ignore()
        changed = self._take_info(call, event)
        device, digits = event.device, event.digits
        if event.event == DIGITS_DIALED and device is not None and digits:
            if call.digits.get(device) != digits:
                call.digits[device] = digits
                changed = True
        if changed:
            self._notify(CALL_UPDATED, call)
        return call

    def _on_merge(self, event: Event) -> Call | None:
        """transferred / conferenced: merge the calls that ceased into the resulting call."""
        olds = [call_id for call_id in event.old_call_ids if call_id]
        result_id = event.call_id or (olds[0] if olds else None)
        if result_id is None:
            return self._ignore()
        result = self.calls.get(result_id)
        merging: list[Call] = []
        for old_id in olds:
            if old_id == result_id:
                continue
            call = self.find_call(old_id)
            if call is not None and call is not result and call not in merging:
                merging.append(call)
        gone = [old_id for old_id in olds if old_id != result_id]
        created = result is None and not merging
        if result is None:
            if not merging and not event.parties:
                return self._ignore()
            self.aliases.pop(result_id, None)
            result = self._new_call(result_id, event)
        elif not merging and gone and all(self.aliases.get(o) == result_id for o in gone):
            return self._merge_again(result, event)
        for call in sorted(merging, key=_started):
            self._absorb(result, call)
        for old_id in gone:
            if self.aliases.get(old_id) != result_id:
                self.aliases[old_id] = result_id
                result.aliases.append(old_id)
        listed = set()
        for party in event.parties:
            device = party.device
            if device is None:
                continue
            listed.add(device)
            if party.state == NULL:
                self._drop(result, device, event.time, event.event)
            elif party.state in _LIVE_STATES:
                self._set_state(result, device, party.state, event)
            else:
                # No state given (ECMA lists none): whoever had answered in the old calls is
                # connected now; a device still ringing or queued there still is.
                conn = result.connections.get(device)
                if conn is None or conn.state not in _NOT_ANSWERED:
                    self._set_state(result, device, CONNECTED, event, inferred=True)
        leaving = event.device if event.event == TRANSFERRED else None
        if leaving is not None and leaving not in listed:
            self._drop(result, leaving, event.time, event.event)
        self._take_info(result, event)
        result.log(event.time, event.event, event.device, None)
        self._notify(CALL_CREATED if created else CALL_UPDATED, result)
        if not result.connections:
            self._end(result, event.time, event.cause)
        elif event.device is not None:
            self._check_observed(result, event.device, event.time)
        return result

    def _merge_again(self, result: Call, event: Event) -> Call:
        """Another monitor's copy of a merge already made: only the states it reports count.

        ECMA-269 lists a transfer's or conference's parties without states; a party's state is
        known only from its own monitor's copy (the driver puts that monitor's
        localConnectionInfo on its party), so a copy with states may correct what the first
        copy left (a target still ringing).
        """
        changed = False
        for party in event.parties:
            if party.device is not None and party.state in _LIVE_STATES:
                if self._set_state(result, party.device, party.state, event):
                    changed = True
        if changed:
            self._notify(CALL_UPDATED, result)
        return result

    def _absorb(self, result: Call, old: Call) -> None:
        """Move a ceased call into the resulting one; the earlier call's facts come first."""
        new_id = result.call_id
        for device, conn in old.connections.items():
            dev = self.devices[device]
            del dev.connections[old.call_id]
            if device not in result.connections:
                result.connections[device] = conn
                dev.connections[new_id] = conn
        first, second = (old, result) if old.started < result.started else (result, old)
        result.parties = {**first.parties, **second.parties}
        result.calling = first.calling or second.calling
        result.called = first.called or second.called
        caller, other = (second, first) if self._outside_later(first, second) else (first, second)
        result.ani = caller.ani or other.ani
        result.dnis = caller.dnis or other.dnis
        result.data = {**first.data, **second.data}
        result.notes = sorted(first.notes + second.notes, key=_note_time)
        result.digits = {**first.digits, **second.digits}
        result.queue = first.queue or second.queue
        result.steps = list(heapq.merge(first.steps, second.steps, key=_step_time))[:MAX_STEPS]
        if old.answered is not None and (result.answered is None or old.answered < result.answered):
            result.answered, result.answered_by = old.answered, old.answered_by
        result.started = first.started
        result.link = result.link or old.link
        ceased = [call_id for call_id in (*old.aliases, old.call_id) if call_id != new_id]
        result.aliases = [*ceased, *result.aliases] if first is old else [*result.aliases, *ceased]
        for call_id in ceased:
            if call_id == old.call_id or self.aliases.get(call_id) == old.call_id:
                self.aliases[call_id] = new_id
        del self.calls[old.call_id]
        self._unobserved.pop(old.call_id, None)

    def _outside_later(self, first: Call, second: Call) -> bool:
        """Whether only the later call came from outside: then its ANI and DNIS win."""
        if first.ani is None or second.ani is None:
            return False
        return self._internal(first.ani) and not self._internal(second.ani)

    # -- resynchronisation ------------------------------------------------------------------

    def _on_snapshot(self, event: Event) -> Call | None:
        """Make one device's connections exactly what the switch listed."""
        device = event.device
        if not device:
            return self._ignore()
        dev = self._mark_monitored(device, event.link)
        listed: set[str] = set()
        for party in event.parties:
            if not party.call_id or party.state == NULL:
                continue
            call = self.find_call(party.call_id)
            created = call is None
            if call is None:
                call = self._new_call(party.call_id, event)
            changed = call.stale
            call.stale = False
            call.last_event = event.time
            # A trunk's snapshot names the outside party using it, as its events do.
            on_call = party.device or device
            state = party.state if party.state in _LIVE_STATES else None
            if state is None and on_call not in call.connections:
                state = CONNECTED
            if state is not None and self._set_state(call, on_call, state, event):
                changed = True
            listed.add(call.call_id)
            if created:
                self._notify(CALL_CREATED, call)
            elif changed:
                self._notify(CALL_UPDATED, call)
        for call_id in [c for c in dev.connections if c not in listed]:
            call = self.calls[call_id]
            self._drop(call, device, event.time, event.event)
            if not call.connections or not self._observable(call):
                self._end(call, event.time, "resync")
            else:
                self._notify(CALL_UPDATED, call)
        return None

    def _on_snapshot_call(self, event: Event) -> Call | None:
        """Make one call's connections exactly what the switch listed for it."""
        if not event.call_id:
            return self._ignore()
        listed = {p.device: p.state for p in event.parties if p.device and p.state != NULL}
        call = self.find_call(event.call_id)
        if call is None:
            if not listed:
                return None
            call = self._new_call(event.call_id, event)
            created = True
        else:
            created = False
        changed = call.stale
        call.stale = False
        call.last_event = event.time
        for device, state in listed.items():
            if self._set_state(call, device, state if state in _LIVE_STATES else CONNECTED, event):
                changed = True
        for device in [d for d in call.connections if d not in listed]:
            self._drop(call, device, event.time, event.event)
            changed = True
        if not call.connections:
            self._end(call, event.time, "resync")
        elif created:
            self._notify(CALL_CREATED, call)
        elif changed:
            self._notify(CALL_UPDATED, call)
        return call

    def _on_link_down(self, event: Event) -> Call | None:
        """The link's calls may have changed unseen: mark them, keep them until resync."""
        link = event.link
        for call in self.calls.values():
            if not call.stale and (link is None or call.link == link):
                call.stale = True
                self._notify(CALL_UPDATED, call)
        return None

    # -- agents and device features ------------------------------------------------------

    def _on_agent(self, event: Event) -> Call | None:
        agent_id = event.agent_id
        device = event.device or (self.agents.get(agent_id) if agent_id else None)
        if device is None:
            return self._ignore()
        dev = self._device(device, event.link)
        state = _AGENT_EVENTS[event.event]
        reason = event.reason if state == NOT_READY else None
        old = dev.agent
        if old is not None and agent_id is None:
            agent_id = old.agent_id
        if old is not None and (old.agent_id, old.state, old.reason) == (agent_id, state, reason):
            return None
        since = old.since if old is not None and (old.state, old.reason) == (state, reason) else event.time
        if old is not None and old.agent_id is not None and old.agent_id != agent_id:
            self.agents.pop(old.agent_id, None)
        if agent_id is not None:
            previous = self.agents.get(agent_id)
            if previous is not None and previous != device and previous in self.devices:
                moved_from = self.devices[previous]
                moved_from.agent = None
                self._notify_device(AGENT_UPDATED, moved_from)
            self.agents[agent_id] = device
        dev.agent = AgentState(agent_id, device, state, reason, since)
        self._notify_device(AGENT_UPDATED, dev)
        return None

    def _on_device_feature(self, event: Event) -> Call | None:
        device = event.device
        if not device:
            return self._ignore()
        dev = self.devices.get(device) or Device(device, link=event.link)
        changed = apply_feature(dev, event)
        if changed is None:
            return self._ignore()
        if dev.plain:
            self.devices.pop(device, None)
        else:
            self.devices[device] = dev
        if changed:
            self._notify_device(DEVICE_UPDATED, dev)
        return None

    # -- the primitives every handler uses ------------------------------------------------

    def _new_call(self, call_id: str, event: Event) -> Call:
        call = Call(call_id, started=event.time, link=event.link, last_event=event.time)
        self.calls[call_id] = call
        return call

    def _take_info(self, call: Call, event: Event) -> bool:
        """Call-level facts of an event: numbers, user data, link; True when any changed."""
        call.last_event = event.time
        changed = False
        if call.stale:
            call.stale = False
            changed = True
        calling, called = event.calling, event.called
        if calling is not None and call.calling is None:
            call.calling = calling
            changed = True
        if called is not None and call.called is None:
            call.called = called
            changed = True
        ani = event.network_calling or calling
        if ani is not None and ani != call.ani and (
            call.ani is None or (self._internal(call.ani) and not self._internal(ani))
        ):
            call.ani = ani
            changed = True
        dnis = event.network_called or called
        if dnis is not None and call.dnis is None:
            call.dnis = dnis
            changed = True
        if event.data:
            data = call.data
            for key, value in event.data.items():
                if key not in _EVENT_DETAILS and data.get(key, _MISSING) != value:
                    data[key] = value
                    changed = True
        if call.link is None and event.link is not None:
            call.link = event.link
        return changed

    def _set_state(
        self, call: Call, device: str, state: str, event: Event,
        keep: frozenset[str] = _NOTHING, inferred: bool = False,
    ) -> bool:
        """Put `device`'s connection in `state` unless it is in one of `keep` (and was
        reported by the device's own events, not inferred); True when something changed."""
        conn = call.connections.get(device)
        if conn is None:
            conn = Connection(device, state, event.time, inferred)
            call.connections[device] = conn
            if device not in call.parties:
                call.parties[device] = None
            dev = self.devices.get(device)
            if dev is None:
                dev = self._device(device, event.link)
            dev.connections[call.call_id] = conn
        elif conn.state == state:
            conn.inferred = conn.inferred and inferred
            return False
        elif conn.state in keep and not conn.inferred:
            return False
        else:
            conn.state = state
            conn.since = event.time
            conn.inferred = inferred
        call.log(event.time, event.event, device, state)
        return True

    def _drop(self, call: Call, device: str, time: float, reason: str) -> bool:
        if call.connections.pop(device, None) is None:
            return False
        dev = self.devices.get(device)
        if dev is not None:
            dev.connections.pop(call.call_id, None)
            if dev.plain:
                del self.devices[device]
        call.log(time, reason, device, NULL)
        return True

    def _end(self, call: Call, time: float, cause: str | None) -> None:
        for device in list(call.connections):
            self._drop(call, device, time, CALL_CLEARED)
        call.ended = time
        call.cause = cause
        del self.calls[call.call_id]
        self._unobserved.pop(call.call_id, None)
        for alias in call.aliases:
            if self.aliases.get(alias) == call.call_id:
                del self.aliases[alias]
        self.history.append(call.record())
        self._notify(CALL_ENDED, call)

    def _check_observed(self, call: Call, left: str, time: float) -> None:
        """After `left` left the call: was it the last monitored device on it?"""
        if left in self._monitors and not self._observable(call):
            self._unobserved[call.call_id] = (call, time)
            self._unobserved_due = min(self._unobserved_due, time + self.unobserved_grace)

    def _settle_unobserved(self, now: float) -> list[Call]:
        ended: list[Call] = []
        due = math.inf
        for call_id, (call, left) in list(self._unobserved.items()):
            if self.calls.get(call.call_id) is not call or self._observable(call):
                del self._unobserved[call_id]  # ended, merged, or watched again
            elif left + self.unobserved_grace <= now:
                del self._unobserved[call_id]
                self._end(call, left, "unobserved")
                ended.append(call)
            else:
                due = min(due, left + self.unobserved_grace)
        self._unobserved_due = due
        return ended

    def _observable(self, call: Call) -> bool:
        """Whether a monitored device is still on the call, so its end will be reported."""
        monitors = self._monitors
        return any(device in monitors for device in call.connections)

    def _internal(self, number: str) -> bool:
        if self._is_internal is not None:
            return self._is_internal(number)
        return number in self._monitors

    def _device(self, device: str, link: str | None) -> Device:
        dev = self.devices.get(device)
        if dev is None:
            dev = self.devices[device] = Device(device, link=link)
        elif dev.link is None:
            dev.link = link
        return dev

    def _mark_monitored(self, device: str, link: str | None) -> Device:
        self._monitors.add(device)
        dev = self._device(device, link)
        dev.monitored = True
        return dev

    def _ignore(self) -> None:
        self.ignored += 1
        return None

    def _notify(self, kind: str, call: Call) -> None:
        for listener in self._call_listeners:
            try:
                listener(kind, call)
            except Exception:
                log.exception("call listener %r failed on %s %s", listener, kind, call.call_id)

    def _notify_device(self, kind: str, device: Device) -> None:
        for listener in self._device_listeners:
            try:
                listener(kind, device)
            except Exception:
                log.exception("device listener %r failed on %s %s", listener, kind, device.device)


def _started(call: Call) -> float:
    return call.started


def _note_time(note: Note) -> float:
    return note.time


def _step_time(step: Any) -> float:
    return step.time
