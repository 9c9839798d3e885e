"""The CSTA rig: simulated switch <-> loopback TCP <-> CstaDriver <-> call model.

Everything is the real thing on the suite's running reactor: the switch (simulators.pbx) serves
ECMA-323 on 127.0.0.1:0, the production CstaDriver connects and monitors every extension, and
each event it emits goes to a real cti.model.Model, as the server wires them. Tests act on the
switch as people would (a caller dials, a far end answers) and through the driver as the
server would (make_call, hold, transfer...), then compare the model with the switch's own truth
(`Switch.snapshot()`), waiting a bounded time for the events to arrive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from twisted.internet import defer, task

from cti import events as ev
from cti.events import Event
from cti.model import Model
from drivers.csta import CstaDriver
from simulators.csta import listen
from simulators.csta.server import CSTAServerFactory
from simulators.pbx import Handsets, Switch

EXTENSIONS = ("1001", "1002", "1003", "1004", "1005")
TRUNKS = ("8001", "8002")
TRUNK = TRUNKS[0]
LINK = "pbx-e2e"
CALLER = "+4930123456"
EXTERNAL = "+4989765432"
WAIT_SECONDS = 5.0


def _reactor() -> Any:
    """The suite's reactor, imported late: conftest.py installs it after this module loads."""
    from twisted.internet import reactor

    return reactor


class Rig:
    """One switch, its CSTA server, one driver monitoring EXTENSIONS, one model fed by it."""

    def __init__(self, session_style: str, monitored: Iterable[str] = EXTENSIONS) -> None:
        self.session_style = session_style
        self.monitored = tuple(monitored)
        self.switch = Switch(_reactor(), external_answer_seconds=None)
        self.switch.add_extensions(EXTENSIONS)
        self.switch.add_trunks(TRUNKS)
        self.phones = Handsets(self.switch)
        self.model = Model()
        self.model.mark_monitored(self.monitored, link=LINK)
        self.events: list[Event] = []
        self.factory: CSTAServerFactory | None = None
        self.port: Any = None
        self.port_number = 0
        self.driver: CstaDriver | None = None

    # -- life cycle ------------------------------------------------------------------------

    def listen(self) -> None:
        """(Re)open the switch's CSTA port; the same port number after the first time."""
        if self.factory is None:
            self.port, self.factory = listen(
                self.switch, _reactor(), "127.0.0.1", self.port_number,
                session_style=self.session_style, keepalive=0,
            )
        else:
            self.port = _reactor().listenTCP(self.port_number, self.factory, interface="127.0.0.1")
        self.port_number = self.port.getHost().port

    @defer.inlineCallbacks
    def start(self) -> Any:
        self.listen()
        self.driver = CstaDriver(
            "127.0.0.1", self.port_number, self.monitored, _reactor(), LINK,
            session_style=self.session_style, keepalive=0, monitor_rate=500.0,
            request_timeout=WAIT_SECONDS, reconnect_initial=0.05, reconnect_max=0.2,
            connect_timeout=2.0,
        )
        self.driver.add_sink(self._on_event)
        self.driver.start()
        yield self.driver.ready()
        yield self.wait_until(lambda: self.snapshots() >= len(self.monitored),
                              "the start-up snapshot of every monitored device")

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        self.model.apply(event)

    @defer.inlineCallbacks
    def close(self) -> Any:
        if self.driver is not None:
            yield self.driver.stop()
        if self.port is not None:
            yield self.port.stopListening()
        if self.factory is not None:
            self.factory.close()
        self.switch.close()
        yield task.deferLater(_reactor(), 0, lambda: None)  # let closed connections report

    @defer.inlineCallbacks
    def stop_listening(self) -> Any:
        """Close the port and cut every connection from the switch's side."""
        yield self.port.stopListening()
        self.port = None
        for protocol in list(self.factory.connections):
            protocol.transport.abortConnection()
        yield self.wait_until(lambda: not self.factory.connections and not self.driver.connected,
                              "both ends to notice the cut link")

    # -- reading ---------------------------------------------------------------------------

    def snapshots(self) -> int:
        return sum(1 for e in self.events if e.event == ev.SNAPSHOT_DEVICE)

    def names(self, since: int = 0) -> list[str]:
        return [e.event for e in self.events[since:]]

    def truth(self, only_monitored: bool = False) -> dict[str, dict[str, str]]:
        """The switch's calls: call ID -> {device: connection state}."""
        calls = {}
        for call_id, call in self.switch.snapshot()["calls"].items():
            parties = {p["device"]: p["state"] for p in call["parties"]}
            if only_monitored:
                parties = {d: s for d, s in parties.items() if d in self.monitored}
            calls[call_id] = parties
        return calls

    def belief(self, only_monitored: bool = False) -> dict[str, dict[str, str]]:
        """The model's live calls in the same shape."""
        calls = {}
        for call_id, call in self.model.calls.items():
            parties = {c.device: c.state for c in call.connections.values()}
            if only_monitored:
                parties = {d: s for d, s in parties.items() if d in self.monitored}
            calls[call_id] = parties
        return calls

    def device_truth(self) -> dict[str, dict[str, str]]:
        """Each monitored device's connections on the switch: call ID -> state."""
        return {device: dict(self.switch.snapshot_device(device)) for device in self.monitored}

    def device_belief(self) -> dict[str, dict[str, str]]:
        """Each monitored device's connections in the model, in the same shape."""
        views = {}
        for device in self.monitored:
            dev = self.model.device(device)
            views[device] = {} if dev is None else {
                call_id: conn.state for call_id, conn in dev.connections.items()}
        return views

    def numbers(self) -> dict[str, tuple[str | None, str | None]]:
        """(calling, called) per live call, as the switch has them."""
        return {call_id: (call["calling"], call["called"])
                for call_id, call in self.switch.snapshot()["calls"].items()}

    # -- waiting ---------------------------------------------------------------------------

    @defer.inlineCallbacks
    def wait_until(self, condition: Callable[[], bool], what: str,
                   timeout: float = WAIT_SECONDS) -> Any:
        """Poll `condition` on the reactor; fail with `what` and both views after `timeout`."""
        deadline = _reactor().seconds() + timeout
        while not condition():
            if _reactor().seconds() > deadline:
                raise AssertionError(
                    f"timed out after {timeout:g} s waiting for {what}\n"
                    f"  switch: {self.truth()}\n  model:  {self.belief()}\n"
                    f"  last events: {self.names()[-12:]}"
                )
            yield task.deferLater(_reactor(), 0.005, lambda: None)

    def agree(self, only_monitored: bool = False) -> defer.Deferred[Any]:
        """Wait until the model's calls and connection states are the switch's."""
        return self.wait_until(
            lambda: self.belief(only_monitored) == self.truth(only_monitored),
            "the model to agree with the switch",
        )


