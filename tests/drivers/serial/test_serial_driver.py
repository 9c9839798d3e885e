"""The serial driver against a scripted PBX over real pty pairs and loopback TCP.

The PBX end (serial_pbx_peer.py) is written from the protocol document, byte by byte.
Protocol timers run on a task.Clock so nothing here waits on a timeout; I/O is real.
"""

from __future__ import annotations

import os
import pty

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.protocol import Factory
from twisted.internet.task import Clock

from cti import events as ev
from drivers.base import DriverError, LinkDown
from drivers.serial.driver import SerialDriver
from tests.drivers.serial.serial_pbx_peer import ETX, PtyMaster, TcpPbx, bcc, within


class Events:
    """An event sink with bounded waits for the event a test expects next."""

    def __init__(self) -> None:
        self.seen: list[ev.Event] = []
        self._waiters: list[tuple[str, defer.Deferred]] = []

    def __call__(self, event: ev.Event) -> None:
        for waiter in list(self._waiters):
            if waiter[0] == event.event:
                self._waiters.remove(waiter)
                waiter[1].callback(event)
                return
        self.seen.append(event)

    def next(self, name: str, timeout: float = 5.0) -> defer.Deferred:
        for event in self.seen:
            if event.event == name:
                self.seen.remove(event)
                return defer.succeed(event)
        waiter = defer.Deferred()
        self._waiters.append((name, waiter))
        return within(waiter, timeout)


def settle(seconds: float = 0.05) -> defer.Deferred:
    d = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


@pytest_twisted.async_yield_fixture(params=["reactor", "thread"])
async def pty_link(request):
    """A driver on a pty slave (Twisted SerialPort, or the reader thread) and the PBX on the master."""
    master, slave = pty.openpty()
    path = os.ttyname(slave)
    query = "baud=115200&bytesize=8&parity=N&stopbits=1"
    if request.param == "thread":
        query += "&reader=thread"
    clock = Clock()
    driver = SerialDriver("pbx1", f"serial://{path}?{query}", clock=clock, request_timeout=5.0)
    events = Events()
    driver.add_sink(events)
    peer = PtyMaster(master)
    yield driver, peer.pbx, events, clock
    await within(driver.stop(), 5)
    for _ in range(100):  # the goodbye may still be in the pty buffer
        if peer.pbx.eots:
            break
        await settle(0.01)
    assert peer.pbx.errors == []
    assert peer.pbx.eots == 1  # a clean stop says goodbye (EOT)
    for call in clock.getDelayedCalls():
        call.cancel()
    peer.close()
    os.close(slave)


