"""The CSTA server factory: one switch, many client connections, monitors and sessions.

The factory owns everything that outlives a single TCP connection: ECMA-354 sessions (which a
reconnecting client may resume with their monitors), monitors by device, and routing
registrations. It listens to the switch and fans each event out to the monitors of the devices
the event concerns. While a request is being served, events are held back so the response goes
out first, as switches do.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from twisted.internet.protocol import Factory
from twisted.logger import Logger

from simulators.csta import eventxml
from simulators.csta.framing import HEADER_SIZE
from simulators.pbx import events as ev
from simulators.pbx.events import SwitchEvent
from simulators.pbx.model import AGENT_NOT_READY
from simulators.pbx.switch import Switch

ECMA354 = "ecma354"
SYSTEM_STATUS = "system-status"
SESSION_STYLES = (ECMA354, SYSTEM_STATUS)

log = Logger()


class Subscriber:
    """Whoever owns monitors and route registrations: a session, or a bare connection."""

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.monitors: set[str] = set()
        self.registrations: set[str] = set()


class Session(Subscriber):
    """An ECMA-354 application session; survives its connection until its timer expires."""

    def __init__(self, session_id: str, protocol: Any, application: str, duration: int) -> None:
        super().__init__(protocol)
        self.session_id = session_id
        self.application = application
        self.duration = duration
        self.timer: Any = None


class Monitor:
    __slots__ = ("xref", "device", "owner")

    def __init__(self, xref: str, device: str, owner: Subscriber) -> None:
        self.xref = xref
        self.device = device
        self.owner = owner


class CSTAServerFactory(Factory):
    """Serve one Switch over ECMA-323; `keepalive` 0 disables the SystemStatus keep-alive."""

    def __init__(
        self,
        switch: Switch,
        *,
        session_style: str = ECMA354,
        keepalive: float = 30.0,
        max_session_duration: int = 300,
        clock: Any = None,
    ) -> None:
        if session_style not in SESSION_STYLES:
            raise ValueError(f"session style must be one of {SESSION_STYLES}")
        self.switch = switch
        self.clock = clock if clock is not None else switch.clock
        self.session_style = session_style
        self.keepalive = keepalive
        self.max_session_duration = max_session_duration
        self.connections: set[Any] = set()
        self.sessions: dict[str, Session] = {}
        self.monitors: dict[str, Monitor] = {}
        self.by_device: dict[str, list[Monitor]] = {}
        self.registrations: dict[str, Subscriber] = {}
        self.events_sent = 0
        self.paused: set[Any] = set()
        """Connections whose transport asked us to stop producing (send buffer full)."""
        self.drained: list[Callable[[], None]] = []
        """Called whenever the last paused connection resumes."""
        self.first_monitor: list[Callable[[], None]] = []
        """Called once, when the first MonitorStart of any client is granted."""
        self.refused_services: set[str] = set()
        """Services answered with CSTAErrorCode operation/generic, as a switch without them
        does (e.g. {"PlayMessage", "Stop"}: a switch with no voice unit)."""
        self._xrefs = itertools.count(1)
        self._held: list[SwitchEvent] | None = None
        switch.subscribe(self.on_switch_event)

    @property
    def congested(self) -> bool:
        """True while some client cannot keep up; burst traffic waits for it."""
        return bool(self.paused)

    def pause(self, protocol: Any) -> None:
        self.paused.add(protocol)

    def resume(self, protocol: Any) -> None:
        if protocol in self.paused:
            self.paused.discard(protocol)
            if not self.paused:
                for callback in list(self.drained):
                    callback()

    def buildProtocol(self, addr: Any) -> Any:
        from simulators.csta.protocol import CSTAServerProtocol

        protocol = CSTAServerProtocol()
        protocol.factory = self
        return protocol

    def close(self) -> None:
        """Stop listening to the switch, end every session and drop every connection."""
        self.switch.unsubscribe(self.on_switch_event)
        for session in list(self.sessions.values()):
            self.end_session(session)
        for protocol in list(self.connections):
            protocol.transport.loseConnection()

    # ------------------------------------------------------------------ sessions

    def start_session(self, protocol: Any, application: str, duration: int) -> Session:
        granted = max(10, min(duration, self.max_session_duration))
        session = Session(secrets.token_hex(8).upper(), protocol, application, granted)
        self.sessions[session.session_id] = session
        self.reset_session_timer(session, granted)
        return session

    def resume_session(self, session_id: str, protocol: Any) -> Session | None:
        session = self.sessions.get(session_id)
        if session is None:
            return None
        old = session.protocol
        session.protocol = protocol
        if old is not None and old is not protocol:
            old.session = None
            old.transport.loseConnection()
        self.reset_session_timer(session, session.duration)
        return session

    def reset_session_timer(self, session: Session, duration: int) -> int:
        session.duration = max(10, min(duration, self.max_session_duration))
        if session.timer is not None and session.timer.active():
            session.timer.cancel()
        session.timer = self.clock.callLater(session.duration, self._session_expired, session)
        return session.duration

    def _session_expired(self, session: Session) -> None:
        session.timer = None
        log.info("session {sid} expired", sid=session.session_id)
        protocol = session.protocol
        self.end_session(session)
        if protocol is not None:
            protocol.transport.loseConnection()

    def end_session(self, session: Session) -> None:
        if session.timer is not None and session.timer.active():
            session.timer.cancel()
        session.timer = None
        self.sessions.pop(session.session_id, None)
        self.drop_subscriber(session)
        if session.protocol is not None:
            session.protocol.session = None
            session.protocol = None

    def drop_subscriber(self, subscriber: Subscriber) -> None:
        for xref in list(subscriber.monitors):
            self.stop_monitor(xref)
        for reg_id in list(subscriber.registrations):
            self.cancel_registration(reg_id)

    # ------------------------------------------------------------------ monitors, routing

    def start_monitor(self, device: str, owner: Subscriber) -> str:
        self.switch.device(device)
        xref = str(next(self._xrefs))
        monitor = Monitor(xref, device, owner)
        self.monitors[xref] = monitor
        self.by_device.setdefault(device, []).append(monitor)
        owner.monitors.add(xref)
        callbacks, self.first_monitor = self.first_monitor, []
        for callback in callbacks:
            callback()
        return xref

    def stop_monitor(self, xref: str) -> Monitor | None:
        monitor = self.monitors.pop(xref, None)
        if monitor is None:
            return None
        watchers = self.by_device.get(monitor.device, [])
        if monitor in watchers:
            watchers.remove(monitor)
        if not watchers:
            self.by_device.pop(monitor.device, None)
        monitor.owner.monitors.discard(xref)
        return monitor

    def register_route(self, device: str | None, owner: Subscriber) -> str:
        reg_id = self.switch.route_register(device)
        self.registrations[reg_id] = owner
        owner.registrations.add(reg_id)
        return reg_id

    def cancel_registration(self, reg_id: str) -> None:
        owner = self.registrations.pop(reg_id, None)
        if owner is not None:
            owner.registrations.discard(reg_id)
        if reg_id in self.switch.registrations:
            self.switch.route_register_cancel(reg_id)

    # ------------------------------------------------------------------ event fan-out

    def hold_events(self) -> None:
        """Queue switch events until `release_events` (a response must precede them)."""
        if self._held is None:
            self._held = []

    def release_events(self) -> None:
        held, self._held = self._held, None
        for event in held or ():
            self.deliver(event)

    def on_switch_event(self, event: SwitchEvent) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self.deliver(event)

    def deliver(self, event: SwitchEvent) -> None:
        self._deliver(event)
        if event.kind == ev.AGENT_LOGGED_ON and event.details.get("state") == AGENT_NOT_READY:
            # ECMA-323's AgentLoggedOnEvent cannot say the state the agent is left in; as real
            # switches do, the state event follows, so an application knows it is notReady.
            self._deliver(replace(event, kind=ev.AGENT_NOT_READY))

    def _deliver(self, event: SwitchEvent) -> None:
        if event.kind in (ev.ROUTE_REQUEST, ev.ROUTE_END):
            owner = self.registrations.get(event.details["registration"])
            if owner is not None and owner.protocol is not None:
                owner.protocol.send_route_message(event)
            return
        by_device = self.by_device
        rendered = None
        for device, state in event.parties:
            watchers = by_device.get(device)
            if not watchers:
                continue
            if rendered is None:
                rendered = eventxml.render(event)
                if rendered is None:
                    return
            for monitor in watchers:
                protocol = monitor.owner.protocol
                if protocol is not None:
                    self.events_sent += 1
                    body = eventxml.assemble(rendered, monitor.xref, state)
                    protocol.transport.write(
                        b"\x00\x00" + (len(body) + HEADER_SIZE).to_bytes(2, "big") + b"9999"
                        + body
                    )
