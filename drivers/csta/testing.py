"""The switch's end of an in-memory CSTA link, for driving CstaDriver deterministically.

Shipped with the driver (as panoramisk ships its testing module) so that any layer's tests can
put a scripted switch under a real CstaDriver without sockets or wall-clock time.

The driver connects through a MemoryReactorClock; `SwitchEnd.accept()` completes that
connection over a StringTransport, `requests()` reads and parses what the driver wrote, and
`answer` / `event` / `send` write frames back exactly as a switch would (header + ed4 XML).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree
from twisted.internet.address import IPv4Address
from twisted.internet.error import ConnectionDone, ConnectionRefusedError
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.python.failure import Failure

from drivers.csta import codec
from drivers.csta.codec import CSTA_NS, SESSION_NS, build
from drivers.csta.driver import CstaDriver
from drivers.csta.framing import frame


@dataclass
class Request:
    invoke_id: str
    name: str
    root: etree._Element

    def text(self, name: str) -> str | None:
        return codec.descendant_text(self.root, name)


def split_frames(data: bytes) -> list[tuple[str, bytes]]:
    frames = []
    while data:
        length = int.from_bytes(data[2:4], "big")
        frames.append((data[4:8].decode("ascii"), data[8:length]))
        data = data[length:]
    return frames


class SwitchEnd:
    """One accepted connection of the driver, seen from the switch."""

    def __init__(self, reactor: MemoryReactorClock, driver: CstaDriver) -> None:
        self.reactor = reactor
        self.driver = driver
        self.transport: StringTransport | None = None
        self.protocol: Any = None
        self.monitor_xrefs: dict[str, str] = {}
        self._backlog: list[Request] = []

    def accept(self) -> SwitchEnd:
        """Complete the driver's latest connectTCP."""
        host, port, factory, _timeout, _bind = self.reactor.tcpClients[-1]
        self.protocol = factory.buildProtocol(IPv4Address("TCP", host, port))
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        return self

    def refuse(self) -> None:
        """Fail the driver's latest connectTCP as a closed port would."""
        _host, _port, factory, _timeout, _bind = self.reactor.tcpClients[-1]
        factory.clientConnectionFailed(None, Failure(ConnectionRefusedError()))

    def requests(self) -> list[Request]:
        """Everything the driver wrote and nobody took yet, parsed."""
        assert self.transport is not None
        data = self.transport.value()
        self.transport.clear()
        out, self._backlog = self._backlog, []
        for invoke_id, body in split_frames(data):
            root = codec.parse(body)
            out.append(Request(invoke_id, codec.local_name(root.tag), root))
        return out

    def take(self, name: str) -> list[Request]:
        """The requests called `name`; the others stay for later."""
        found = []
        for request in self.requests():
            (found if request.name == name else self._backlog).append(request)
        return found

    def request(self, name: str) -> Request:
        found = self.take(name)
        assert len(found) == 1, f"expected one {name}, got {found}"
        return found[0]

    def send(self, invoke_id: str, body: bytes) -> None:
        self.protocol.dataReceived(frame(invoke_id, body))

    def answer(self, request: Request, name: str, children: Sequence[Any] = (),
               namespace: str = CSTA_NS) -> None:
        self.send(request.invoke_id, build(name, children, namespace))

    def error(self, request: Request, category: str, value: str) -> None:
        self.answer(request, "CSTAErrorCode", [(category, value)])

    def event(self, name: str, children: Sequence[Any]) -> None:
        self.send("9999", build(name, children))

    def drop(self) -> None:
        assert self.transport is not None
        self.transport.loseConnection()
        self.protocol.connectionLost(Failure(ConnectionDone()))

    # -- scripted switch behaviour --------------------------------------------------------------

    def grant_session(self, session_id: str = "S1", duration: int = 60) -> Request:
        request = self.request("StartApplicationSession")
        self.answer(
            request, "StartApplicationSessionPosResponse",
            [("sessionID", session_id), ("actualProtocolVersion", CSTA_NS),
             ("actualSessionDuration", str(duration))],
            SESSION_NS,
        )
        return request

    def answer_paced(self, name: str, respond: Any, also: Any = None) -> list[Request]:
        """Answer every `name` request, advancing the clock through the driver's pacing;
        `also()` first answers whatever else each step sent (the requests paced with it)."""
        answered = []
        while True:
            if also is not None:
                also()
            pending = self.take(name)
            for request in pending:
                respond(request)
                answered.append(request)
            pacing = [call for call in self.driver._paced_calls if call.active()]
            if not pacing:
                if not pending:
                    return answered
                continue
            self.reactor.advance(1.0 / self.driver.monitor_rate)

    def answer_monitors(self, first_xref: int = 100) -> list[Request]:
        counter = [first_xref + len(self.monitor_xrefs)]

        def respond(request: Request) -> None:
            device = request.text("deviceObject")
            assert device is not None
            xref = str(counter[0])
            counter[0] += 1
            self.monitor_xrefs[device] = xref
            self.answer(request, "MonitorStartResponse", [("monitorCrossRefID", xref)])

        return self.answer_paced("MonitorStart", respond)

    def answer_snapshots(
        self, parties: dict[str, list[tuple[str, str]]] | None = None, *,
        agents: dict[str, tuple[str, str, str | None]] | None = None,
        do_not_disturb: Sequence[str] = (),
        forwarding: dict[str, dict[str, str]] | None = None,
    ) -> list[Request]:
        """Answer the resynchronisation queries, then the SnapshotDevice requests.

        `parties`: device -> [(call_id, state)]; `agents`: device -> (agent ID, ECMA agent
        state, reason); `do_not_disturb`: devices with it on; `forwarding`: device -> {ECMA
        forwarding type: destination}. Devices not named have nothing on. Returns the
        SnapshotDevice requests.
        """
        parties = parties or {}
        agents, forwarding = agents or {}, forwarding or {}

        def respond(request: Request) -> None:
            device = request.text("snapshotObject") or ""
            infos = [
                ("snapshotDeviceResponseInfo", [
                    ("connectionIdentifier", [("callID", call_id), ("deviceID", device)]),
                    ("localCallState", [("compoundCallState", [
                        ("localConnectionState", state)])]),
                ])
                for call_id, state in parties.get(device, [])
            ]
            self.answer(request, "SnapshotDeviceResponse",
                        [("crossRefIDorSnapshotData", [("snapshotData", infos)])])

        return self.answer_paced(
            "SnapshotDevice", respond,
            lambda: self.answer_features(agents, do_not_disturb, forwarding),
        )

    def answer_features(
        self, agents: dict[str, tuple[str, str, str | None]],
        do_not_disturb: Sequence[str], forwarding: dict[str, dict[str, str]],
    ) -> None:
        """Answer the GetAgentState / GetDoNotDisturb / GetForwarding requests sent so far."""
        for request in self.take("GetAgentState"):
            device = request.text("device") or ""
            if device in agents:
                agent_id, state, reason = agents[device]
                entry = [("agentID", agent_id), ("loggedOnState", "true"),
                         ("agentInfo", [("agentInfoItem", [("agentState", state),
                                                           ("reasonCode", reason)])])]
            else:
                entry = [("loggedOnState", "false")]
            self.answer(request, "GetAgentStateResponse",
                        [("agentStateList", [("agentStateEntry", entry)])])
        for request in self.take("GetDoNotDisturb"):
            on = "true" if request.text("device") in do_not_disturb else "false"
            self.answer(request, "GetDoNotDisturbResponse", [("doNotDisturbOn", on)])
        for request in self.take("GetForwarding"):
            active = forwarding.get(request.text("device") or "", {})
            items = [
                ("forwardListItem", [("forwardingType", kind),
                                     ("forwardStatus", "true" if kind in active else "false"),
                                     ("forwardDN", active.get(kind))])
                for kind in ("forwardImmediate", "forwardBusy", "forwardNoAns")
            ]
            self.answer(request, "GetForwardingResponse", [("forwardingList", items)])


def make_driver(devices: Sequence[str] = ("1001", "1002"), **options: Any
                ) -> tuple[CstaDriver, MemoryReactorClock, list[Any]]:
    reactor = MemoryReactorClock()
    options.setdefault("keepalive", 0)
    driver = CstaDriver("switch.example", 2555, devices, reactor, "pbx1", **options)
    received: list[Any] = []
    driver.add_sink(received.append)
    return driver, reactor, received
