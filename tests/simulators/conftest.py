"""Shared set-ups: a small switch on a task.Clock, and a CSTA client peer on StringTransport."""

from __future__ import annotations

import pytest
from lxml import etree
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport

from simulators.csta.server import CSTAServerFactory
from simulators.pbx import Handsets, Switch

CSTA = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
SESSION = "http://www.ecma-international.org/standards/ecma-354/appl_session"


class Recorder:
    """Collects the switch's events; `kinds()` gives (kind, device) pairs for assertions."""

    def __init__(self, switch: Switch) -> None:
        self.events = []
        switch.subscribe(self.events.append)

    def kinds(self, *, clear: bool = True) -> list[tuple[str, str | None]]:
        result = [(e.kind, e.device) for e in self.events]
        if clear:
            self.events.clear()
        return result

    def last(self, kind: str):
        return [e for e in self.events if e.kind == kind][-1]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def switch(clock: Clock) -> Switch:
    """Extensions 1001-1009, trunks 8001-8002, queue 6000, no pilots."""
    pbx = Switch(clock, external_answer_seconds=None)
    pbx.add_extensions(str(n) for n in range(1001, 1010))
    pbx.add_trunks(["8001", "8002"])
    pbx.add_queue("6000")
    return pbx


@pytest.fixture
def phones(switch: Switch) -> Handsets:
    return Handsets(switch)


@pytest.fixture
def recorder(switch: Switch) -> Recorder:
    return Recorder(switch)


class Peer:
    """The application end of one CSTA connection, driven through a StringTransport."""

    def __init__(self, factory: CSTAServerFactory) -> None:
        self.factory = factory
        self.protocol = factory.buildProtocol(None)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)
        self._invoke = 0

    def send_raw(self, data: bytes) -> None:
        self.protocol.dataReceived(data)

    def send(self, xml: str, invoke: str | None = None) -> str:
        if invoke is None:
            self._invoke += 1
            invoke = f"{self._invoke:04d}"
        body = xml.encode()
        self.send_raw(b"\x00\x00" + (len(body) + 8).to_bytes(2, "big") + invoke.encode() + body)
        return invoke

    def request(self, name: str, inner: str = "", namespace: str = CSTA) -> str:
        return self.send(f'<{name} xmlns="{namespace}">{inner}</{name}>')

    def frames(self) -> list[tuple[str, etree._Element]]:
        """Every frame written since the last call, parsed: (invoke ID, root element)."""
        data = self.transport.value()
        self.transport.clear()
        result = []
        while data:
            assert data[:2] == b"\x00\x00"
            length = int.from_bytes(data[2:4], "big")
            assert len(data) >= length
            result.append((data[4:8].decode(), etree.fromstring(data[8:length])))
            data = data[length:]
        return result

    def names(self) -> list[str]:
        return [etree.QName(root).localname for _, root in self.frames()]

    def start_session(self, duration: int = 120) -> str:
        self.request(
            "StartApplicationSession",
            "<applicationInfo><applicationID>tests</applicationID></applicationInfo>"
            "<requestedProtocolVersions><protocolVersion>" + CSTA
            + "</protocolVersion></requestedProtocolVersions>"
            f"<requestedSessionDuration>{duration}</requestedSessionDuration>",
            SESSION,
        )
        (_, root), = self.frames()
        assert etree.QName(root).localname == "StartApplicationSessionPosResponse"
        return root.findtext(f"{{{SESSION}}}sessionID")

    def monitor(self, device: str) -> str:
        self.request("MonitorStart",
                     f"<monitorObject><deviceObject>{device}</deviceObject></monitorObject>")
        (_, root), = self.frames()
        return root.findtext(f"{{{CSTA}}}monitorCrossRefID")


@pytest.fixture
def make_peer():
    return Peer


@pytest.fixture
def peer(factory: CSTAServerFactory) -> Peer:
    """An application peer with its ECMA-354 session started."""
    client = Peer(factory)
    client.start_session()
    return client


@pytest.fixture
def factory(switch: Switch, clock: Clock) -> CSTAServerFactory:
    made = CSTAServerFactory(switch, keepalive=30.0, max_session_duration=300)
    yield made
    made.close()
