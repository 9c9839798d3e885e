"""The serial-link front-end of the simulated switch: the PBX side of the link protocol.

One switch, one serial port. The port is a pty (the driver opens its slave as a serial
device) or a TCP server standing in for a terminal server (``serial+tcp://``). Under it the
bytes pass a SimulatedLine (pacing at the baud rate, injected faults); above it the link layer
of drivers/serial/link.py runs with ``keep_unacknowledged`` so no event is ever given up, and
the generic dialect turns texts into requests and switch events into event texts.

Monitors belong to the port, not to a connection, as on a real PBX: a terminal-server
connection that drops and comes back finds its monitors in place, and event texts that could
not be delivered on the old connection (and those produced while there was none) go out first
on the next one, in order.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python.failure import Failure

from drivers.base import LinkDown
from drivers.serial.dialects import REQUEST, RESPONSE, DialectError, Message, get_dialect
from drivers.serial.link import LinkProtocol
from drivers.serial.transport import PtyPort
from simulators.pbx import events as ev
from simulators.pbx.errors import SwitchError
from simulators.pbx.events import SwitchEvent
from simulators.pbx.switch import Switch
from simulators.serial.line import NO_FAULTS, Faults, SimulatedLine
from simulators.serial.messages import error_code, render
from simulators.serial.requests import execute

log = Logger()

FRAME_OVERHEAD = 5
"""STX, the sequence digit, ETX and two BCC digits around each frame's text."""
BACKLOG_LIMIT = 10_000
"""Event texts kept while no host is connected; the oldest go first past this."""


