"""The serial-link PBX driver: a drivers.base.Driver over the link layer and a dialect.

Bytes -> link.py (frames, ACK/NAK, retransmission) -> dialect (text -> neutral Message) -> here
(Message -> cti.events.Event with the same field meanings as the CSTA driver: `device` per
event, numbers through cti.numbers.normalize_device, call IDs as strings) -> sinks.
Commands go the other way and return Deferreds that fail with DriverError (the PBX said no,
or did not answer in time) or LinkDown (the link is not up).

The driver owns reconnection: when the port cannot be opened or the link drops, it emits
link_down, fails what was pending, and tries again after `reconnect_delay`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from twisted.internet import defer
from twisted.internet.interfaces import IDelayedCall
from twisted.python import log

from cti import events as ev
from cti.numbers import normalize_device
from drivers.base import DriverError, EventSink, LinkDown
from drivers.serial.dialects import EVENT, REQUEST, RESPONSE, DialectError, Message, get_dialect
from drivers.serial.link import LinkProtocol, LinkStats
from drivers.serial.transport import LinkAddress, open_link, parse_link_url

_NUMBER_FIELDS = ("device", "calling", "called")
_TARGET_KEYS = {
    ev.TRANSFERRED: "transferred_to", ev.CONFERENCED: "added_party", ev.DIVERTED: "new_destination",
}
"""Where the T field of an event goes in Event.data: the keys the CSTA driver uses."""


class _DriverLink(LinkProtocol):
    """The link protocol, telling its driver when the connection itself goes away."""

    def __init__(self, driver: SerialDriver, **options: Any) -> None:
        super().__init__(
            driver._on_text, driver.clock, on_state=driver._on_link_state,
            report=driver._report, **options,
        )
        self.driver = driver

    def connectionMade(self) -> None:
        if not self.driver._running or self.driver._link is not self:
            self.transport.loseConnection()  # stopped while the port was opening
            return
        super().connectionMade()

    def connectionLost(self, reason: Any = None) -> None:
        super().connectionLost(reason)
        self.driver._on_connection_lost(self)


class SerialDriver:
    """One serial CTI link to one PBX (``serial://`` or ``serial+tcp://``).

    `devices` are monitored (MON) every time the link comes up, as are devices added later
    with monitor_start. `reactor` opens the port and is the clock unless `clock` is given
    (tests pass task.Clock for the protocol timers while the reactor does the I/O).
    """

    def __init__(
        self,
        name: str,
        url: str,
        *,
        devices: Iterable[str] = (),
        reactor: Any = None,
        clock: Any = None,
        dialect: str | None = None,
        request_timeout: float = 10.0,
        reconnect_delay: float = 5.0,
        t1: float = 2.0,
        retries: int = 4,
        keepalive: float = 30.0,
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.name = name
        self.address: LinkAddress = parse_link_url(url)
        self.dialect = get_dialect(dialect or self.address.options.get("dialect", "generic"))
        self.reactor = reactor
        self.clock = clock or reactor
        self.request_timeout = request_timeout
        self.reconnect_delay = reconnect_delay
        self._link_options = {"t1": t1, "retries": retries, "keepalive": keepalive}
        self._sinks: list[EventSink] = []
        self._link: _DriverLink | None = None
        self._pending: dict[str, tuple[str, defer.Deferred, IDelayedCall]] = {}
        self._next_invoke = 0
        self._monitored: dict[str, None] = dict.fromkeys(devices)
        self._running = False
        self._reconnect: IDelayedCall | None = None
        self._stop_waiters: list[defer.Deferred] = []
        self._ready = False
        self._ready_waiters: list[defer.Deferred] = []
        self.failed_monitors: dict[str, str] = {}
        """Devices whose MON the PBX refused at the last link-up, with its reason."""

    # Life cycle.

    def add_sink(self, sink: EventSink) -> None:
        self._sinks.append(sink)

    @property
    def connected(self) -> bool:
        return self._link is not None and self._link.up

    @property
    def link_stats(self) -> LinkStats | None:
        """Counters of the current connection's link layer (None while there is none)."""
        return self._link.stats if self._link is not None else None

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._open()

    def ready(self) -> defer.Deferred[None]:
        """Fires once the link is up and every device's MON has been answered (refusals are in
        failed_monitors). Fails with LinkDown if the port cannot be opened before the link was
        ever up, or the driver is stopped; the driver itself keeps retrying until stopped."""
        if self._ready:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._ready_waiters.append(waiter)
        return waiter

    def _fire_ready(self, error: Exception | None = None) -> None:
        waiters, self._ready_waiters = self._ready_waiters, []
        if error is None:
            self._ready = True
        for waiter in waiters:
            if error is None:
                waiter.callback(None)
            else:
                waiter.errback(error)

    def stop(self) -> defer.Deferred[None]:
        self._running = False
        self._fire_ready(LinkDown("start", "driver stopped"))
        if self._reconnect is not None and self._reconnect.active():
            self._reconnect.cancel()
        self._reconnect = None
        link = self._link
        if link is None or link.transport is None or link.closed:
            return defer.succeed(None)
        waiter: defer.Deferred[None] = defer.Deferred()
        self._stop_waiters.append(waiter)
        if len(self._stop_waiters) == 1:
            link.stop()
        return waiter

    def _open(self) -> None:
        link = _DriverLink(self, **self._link_options)
        self._link = link
        opened = open_link(self.address, link, self.reactor)
        opened.addErrback(self._open_failed, link)

    def _open_failed(self, reason: Any, link: _DriverLink) -> None:
        why = f"cannot open {self.address.describe()}: {reason.getErrorMessage()}"
        self._report(why)
        if not self._ready:
            self._fire_ready(LinkDown("start", why))
        if self._link is link:
            self._link = None
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        if self._running and (self._reconnect is None or not self._reconnect.active()):
            self._reconnect = self.reactor.callLater(self.reconnect_delay, self._reconnect_now)

    def _reconnect_now(self) -> None:
        self._reconnect = None
        if self._running and self._link is None:
            self._open()

    def _on_connection_lost(self, link: _DriverLink) -> None:
        if self._link is link:
            self._link = None
        waiters, self._stop_waiters = self._stop_waiters, []
        for waiter in waiters:
            waiter.callback(None)
        self._schedule_reconnect()

    def _on_link_state(self, up: bool) -> None:
        self._emit(ev.Event(ev.LINK_UP if up else ev.LINK_DOWN, self.clock.seconds(), link=self.name))
        if up:
            answers = [
                self._request("monitor_start", device=device).addCallbacks(
                    self._monitored_ok, self._monitor_failed, callbackArgs=(device,),
                    errbackArgs=(device,),
                )
                for device in list(self._monitored)
            ]
            defer.DeferredList(answers).addCallback(lambda _: self._fire_ready())
        else:
            self._fail_pending(LinkDown("link", f"link {self.name} is down"))

    def _monitored_ok(self, _: object, device: str) -> None:
        self.failed_monitors.pop(device, None)

    def _monitor_failed(self, failure: Any, device: str) -> None:
        self.failed_monitors[device] = failure.getErrorMessage()
        self._report(f"monitoring {device} failed: {failure.getErrorMessage()}")

    def _report(self, message: str) -> None:
        log.msg(f"serial link {self.name}: {message}")

    # Incoming.

    def _on_text(self, text: str) -> None:
        try:
            message = self.dialect.parse(text)
        except DialectError as exc:
            self._report(f"unreadable message skipped: {exc}")
            return
        if message.kind == EVENT:
            self._emit(self.to_event(message))
        elif message.kind == RESPONSE:
            self._on_response(message)
        elif message.kind == REQUEST:
            self._report(f"the PBX sent a request ({message.name}); not served by this driver")

    def to_event(self, message: Message) -> ev.Event:
        """The normalised event of one dialect event message."""
        fields = message.fields
        event = ev.Event(
            message.name,
            self.clock.seconds(),
            call_id=fields.get("call_id"),
            device=normalize_device(fields.get("device")),
            calling=normalize_device(fields.get("calling")),
            called=normalize_device(fields.get("called")),
            link=self.name,
            cause=fields.get("cause"),
            agent_id=fields.get("agent_id"),
            reason=fields.get("reason"),
        )
        for key in _NUMBER_FIELDS:
            raw = fields.get(key)
            if raw is not None and raw != getattr(event, key):
                setattr(event, "raw_" + key, raw)
        if message.name in (ev.TRANSFERRED, ev.CONFERENCED):
            event.old_call_ids = tuple(c for c in fields.get("old_call_ids", "").split(",") if c)
        if "to" in fields:
            key = _TARGET_KEYS.get(message.name, "to")
            event.data[key] = normalize_device(fields["to"]) or fields["to"]
        if event.device in self._monitored:
            event.monitor = event.device
        return event

    def _emit(self, event: ev.Event) -> None:
        for sink in list(self._sinks):
            try:
                sink(event)
            except Exception as exc:  # one broken consumer must not starve the others
                self._report(f"event sink failed on {event.event}: {type(exc).__name__}: {exc}")

    def _on_response(self, message: Message) -> None:
        entry = self._pending.pop(message.invoke_id or "", None)
        if entry is None:
            self._report(f"answer to unknown request {message.invoke_id} ({message.name}) ignored")
            return
        service, done, timer = entry
        if timer.active():
            timer.cancel()
        if message.ok:
            done.callback(message.fields)
        else:
            fields = message.fields
            text = fields.get("reason") or fields.get("cause") or "refused by the PBX"
            done.errback(DriverError(service, text, fields.get("cause")))

    # Outgoing.

    def _request(self, service: str, **fields: str | None) -> defer.Deferred[dict[str, str]]:
        if service not in self.dialect.services:
            return defer.fail(
                DriverError(service, f"not supported by the serial link (dialect {self.dialect.name})")
            )
        link = self._link
        if link is None or not link.up:
            return defer.fail(LinkDown(service, f"link {self.name} is down"))
        self._next_invoke = self._next_invoke % 9999 + 1
        invoke = str(self._next_invoke)
        message = Message(REQUEST, service, {k: v for k, v in fields.items() if v is not None},
                          invoke_id=invoke)
        try:
            text = self.dialect.format(message)
        except DialectError as exc:
            return defer.fail(DriverError(service, str(exc)))
        done: defer.Deferred[dict[str, str]] = defer.Deferred()
        timer = self.clock.callLater(self.request_timeout, self._timed_out, invoke)
        self._pending[invoke] = (service, done, timer)
        link.send(text).addErrback(self._send_failed, invoke)
        return done

    def _timed_out(self, invoke: str) -> None:
        entry = self._pending.pop(invoke, None)
        if entry is not None:
            service, done, _ = entry
            done.errback(DriverError(service, f"no answer from the PBX within {self.request_timeout:g} s"))

    def _send_failed(self, reason: Any, invoke: str) -> None:
        entry = self._pending.pop(invoke, None)
        if entry is not None:
            service, done, timer = entry
            if timer.active():
                timer.cancel()
            error = reason.value if isinstance(reason.value, DriverError) else None
            done.errback(LinkDown(service, error.args[0] if error else reason.getErrorMessage()))

    def _fail_pending(self, error: DriverError) -> None:
        pending, self._pending = self._pending, {}
        for service, done, timer in pending.values():
            if timer.active():
                timer.cancel()
            done.errback(LinkDown(service, str(error)))

    # drivers.base.Driver commands.

    def monitor_start(self, device: str) -> defer.Deferred[str]:
        self._monitored[device] = None
        return self._request("monitor_start", device=device).addCallback(lambda _: device)

    def monitor_stop(self, device: str) -> defer.Deferred[None]:
        self._monitored.pop(device, None)
        return self._request("monitor_stop", device=device).addCallback(_none)

    def monitor_devices(self, devices: Iterable[str]) -> defer.Deferred[list]:
        """Monitors each device (the server's `devices` list); fires when all have answered."""
        return defer.DeferredList(
            [self.monitor_start(device) for device in devices], consumeErrors=True
        )

    def snapshot_device(self, device: str) -> defer.Deferred[ev.Event]:
        """The device's calls and its connection state in each, as a snapshot_device Event."""

        def result(fields: dict[str, str]) -> ev.Event:
            parties = tuple(
                ev.Party(call_id, normalize_device(device), state, device)
                for call_id, state in _parties(fields.get("parties", ""))
            )
            return ev.Event(ev.SNAPSHOT_DEVICE, self.clock.seconds(), device=normalize_device(device),
                            monitor=device, link=self.name, parties=parties)

        return self._request("snapshot_device", device=device).addCallback(result)

    def snapshot_call(self, call_id: str) -> defer.Deferred[ev.Event]:
        """The call's devices and their connection states, as a snapshot_call Event."""

        def result(fields: dict[str, str]) -> ev.Event:
            parties = tuple(
                ev.Party(call_id, normalize_device(device), state, device)
                for device, state in _parties(fields.get("parties", ""))
            )
            return ev.Event("snapshot_call", self.clock.seconds(), call_id=call_id,
                            link=self.name, parties=parties)

        return self._request("snapshot_call", call_id=call_id).addCallback(result)

    def make_call(self, calling: str, called: str) -> defer.Deferred[str]:
        return self._request("make_call", device=calling, called=called).addCallback(_call_id)

    def answer_call(self, call_id: str, device: str) -> defer.Deferred[None]:
        return self._request("answer_call", call_id=call_id, device=device).addCallback(_none)

    def clear_connection(self, call_id: str, device: str) -> defer.Deferred[None]:
        return self._request("clear_connection", call_id=call_id, device=device).addCallback(_none)

    def clear_call(self, call_id: str) -> defer.Deferred[None]:
        return self._request("clear_call", call_id=call_id).addCallback(_none)

    def hold_call(self, call_id: str, device: str) -> defer.Deferred[None]:
        return self._request("hold_call", call_id=call_id, device=device).addCallback(_none)

    def retrieve_call(self, call_id: str, device: str) -> defer.Deferred[None]:
        return self._request("retrieve_call", call_id=call_id, device=device).addCallback(_none)

    def consultation_call(self, call_id: str, device: str, called: str) -> defer.Deferred[str]:
        return self._request(
            "consultation_call", call_id=call_id, device=device, called=called
        ).addCallback(_call_id)

    def transfer_call(self, held_call: str, active_call: str, device: str) -> defer.Deferred[str]:
        return self._request(
            "transfer_call", held_call=held_call, call_id=active_call, device=device
        ).addCallback(_call_id)

    def conference_call(self, held_call: str, active_call: str, device: str) -> defer.Deferred[str]:
        return self._request(
            "conference_call", held_call=held_call, call_id=active_call, device=device
        ).addCallback(_call_id)

    def alternate_call(self, held_call: str, active_call: str, device: str) -> defer.Deferred[None]:
        return self._request(
            "alternate_call", held_call=held_call, call_id=active_call, device=device
        ).addCallback(_none)

    def reconnect_call(self, held_call: str, active_call: str, device: str) -> defer.Deferred[None]:
        return self._request(
            "reconnect_call", held_call=held_call, call_id=active_call, device=device
        ).addCallback(_none)

    def deflect_call(self, call_id: str, device: str, to: str) -> defer.Deferred[None]:
        return self._request("deflect_call", call_id=call_id, device=device, to=to).addCallback(_none)

    def single_step_transfer(self, call_id: str, device: str, to: str) -> defer.Deferred[str]:
        return self._request(
            "single_step_transfer", call_id=call_id, device=device, to=to
        ).addCallback(_call_id)

    def single_step_conference(
        self, call_id: str, device: str, joining: str, mode: str = "active"
    ) -> defer.Deferred[str]:
        return self._request(
            "single_step_conference", call_id=call_id, device=device, to=joining, mode=mode
        ).addCallback(_call_id)

    def generate_digits(self, call_id: str, device: str, digits: str) -> defer.Deferred[None]:
        return self._request(
            "generate_digits", call_id=call_id, device=device, digits=digits
        ).addCallback(_none)

    def set_agent_state(
        self, device: str, state: str, agent_id: str | None = None,
        password: str | None = None, group: str | None = None, reason: str | None = None,
    ) -> defer.Deferred[None]:
        return self._request(
            "set_agent_state", device=device, state=state, agent_id=agent_id, reason=reason,
            password=password, group=group,
        ).addCallback(_none)

    def get_agent_state(self, device: str) -> defer.Deferred[dict[str, Any]]:
        return self._request("get_agent_state", device=device)

    def set_do_not_disturb(self, device: str, on: bool) -> defer.Deferred[None]:
        return self._request(
            "set_do_not_disturb", device=device, on="1" if on else "0"
        ).addCallback(_none)

    def set_forwarding(
        self, device: str, on: bool, to: str | None = None, kind: str = "immediate"
    ) -> defer.Deferred[None]:
        return self._request(
            "set_forwarding", device=device, on="1" if on else "0", to=to, kind=kind
        ).addCallback(_none)

    def route_select(self, cross_ref: str, destination: str) -> defer.Deferred[None]:
        return self._request("route_select", cross_ref=cross_ref, to=destination).addCallback(_none)

    def route_end(self, cross_ref: str) -> defer.Deferred[None]:
        return self._request("route_end", cross_ref=cross_ref).addCallback(_none)


def _parties(text: str) -> list[tuple[str, str | None]]:
    """``4711:connected,4712:hold`` as pairs; a state the protocol does not name becomes None."""
    pairs = []
    for item in text.split(","):
        if item:
            key, _, state = item.rpartition(":")
            if not key:
                key, state = state, ""
            pairs.append((key, state if state in ev.CONNECTION_STATES else None))
    return pairs


def _none(_: object) -> None:
    return None


def _call_id(fields: dict[str, str]) -> str:
    call_id = fields.get("call_id")
    if not call_id:
        raise DriverError("request", "the PBX confirmed without naming the call")
    return call_id