@pytest_twisted.inlineCallbacks
def test_link_comes_up_and_a_ringing_event_is_normalised(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    up = yield events.next(ev.LINK_UP)
    assert up.link == "pbx1" and driver.connected
    assert pbx.enqs >= 1
    pbx.send("ERNG;C=4711;D=1001;A=N<+4930123456>;B=1001")
    delivered = yield events.next(ev.DELIVERED)
    assert delivered.to_dict() | {"time": None} == {
        "event": "delivered",
        "call_id": "4711",
        "device": "1001",
        "calling": "+4930123456",
        "called": "1001",
        "time": None,
        "link": "pbx1",
        "raw_calling": "N<+4930123456>",
    }
    yield settle()
    assert pbx.acks == [b"\x060"]
    both = defer.gatherResults([driver.stop(), driver.stop()])  # stopping twice is harmless
    yield within(both, 5)
    assert not driver.connected


@pytest_twisted.inlineCallbacks
def test_make_call_goes_out_as_the_documented_frame_and_returns_the_call_id(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    result = driver.make_call("1001", "01701234567")
    text = yield pbx.request("QMAK")
    assert text == "QMAK;I=1;D=1001;B=01701234567"
    assert pbx.raw_frames[-1] == b"\x020QMAK;I=1;D=1001;B=01701234567" + ETX + bcc(
        b"0QMAK;I=1;D=1001;B=01701234567" + ETX
    )
    pbx.send("PMAK;I=1;C=4712")
    call_id = yield within(result, 5)
    assert call_id == "4712"


@pytest_twisted.inlineCallbacks
def test_refused_command_fails_with_the_pbx_reason(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    result = driver.hold_call("4711", "1001")
    text = yield pbx.request("QHLD")
    assert text == "QHLD;I=1;C=4711;D=1001"
    pbx.send("NHLD;I=1;X=INVALID_STATE;R=call 4711 is not connected at 1001")
    with pytest.raises(DriverError, match="hold_call: call 4711 is not connected") as info:
        yield within(result, 5)
    assert info.value.code == "INVALID_STATE"


@pytest_twisted.inlineCallbacks
def test_transfer_reports_the_resulting_call_and_the_old_ones(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    result = driver.transfer_call("4711", "4712", "1001")
    text = yield pbx.request("QXFR")
    assert text == "QXFR;I=1;H=4711;C=4712;D=1001"
    pbx.send("EXFR;C=4713;O=4711,4712;D=1001;A=01701234567;B=1002;T=1002")
    pbx.send("PXFR;I=1;C=4713")
    transferred = yield events.next(ev.TRANSFERRED)
    assert (transferred.call_id, transferred.old_call_ids, transferred.device) == (
        "4713", ("4711", "4712"), "1001"
    )
    assert transferred.to_dict()["old_call_ids"] == ["4711", "4712"]
    assert transferred.data == {"transferred_to": "1002"}  # the CSTA driver's key
    assert (yield within(result, 5)) == "4713"


@pytest_twisted.inlineCallbacks
def test_agent_events_and_commands(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    result = driver.set_agent_state("2001", "not_ready", agent_id="A17", reason="12")
    text = yield pbx.request("QAGT")
    assert text == "QAGT;I=1;D=2001;S=NR;G=A17;R=12"
    pbx.send("PAGT;I=1")
    assert (yield within(result, 5)) is None
    pbx.send("EANR;D=2001;G=A17;R=12")
    not_ready = yield events.next(ev.AGENT_NOT_READY)
    assert (not_ready.device, not_ready.agent_id, not_ready.reason) == ("2001", "A17", "12")


@pytest_twisted.inlineCallbacks
def test_request_without_answer_times_out_with_a_driver_error(pty_link):
    driver, pbx, events, clock = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    result = driver.answer_call("4711", "1001")
    yield pbx.request("QANS")
    clock.advance(5.0)
    with pytest.raises(DriverError, match="answer_call: no answer from the PBX within 5 s"):
        yield within(result, 5)


@pytest_twisted.inlineCallbacks
def test_garbage_and_a_bad_frame_on_the_line_lose_no_event(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    pbx.write(b"\xff\x13\x11garbage\x02" + b"9EHLD;C=1;D=1\x03ZZ")
    pbx.send("EHLD;C=4711;D=1001")
    held = yield events.next(ev.HELD)
    assert (held.call_id, held.device) == ("4711", "1001")
    yield settle()
    assert pbx.naks == 1 and pbx.acks[-1] == b"\x060"
    assert [e.event for e in events.seen] == []  # the broken frame produced no event


@pytest_twisted.inlineCallbacks
def test_unsupported_service_and_commands_while_down_fail_cleanly(pty_link):
    driver, _, events, _ = pty_link
    with pytest.raises(LinkDown):
        yield driver.make_call("1001", "1002")
    driver.start()
    yield events.next(ev.LINK_UP)
    with pytest.raises(DriverError, match="not supported by the serial link"):
        yield driver.generate_digits("4711", "1001", "123")


@pytest_twisted.inlineCallbacks
def test_monitored_devices_are_registered_and_tagged():
    master, slave = pty.openpty()
    clock = Clock()
    driver = SerialDriver("pbx1", f"serial://{os.ttyname(slave)}", clock=clock)
    events = Events()
    driver.add_sink(events)
    peer = PtyMaster(master)
    try:
        driver.start()
        yield events.next(ev.LINK_UP)
        started = driver.monitor_start("1001")
        assert (yield peer.pbx.request("QMON")) == "QMON;I=1;D=1001"
        peer.pbx.send("PMON;I=1")
        assert (yield within(started, 5)) == "1001"
        peer.pbx.send("EANS;C=9;D=1001;A=1002;B=1001")
        established = yield events.next(ev.ESTABLISHED)
        assert established.monitor == "1001"
    finally:
        yield driver.stop()
        peer.close()
        os.close(slave)


@pytest_twisted.inlineCallbacks
def test_serial_over_tcp_reconnects_and_fails_pending_commands_when_the_line_drops():
    connections: list[TcpPbx] = []
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: TcpPbx(connections)), interface="127.0.0.1")
    clock = Clock()
    driver = SerialDriver(
        "ts1", f"serial+tcp://127.0.0.1:{port.getHost().port}", clock=clock, reconnect_delay=0.05
    )
    events = Events()
    driver.add_sink(events)
    try:
        driver.start()
        yield events.next(ev.LINK_UP)
        pending = driver.clear_call("4711")
        yield connections[0].pbx.request("QCLR")
        connections[0].transport.loseConnection()
        yield events.next(ev.LINK_DOWN)
        with pytest.raises(LinkDown):
            yield within(pending, 5)
        yield events.next(ev.LINK_UP)
        assert len(connections) == 2
        connections[1].pbx.send("EEND;C=4711")
        cleared = yield events.next(ev.CALL_CLEARED)
        assert cleared.call_id == "4711" and cleared.device is None
    finally:
        yield driver.stop()
        yield port.stopListening()


def test_unopenable_port_is_retried_and_reported_not_raised():
    clock = Clock()  # opening fails before any I/O, so virtual time can be the reactor
    driver = SerialDriver("bad", "serial:///dev/does-not-exist", reactor=clock, reconnect_delay=60)
    driver.start()
    assert not driver.connected
    assert [call.getTime() for call in clock.getDelayedCalls()] == [60]
    clock.advance(60)
    assert [call.getTime() for call in clock.getDelayedCalls()] == [120]
    assert driver.stop().called
    assert clock.getDelayedCalls() == []


@pytest.mark.parametrize(
    "url", ["csta://h:1", "serial://", "serial:///dev/x?parity=Q", "serial+tcp://host"]
)
def test_bad_urls_are_refused_with_the_reason(url):
    with pytest.raises(ValueError):
        SerialDriver("x", url, clock=Clock())


def test_unknown_dialect_is_refused():
    with pytest.raises(ValueError, match="unknown serial link dialect"):
        SerialDriver("x", "serial:///dev/ttyS0?dialect=meridian", clock=Clock())


@pytest_twisted.inlineCallbacks
def test_frame_cut_by_a_pulled_cable_is_dropped_and_its_retransmission_gets_through(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    whole = pbx.send("EANS;C=4711;D=1001;A=01701234567;B=1001")
    pbx.acks.clear()
    pbx.last_sent = b""
    yield settle()
    cut = b"\x021EREL;C=4711;D=10"  # the cable goes mid-frame; the PBX starts over
    pbx.write(cut)
    yield settle()
    pbx.next_seq = 1
    pbx.send("EREL;C=4711;D=1001")
    cleared = yield events.next(ev.CONNECTION_CLEARED)
    established = yield events.next(ev.ESTABLISHED)
    assert (established.call_id, cleared.call_id, cleared.device) == ("4711", "4711", "1001")
    yield settle()
    assert pbx.naks == 1 and pbx.acks[-1] == b"\x061"
    assert whole.startswith(b"\x020EANS")


@pytest_twisted.inlineCallbacks
def test_create_driver_monitors_its_devices_each_time_the_link_comes_up():
    from drivers.serial import create_driver

    connections: list[TcpPbx] = []
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: TcpPbx(connections)), interface="127.0.0.1")
    clock = Clock()
    driver = create_driver(
        f"serial+tcp://127.0.0.1:{port.getHost().port}", name="pbx2", devices=["1001", "1002"],
        reactor=reactor, clock=clock, reconnect_delay=0.05,
    )
    events = Events()
    driver.add_sink(events)
    try:
        driver.start()
        yield events.next(ev.LINK_UP)
        first = yield connections[0].pbx.request("QMON")
        second = yield connections[0].pbx.request("QMON")
        assert (first, second) == ("QMON;I=1;D=1001", "QMON;I=2;D=1002")
        connections[0].transport.loseConnection()
        yield events.next(ev.LINK_DOWN)
        yield events.next(ev.LINK_UP)
        again = yield connections[1].pbx.request("QMON")
        assert again.endswith("D=1001")
    finally:
        yield driver.stop()
        yield port.stopListening()


@pytest_twisted.inlineCallbacks
def test_driver_and_a_pbx_end_built_from_this_package_interoperate_over_a_pty():
    """The shape the serial simulator takes: PtyPort + LinkProtocol(keep) + the dialect."""
    from drivers.serial.dialects import EVENT, RESPONSE, Message, get_dialect
    from drivers.serial.link import LinkProtocol
    from drivers.serial.transport import PtyPort

    dialect = get_dialect("generic")

    def serve(text: str) -> None:
        request = dialect.parse(text)
        for message in (
            Message(RESPONSE, request.name, {"call_id": "77"}, invoke_id=request.invoke_id),
            Message(EVENT, "originated", {"call_id": "77", "device": "1001", "called": "1002"}),
        ):
            pbx_link.send(dialect.format(message)).addErrback(lambda _: None)

    pbx_link = LinkProtocol(serve, reactor, keep_unacknowledged=True)
    port = PtyPort(pbx_link, reactor)
    clock = Clock()
    driver = SerialDriver("sim", f"serial://{port.slave_path}?baud=115200", clock=clock)
    events = Events()
    driver.add_sink(events)
    try:
        driver.start()
        yield events.next(ev.LINK_UP)
        call_id = yield within(driver.make_call("1001", "1002"), 5)
        originated = yield events.next(ev.ORIGINATED)
        assert call_id == "77" and (originated.device, originated.called) == ("1001", "1002")
        yield settle()
        # Each frame delivered once; a retransmission (the PBX's start-up ENQ may be answered
        # NAK by the freshly opened driver) is filtered as a duplicate, never delivered twice.
        assert driver.link_stats.frames_received == 2
        assert driver.link_stats.bad_frames == 0 and events.seen == []
    finally:
        yield driver.stop()
        port.loseConnection()
        for call in clock.getDelayedCalls():
            call.cancel()


@pytest_twisted.inlineCallbacks
def test_ready_fires_when_every_device_has_an_answer_and_refusals_are_listed():
    master, slave = pty.openpty()
    driver = SerialDriver("pbx1", f"serial://{os.ttyname(slave)}", devices=["1001", "1999"],
                          clock=Clock())
    peer = PtyMaster(master)
    try:
        ready = driver.ready()
        driver.start()
        assert (yield peer.pbx.request("QMON")) == "QMON;I=1;D=1001"
        assert (yield peer.pbx.request("QMON")) == "QMON;I=2;D=1999"
        peer.pbx.send("PMON;I=1")
        assert not ready.called
        peer.pbx.send("NMON;I=2;X=INVALID_DEVICE;R=no such extension 1999")
        yield within(ready, 5)
        assert driver.failed_monitors == {"1999": "monitor_start: no such extension 1999"}
    finally:
        yield driver.stop()
        peer.close()
        os.close(slave)


@pytest_twisted.inlineCallbacks
def test_ready_fails_when_the_port_cannot_be_opened():
    driver = SerialDriver("bad", "serial:///dev/does-not-exist", clock=Clock(), reconnect_delay=60)
    ready = driver.ready()
    driver.start()
    with pytest.raises(LinkDown, match="cannot open /dev/does-not-exist"):
        yield within(ready, 5)
    yield driver.stop()


@pytest_twisted.inlineCallbacks
def test_snapshots_give_the_connections_and_their_states(pty_link):
    driver, pbx, events, _ = pty_link
    driver.start()
    yield events.next(ev.LINK_UP)
    by_device = driver.snapshot_device("1001")
    assert (yield pbx.request("QSNP")) == "QSNP;I=1;D=1001"
    pbx.send("PSNP;I=1;P=4711:connected,4712:hold,4713:ringing")
    snapshot = yield within(by_device, 5)
    assert snapshot.event == ev.SNAPSHOT_DEVICE and snapshot.device == "1001"
    assert [(p.call_id, p.device, p.state) for p in snapshot.parties] == [
        ("4711", "1001", "connected"), ("4712", "1001", "hold"), ("4713", "1001", None)
    ]
    by_call = driver.snapshot_call("4711")
    assert (yield pbx.request("QSNC")) == "QSNC;I=2;C=4711"
    pbx.send("PSNC;I=2;P=1001:connected,01701234567:connected")
    call = yield within(by_call, 5)
    assert [(p.call_id, p.device, p.state) for p in call.parties] == [
        ("4711", "1001", "connected"), ("4711", "01701234567", "connected")
    ]
