"""CstaDriver: one link to one ECMA-323 switch, kept up for as long as the driver runs.

Life of a link: connect -> application session (resumed if the switch still knows it) ->
LINK_UP -> MonitorStart for every device, paced (switches throttle bursts) -> `ready()` fires
-> RouteRegister for routing devices -> SnapshotDevice for every device, each emitted as a
snapshot_device Event so the call model can rebuild what it missed. On loss: pending requests
fail with LinkDown, LINK_DOWN is emitted, and we reconnect with exponential backoff; all of it
on the injected reactor, so tests drive it with MemoryReactorClock and StringTransport.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from twisted.internet.defer import Deferred, DeferredList, fail, succeed
from twisted.internet.interfaces import IConnector, IDelayedCall
from twisted.internet.protocol import ClientFactory
from twisted.logger import Logger
from twisted.python.failure import Failure

from cti import events as ev
from cti.events import Event
from drivers.base import DriverError, EventSink, LinkDown
from drivers.csta import codec
from drivers.csta.protocol import CstaProtocol, Decoder, ignore_result
from drivers.csta.services import CstaServices
from drivers.csta.session import STYLES, ApplicationSession

# GetAgentStateResponse's agentState (ECMA-269 names, and the bare ones some switches send).
_AGENT_STATE_EVENTS = {
    "agentReady": ev.AGENT_READY, "ready": ev.AGENT_READY,
    "agentNotReady": ev.AGENT_NOT_READY, "notReady": ev.AGENT_NOT_READY,
    "agentBusy": ev.AGENT_BUSY, "busy": ev.AGENT_BUSY,
    "agentWorkingAfterCall": ev.AGENT_WORKING_AFTER_CALL,
    "workingAfterCall": ev.AGENT_WORKING_AFTER_CALL,
    "agentNull": ev.AGENT_LOGGED_OFF, "loggedOff": ev.AGENT_LOGGED_OFF,
}
_FEATURE_QUERIES = ("GetAgentState", "GetDoNotDisturb", "GetForwarding")


class _LinkFactory(ClientFactory):
    def __init__(self, driver: CstaDriver) -> None:
        self.driver = driver

    def buildProtocol(self, addr: Any) -> CstaProtocol:
        protocol = CstaProtocol(self.driver, self.driver.clock, self.driver.request_timeout)
        protocol.factory = self
        return protocol

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        self.driver._connect_failed(reason)


class CstaDriver(CstaServices):
    """drivers.base.Driver over ECMA-323 XML on TCP.

    `reactor` provides IReactorTCP and IReactorTime (the global reactor in production,
    MemoryReactorClock in tests). `session_style`: "auto", "ecma354" or "system-status".
    `monitor_rate`: MonitorStart / SnapshotDevice requests per second at start-up.
    `parallel_alerting`: the switch honours our ringAll privateData (docs/csta-wire.md), as the
    simulator does; off by default, since a real switch ignores privateData it does not know
    and would ring only the first destination.
    """

    log = Logger()

    def __init__(
        self,
        host: str,
        port: int,
        devices: Iterable[str] = (),
        reactor: Any = None,
        name: str = "csta",
        *,
        session_style: str = "auto",
        session_duration: int = 300,
        request_timeout: float = 10.0,
        monitor_rate: float = 25.0,
        keepalive: float = 30.0,
        application_id: str = "cti-middleware",
        route_devices: Iterable[str] = (),
        connect_timeout: float = 10.0,
        reconnect_initial: float = 1.0,
        reconnect_max: float = 30.0,
        snapshot_on_connect: bool = True,
        parallel_alerting: bool = False,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        if session_style not in STYLES:
            raise ValueError(f"unknown session style {session_style!r} (known: {', '.join(STYLES)})")
        if monitor_rate <= 0:
            raise ValueError("monitor_rate must be positive")
        self.host = host
        self.port = port
        self.name = name
        self.reactor = reactor
        self.clock = reactor
        self.session_style = session_style
        self.session_duration = session_duration
        self.request_timeout = request_timeout
        self.monitor_rate = monitor_rate
        self.keepalive = keepalive
        self.application_id = application_id
        self.connect_timeout = connect_timeout
        self.reconnect_initial = reconnect_initial
        self.reconnect_max = reconnect_max
        self.snapshot_on_connect = snapshot_on_connect
        self.parallel_alerting = parallel_alerting

        self.devices: dict[str, None] = dict.fromkeys(devices)
        self.route_devices: dict[str, None] = dict.fromkeys(route_devices)
        self.monitors: dict[str, str] = {}
        """device -> monitorCrossRefID of the current session."""
        self.failed_monitors: dict[str, str] = {}
        """device -> why MonitorStart failed on the last attempt."""
        self.route_registrations: dict[str, str] = {}
        """routeing device -> routeRegisterReqID."""
        self._device_by_xref: dict[str, str] = {}
        self._routes: dict[str, str] = {}
        self._sinks: list[EventSink] = []
        self._factory = _LinkFactory(self)
        self._connector: IConnector | None = None
        self._protocol: CstaProtocol | None = None
        self._session: ApplicationSession | None = None
        self._session_id: str | None = None
        self._running = False
        self._up = False
        self._ready = False
        self._ever_up = False
        self._delay = reconnect_initial
        self._retry: IDelayedCall | None = None
        self._paced_calls: list[IDelayedCall] = []
        self._ready_waiters: list[Deferred[None]] = []
        self._stop_waiters: list[Deferred[None]] = []
        self._generation = 0
        self._agent_devices: set[str] = set()
        self._features_on: set[tuple[str, str]] = set()
        """(device, feature) this link has reported active: do_not_disturb or a forwarding
        type. A resync reports a feature that is off only if it had been reported on."""
        """Devices this link last reported an agent logged on at."""

    # -- Driver life cycle ---------------------------------------------------------------------

    def add_sink(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    @property
    def connected(self) -> bool:
        return self._up

    @property
    def session_id(self) -> str | None:
        return self._session_id

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._connect()

    def ready(self) -> Deferred[None]:
        """Fires once the link is up and every device's MonitorStart has been answered.

        Fails with LinkDown if a connection attempt fails before the link was ever up (the
        driver keeps retrying in the background until stopped); a caller that wants to give
        up then calls stop().
        """
        if self._ready:
            return succeed(None)
        deferred: Deferred[None] = Deferred()
        self._ready_waiters.append(deferred)
        return deferred

    def stop(self) -> Deferred[None]:
        """End the session politely, close the link, stop reconnecting."""
        self._running = False
        if self._retry is not None and self._retry.active():
            self._retry.cancel()
        self._retry = None
        self._cancel_paced()
        self._fire_ready(LinkDown("start", "driver stopped"))
        if self._protocol is None:
            if self._connector is not None and self._connecting():
                self._connector.stopConnecting()
            return succeed(None)
        protocol = self._protocol
        waiter: Deferred[None] = Deferred()
        self._stop_waiters.append(waiter)
        session = self._session
        closing = session.close() if session is not None and self._up else succeed(None)
        closing.addBoth(lambda _: protocol.transport.loseConnection())
        return waiter

    def _connecting(self) -> bool:
        return getattr(self._connector, "state", None) == "connecting"

    def _connect(self) -> None:
        self._retry = None
        if not self._running:
            return
        self.log.info("connecting to CSTA switch {host}:{port}", host=self.host, port=self.port)
        self._connector = self.reactor.connectTCP(
            self.host, self.port, self._factory, timeout=self.connect_timeout
        )

    def _schedule_reconnect(self) -> None:
        if not self._running or self._retry is not None:
            return
        delay, self._delay = self._delay, min(self._delay * 2, self.reconnect_max)
        self.log.info("reconnecting to {host}:{port} in {delay:g} s",
                      host=self.host, port=self.port, delay=delay)
        self._retry = self.clock.callLater(delay, self._connect)

    def _connect_failed(self, reason: Failure) -> None:
        why = f"cannot connect to {self.host}:{self.port}: {reason.getErrorMessage()}"
        self.log.warn("{why}", why=why)
        if not self._ever_up:
            self._fire_ready(LinkDown(f"link {self.name}", why))
        self._schedule_reconnect()

    # -- CstaHandler: what the protocol tells us -----------------------------------------------

    def csta_connected(self, protocol: CstaProtocol) -> None:
        self._protocol = protocol
        self._generation += 1
        session = ApplicationSession(
            protocol, self.clock, style=self.session_style, application_id=self.application_id,
            duration=self.session_duration, keepalive=self.keepalive,
            previous_session=self._session_id,
        )
        self._session = session
        session.open().addCallbacks(
            self._session_open, self._session_failed,
            callbackArgs=(protocol,), errbackArgs=(protocol,),
        )

    def _session_failed(self, failure: Failure, protocol: CstaProtocol) -> None:
        if protocol is self._protocol and not failure.check(LinkDown):
            protocol.drop(f"no application session: {failure.getErrorMessage()}")

    def _session_open(self, resumed: bool, protocol: CstaProtocol) -> None:
        if protocol is not self._protocol:
            return
        assert self._session is not None
        self._session_id = self._session.session_id
        self._up = True
        self._ever_up = True
        self._delay = self.reconnect_initial
        self.log.info("CSTA link {name} up ({style}, session {session}, resumed {resumed})",
                      name=self.name, style=self._session.active_style,
                      session=self._session_id, resumed=resumed)
        self._emit(Event(ev.LINK_UP, self._now(), data={
            "session_id": self._session_id, "resumed": resumed,
            "style": self._session.active_style,
        }))
        if not resumed:
            self.monitors.clear()
            self._device_by_xref.clear()
            self.route_registrations.clear()
        wanted = [device for device in self.devices if device not in self.monitors]
        generation = self._generation
        monitoring = self._paced(wanted, self._start_monitor)
        monitoring.addCallback(lambda _: self._monitors_done(generation))

    def _monitors_done(self, generation: int) -> None:
        if generation != self._generation or not self._up:
            return
        self._ready = True
        self._fire_ready(None)
        for device in self.route_devices:
            if device not in self.route_registrations:
                self.route_register(device).addErrback(self._log_failure, "RouteRegister")
        if self.snapshot_on_connect:
            self._paced(list(self.devices), self._resync_device)

    def csta_disconnected(self, protocol: CstaProtocol, reason: Failure) -> None:
        if protocol is not self._protocol:
            return
        self._protocol = None
        if self._session is not None:
            self._session.stop_timers()
        self._session = None
        self._cancel_paced()
        was_up, self._up, self._ready = self._up, False, False
        self._routes.clear()
        why = protocol.lost_reason or (
            reason.getErrorMessage() if reason is not None else "connection lost")
        if was_up:
            self._emit(Event(ev.LINK_DOWN, self._now(), reason=why))
        elif not self._ever_up:
            self._fire_ready(LinkDown(
                f"link {self.name}",
                f"{self.host}:{self.port} closed the link before a session was established: {why}",
            ))
        waiters, self._stop_waiters = self._stop_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        self._schedule_reconnect()

    def csta_event(self, root: etree._Element, name: str, body: bytes) -> None:
        event = codec.decode_event(root, self._now(), name, body)
        if event.event == ev.ROUTE_END:
            self._routes.pop(event.cross_ref or "", None)
        elif event.cross_ref is not None:
            event.monitor = self._device_by_xref.get(event.cross_ref)
        codec.attribute_local_state(event)
        self._emit(event)

    def csta_route_request(self, root: etree._Element, invoke_id: str) -> None:
        event = codec.decode_event(root, self._now(), "RouteRequest")
        register_id = event.data.get("route_register_id")
        if event.cross_ref is not None and register_id is not None:
            self._routes[event.cross_ref] = register_id
        self._emit(event)

    # -- monitoring ----------------------------------------------------------------------------

    def monitor_start(self, device: str) -> Deferred[str]:
        """Monitor one more device, now and after every reconnect; fires with the cross-ref."""
        self.devices[device] = None
        return self._start_monitor(device)

    def _start_monitor(self, device: str) -> Deferred[str]:
        def started(cross_ref: str) -> str:
            self.monitors[device] = cross_ref
            self._device_by_xref[cross_ref] = device
            self.failed_monitors.pop(device, None)
            return cross_ref

        def failed(failure: Failure) -> Failure:
            self.failed_monitors[device] = failure.getErrorMessage()
            return failure

        return self._monitor_request(device).addCallbacks(started, failed)

    def monitor_stop(self, device: str) -> Deferred[None]:
        self.devices.pop(device, None)
        cross_ref = self.monitors.pop(device, None)
        if cross_ref is None:
            return succeed(None)
        self._device_by_xref.pop(cross_ref, None)
        return self._monitor_stop_request(cross_ref)

    def _resync_device(self, device: str) -> Deferred[Any]:
        """Ask for everything about `device` that may have changed unseen, snapshot last.

        The queries go out together and a switch answers in order, so the snapshot_device
        event comes after the agent and feature events: whoever waits for a device's snapshot
        finds it resynchronised. A refused query (a trunk has no agent; a switch without
        GetForwarding) only costs that part.
        """
        now = self._now
        queries = [
            self.get_agent_state(device).addCallback(self._agent_events, device, now),
            self.get_do_not_disturb(device).addCallback(self._do_not_disturb_events, device, now),
            self.get_forwarding(device).addCallback(self._forwarding_events, device, now),
        ]
        for query, service in zip(queries, _FEATURE_QUERIES, strict=True):
            query.addCallbacks(self._emit_all, self._log_refusal, errbackArgs=(service, device))
        snapshot = self.snapshot_device(device).addCallbacks(
            self._emit, self._log_failure, errbackArgs=("SnapshotDevice",)
        )
        return DeferredList([*queries, snapshot])

    def _agent_events(
        self, result: dict[str, Any], device: str, now: Callable[[], float]
    ) -> list[Event]:
        """GetAgentState as the agent events that would have brought the device there.

        A device without an agent yields a log-off only if this link had reported an agent
        there: every extension is "not logged on" most of the time, and saying so at each
        reconnect would be noise.
        """
        events = []
        for agent in result["agents"]:
            kind = _AGENT_STATE_EVENTS.get(agent["state"] or "")
            if agent["logged_on"] is False or kind == ev.AGENT_LOGGED_OFF:
                if device not in self._agent_devices:
                    continue
                kind = ev.AGENT_LOGGED_OFF
            elif kind is None:
                if not agent["logged_on"]:
                    continue
                kind = ev.AGENT_LOGGED_ON
            reason = agent.get("reason") if kind == ev.AGENT_NOT_READY else None
            events.append(Event(kind, now(), device=device, monitor=device,
                                agent_id=agent["agent_id"], reason=reason))
        return events

    def _do_not_disturb_events(
        self, on: bool, device: str, now: Callable[[], float]
    ) -> list[Event]:
        """Do-not-disturb as an event, when it is on or was reported on before (not noise)."""
        if not on and (device, ev.DO_NOT_DISTURB) not in self._features_on:
            return []
        return [Event(ev.DO_NOT_DISTURB, now(), device=device, monitor=device,
                      data={"do_not_disturb": codec.boolean(on)})]

    def _forwarding_events(
        self, items: list[dict[str, Any]], device: str, now: Callable[[], float]
    ) -> list[Event]:
        """Each forwarding type that is active, or was reported active before, as an event."""
        return [
            Event(ev.FORWARDING, now(), device=device, monitor=device,
                  data={key: value for key, value in item.items() if value is not None})
            for item in items
            if item["forwarding_type"] and item["forward_status"] and (
                item["forward_status"] == "true"
                or (device, item["forwarding_type"]) in self._features_on
            )
        ]

    def _emit_all(self, events: list[Event]) -> None:
        for event in events:
            self._emit(event)

    def _log_refusal(self, failure: Failure, service: str, device: str) -> None:
        self.log.info("{service} {device} refused: {error}", service=service, device=device,
                      error=failure.getErrorMessage())

    def _paced(
        self, items: Sequence[str], action: Callable[[str], Deferred[Any]]
    ) -> Deferred[list[Any]]:
        """Run `action` on each item at `monitor_rate` per second; fires when all answered."""
        results: list[Deferred[Any]] = []
        done: Deferred[list[Any]] = Deferred()
        interval = 1.0 / self.monitor_rate

        def finish() -> None:
            DeferredList(results, consumeErrors=True).chainDeferred(done)

        def step(index: int) -> None:
            results.append(action(items[index]))
            if index + 1 < len(items):
                call = self.clock.callLater(interval, step, index + 1)
                self._paced_calls.append(call)
            else:
                finish()

        if items:
            step(0)
        else:
            finish()
        return done

    def _cancel_paced(self) -> None:
        calls, self._paced_calls = self._paced_calls, []
        for call in calls:
            if call.active():
                call.cancel()

    # -- routing -------------------------------------------------------------------------------

    def route_register(self, device: str) -> Deferred[str]:
        """Register as routing server for `device` (a pilot number); fires with the reg ID."""
        self.route_devices[device] = None

        def registered(register_id: str) -> str:
            self.route_registrations[device] = register_id
            return register_id

        return self._route_register_request(device).addCallback(registered)

    def route_register_cancel(self, device: str) -> Deferred[None]:
        self.route_devices.pop(device, None)
        register_id = self.route_registrations.pop(device, None)
        if register_id is None:
            return succeed(None)
        return self._route_register_cancel_request(register_id)

    def route_select(
        self, cross_ref: str, destination: str, also: Sequence[str] = ()
    ) -> Deferred[None]:
        refused = self._refuse_parallel("RouteSelect", also)
        if refused is not None:
            return refused
        register_id = self._routes.get(cross_ref)
        if register_id is None:
            return fail(DriverError("RouteSelect", f"no open route request {cross_ref!r}",
                                    "invalidCrossRefID"))
        return self._route_select_request(register_id, cross_ref, destination, also)

    def route_end(self, cross_ref: str) -> Deferred[None]:
        register_id = self._routes.pop(cross_ref, None)
        if register_id is None:
            return fail(DriverError("RouteEnd", f"no open route request {cross_ref!r}",
                                    "invalidCrossRefID"))
        return self._route_end_request(register_id, cross_ref)

    # -- plumbing ------------------------------------------------------------------------------

    def _call(
        self, service: str, body: bytes, decode: Decoder | None = ignore_result
    ) -> Deferred[Any]:
        if self._protocol is None:
            return fail(LinkDown(service, f"link {self.name} is down"))
        return self._protocol.request(service, body, decode)

    def _now(self) -> float:
        return self.clock.seconds()

    def _emit(self, event: Event) -> None:
        event.link = self.name
        if event.event in ev.AGENT_EVENTS and event.device is not None:
            if event.event == ev.AGENT_LOGGED_OFF:
                self._agent_devices.discard(event.device)
            else:
                self._agent_devices.add(event.device)
        elif event.event in (ev.DO_NOT_DISTURB, ev.FORWARDING) and event.device is not None:
            self._remember_feature(event)
        for sink in self._sinks:
            try:
                sink(event)
            except Exception:
                self.log.failure("event sink failed on {event}", event=event.event)

    def _remember_feature(self, event: Event) -> None:
        if event.event == ev.DO_NOT_DISTURB:
            key, on = ev.DO_NOT_DISTURB, event.data.get("do_not_disturb")
        else:
            key, on = event.data.get("forwarding_type"), event.data.get("forward_status")
        if key is None:
            return
        if on == "true":
            self._features_on.add((event.device, key))
        else:
            self._features_on.discard((event.device, key))

    def _fire_ready(self, error: Exception | None) -> None:
        waiters, self._ready_waiters = self._ready_waiters, []
        for waiter in waiters:
            if error is None:
                waiter.callback(None)
            else:
                waiter.errback(error)

    def _log_failure(self, failure: Failure, service: str) -> None:
        self.log.warn("{service} failed: {error}", service=service,
                      error=failure.getErrorMessage())


def create_driver(
    url: str, *, name: str = "csta", devices: Iterable[str] = (), reactor: Any = None,
    **options: Any,
) -> CstaDriver:
    """The driver for ``csta://HOST:PORT`` (the URL-scheme factory convention of the links)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "csta" or not parts.hostname or not port:
        raise ValueError(f"expected csta://HOST:PORT, got {url!r}")
    return CstaDriver(parts.hostname, port, devices, reactor, name, **options)