class SerialFrontEnd:
    """Serves `switch` on one serial link. `baud` None: unpaced; `faults` at `seed`."""

    def __init__(
        self,
        switch: Switch,
        clock: Any = None,
        *,
        dialect: str = "generic",
        baud: int | None = 115200,
        faults: Faults = NO_FAULTS,
        seed: int | None = 0,
        t1: float = 2.0,
        retries: int = 4,
        keepalive: float = 30.0,
    ) -> None:
        self.switch = switch
        self.clock = clock if clock is not None else switch.clock
        self.dialect = get_dialect(dialect)
        self.baud = baud
        self.faults = faults
        self.seed = seed
        self.link_options = {"t1": t1, "retries": retries, "keepalive": keepalive}
        self.monitored: set[str] = set()
        self.link: LinkProtocol | None = None
        self.line: SimulatedLine | None = None
        self.backlog: deque[str] = deque(maxlen=BACKLOG_LIMIT)
        self.events_sent = 0
        self.event_frame_bytes = 0
        """Bytes the event frames take on the wire (STX, seq, text, ETX, BCC), for the bench."""
        self.requests_served = 0
        self._held: list[SwitchEvent] | None = None
        self._connections = 0
        switch.subscribe(self.on_switch_event)

    def close(self) -> None:
        """Stop listening to the switch and drop the line (the port stays the caller's)."""
        self.switch.unsubscribe(self.on_switch_event)
        if self.link is not None and not self.link.closed:
            self.link.stop()

    # ------------------------------------------------------------------ lines

    def new_line(self, *, can_disconnect: bool) -> SimulatedLine:
        """A line with a fresh link layer on it; it becomes THE line when it connects."""
        link = _PbxLink(self, **self.link_options)
        seed = None if self.seed is None else self.seed + self._connections
        self._connections += 1
        line = SimulatedLine(link, self.clock, baud=self.baud, faults=self.faults, seed=seed,
                             can_disconnect=can_disconnect)
        link.line = line
        return line

    def attach(self, link: _PbxLink) -> None:
        old = self.link
        self.link, self.line = link, link.line
        if old is not None and old is not link and not old.closed:
            old.transport.loseConnection()  # one cable per port: the newest host wins
        backlog, self.backlog = list(self.backlog), deque(maxlen=BACKLOG_LIMIT)
        for text in backlog:
            self._send(text)

    def detach(self, link: _PbxLink) -> None:
        if self.link is link:
            self.link = None

    # ------------------------------------------------------------------ events

    def on_switch_event(self, event: SwitchEvent) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self.deliver(event)

    def deliver(self, event: SwitchEvent) -> None:
        monitored = self.monitored
        if not monitored:
            return
        if event.call_id is None:
            seen = event.device in monitored
        else:
            seen = any(device in monitored for device, _ in event.parties)
        if not seen or event.kind in (ev.ROUTE_REQUEST, ev.ROUTE_END):
            return
        message = render(event)
        if message is not None:
            text = self.dialect.format(message)
            self.events_sent += 1
            self.event_frame_bytes += len(text) + FRAME_OVERHEAD
            self._send(text)

    def _send(self, text: str) -> None:
        link = self.link
        if link is None:
            self.backlog.append(text)
            return
        link.send(text).addErrback(self._unsent, text)

    def _unsent(self, failure: Failure, text: str) -> None:
        """The connection went away under the frame: it goes out on the current one (a host
        that replaced it) or, when there is none, on the next."""
        if failure.check(LinkDown):
            self._send(text)
        else:
            log.error("event text not sendable, dropped: {text!r}: {error}", text=text,
                      error=failure.getErrorMessage())

    # ------------------------------------------------------------------ requests

    def on_text(self, text: str) -> None:
        try:
            message = self.dialect.parse(text)
        except DialectError as exc:
            log.warn("unreadable message from the host skipped: {error}", error=exc)
            self._refuse_unknown(text, str(exc))
            return
        if message.kind != REQUEST:
            log.warn("the host sent a {kind}, not a request: {text!r}", kind=message.kind,
                     text=text)
            return
        self.requests_served += 1
        self._held = []
        try:
            try:
                fields = execute(self.switch, message.name, dict(message.fields), self.monitored)
            except SwitchError as exc:
                answer = Message(RESPONSE, message.name, {"cause": error_code(exc),
                                 "reason": _printable(str(exc))}, message.invoke_id, ok=False)
            else:
                answer = Message(RESPONSE, message.name, fields, message.invoke_id)
            self._send(self.dialect.format(answer))
        finally:
            held, self._held = self._held, None
            for event in held:
                self.deliver(event)

    def _refuse_unknown(self, text: str, why: str) -> None:
        """A request with an invoke id but an unknown code still gets its answer (fast
        failure for the host, instead of its 10 s timeout)."""
        head, *pairs = text.split(";")
        invoke = next((p[2:] for p in pairs if p.startswith("I=")), "")
        if len(head) == 4 and head[0] == "Q" and head[1:].isalpha() and invoke.isdigit():
            self._send(f"N{head[1:]};I={invoke};X=NOT_SUPPORTED;R={_printable(why)}")


def _printable(text: str) -> str:
    return "".join(ch for ch in text if " " <= ch <= "~" and ch != ";")[:200]


class _PbxLink(LinkProtocol):
    """The PBX end of the link layer: events are never given up, requests go to the front."""

    def __init__(self, front: SerialFrontEnd, **options: Any) -> None:
        super().__init__(front.on_text, front.clock, keep_unacknowledged=True,
                         report=lambda message: log.info("link: {m}", m=message), **options)
        self.front = front
        self.line: SimulatedLine | None = None

    def connectionMade(self) -> None:
        super().connectionMade()
        self.front.attach(self)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.front.detach(self)
        super().connectionLost(reason)


class SerialServerFactory(Factory):
    """TCP connections (a terminal server's port) onto the front-end's one serial port."""

    def __init__(self, front: SerialFrontEnd) -> None:
        self.front = front

    def buildProtocol(self, addr: Any) -> SimulatedLine:
        return self.front.new_line(can_disconnect=True)


def open_pty(front: SerialFrontEnd, reactor: Any) -> PtyPort:
    """The pty the front-end serves; the driver opens ``serial://<port.slave_path>``."""
    return PtyPort(front.new_line(can_disconnect=False), reactor)


def listen(front: SerialFrontEnd, reactor: Any, host: str = "127.0.0.1", port: int = 0) -> Any:
    """Serve the front-end as a terminal server on HOST:PORT (``serial+tcp://``)."""
    return reactor.listenTCP(port, SerialServerFactory(front), interface=host)
