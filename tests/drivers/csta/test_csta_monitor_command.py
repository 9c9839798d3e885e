"""`cti monitor`: events one per line over a real loopback link; one-line errors, fast."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import Deferred
from twisted.internet.protocol import Factory

from cti import cli
from cti.commands import monitor
from cti.errors import CLIError
from drivers.csta import codec
from drivers.csta.codec import SESSION_NS, build
from drivers.csta.framing import CstaFraming

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScriptedSwitch(CstaFraming):
    """A minimal ECMA-354 switch on a real socket: session, monitors, snapshots, then one call
    delivered to 1001 and seen by both monitors."""

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        root = codec.parse(body)
        name = codec.local_name(root.tag)
        if name == "StartApplicationSession":
            self.sendFrame(invoke_id, build("StartApplicationSessionPosResponse", [
                ("sessionID", "S1"), ("actualSessionDuration", "300")], SESSION_NS))
        elif name == "MonitorStart":
            device = codec.descendant_text(root, "deviceObject")
            self.sendFrame(invoke_id, build("MonitorStartResponse",
                                            [("monitorCrossRefID", f"X{device}")]))
        elif name == "SnapshotDevice":
            self.sendFrame(invoke_id, build("SnapshotDeviceResponse", []))
            if codec.descendant_text(root, "snapshotObject") == "1002":
                for xref in ("X1001", "X1002"):
                    self.sendFrame("9999", build("DeliveredEvent", [
                        ("monitorCrossRefID", xref),
                        ("connection", [("callID", "17"), ("deviceID", "1001")]),
                        ("alertingDevice", [("deviceIdentifier", "1001")]),
                        ("callingDevice", [("deviceIdentifier", "1002")]),
                        ("calledDevice", [("deviceIdentifier", "1001")]),
                        ("localConnectionInfo", "alerting"),
                    ]))
        elif name == "StopApplicationSession":
            self.sendFrame(invoke_id, build("StopApplicationSessionPosResponse", [], SESSION_NS))
        else:
            self.sendFrame(invoke_id, build(name + "Response", []))


def options(url: str, **extra) -> monitor.Options:
    return monitor.Options(url, ("1001", "1002"), **extra)


@pytest_twisted.ensureDeferred
async def test_monitor_prints_each_event_once_per_monitor_as_json():
    port = reactor.listenTCP(0, Factory.forProtocol(ScriptedSwitch), interface="127.0.0.1")
    try:
        opts = options(f"csta://127.0.0.1:{port.getHost().port}", json=True, seconds=1.0)
        out = io.StringIO()
        driver = monitor.create_driver(opts, reactor)
        status = await Deferred.fromCoroutine(_watch(opts, driver, out))
    finally:
        await port.stopListening()
    assert status == 0
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert all("monitor" in line for line in lines)
    delivered = [line for line in lines if line["event"] == "delivered"]
    assert [(d["monitor"], d["device"], d["calling"], d["call_id"]) for d in delivered] == [
        ("1001", "1001", "1002", "17"), ("1002", "1001", "1002", "17")]
    assert lines[0]["event"] == "link_up"
    assert [line["monitor"] for line in lines if line["event"] == "snapshot_device"] == [
        "1001", "1002"]
    assert not driver.connected


async def _watch(opts, driver, out):
    return await monitor.watch(reactor, opts, driver, out, io.StringIO())


@pytest_twisted.ensureDeferred
async def test_unreachable_peer_is_a_one_line_error_within_seconds():
    opts = options(f"csta://127.0.0.1:{closed_port()}")
    driver = monitor.create_driver(opts, reactor)
    started = time.monotonic()
    with pytest.raises(CLIError) as raised:
        await Deferred.fromCoroutine(_watch(opts, driver, io.StringIO()))
    assert time.monotonic() - started < 5.0
    message = str(raised.value)
    assert "\n" not in message
    assert "cannot connect to 127.0.0.1" in message
    assert reactor.getDelayedCalls() == [] or all(
        "CstaDriver" not in repr(call) for call in reactor.getDelayedCalls())


class SilentSwitch(CstaFraming):
    """Accepts the connection and never answers anything."""

    def frameReceived(self, invoke_id: str, body: bytes) -> None:
        pass


@pytest_twisted.ensureDeferred
async def test_a_peer_that_never_answers_is_a_one_line_error_after_the_ready_timeout():
    port = reactor.listenTCP(0, Factory.forProtocol(SilentSwitch), interface="127.0.0.1")
    url = f"csta://127.0.0.1:{port.getHost().port}"
    try:
        opts = options(url, ready_timeout=0.5)
        driver = monitor.create_driver(opts, reactor)
        with pytest.raises(CLIError) as raised:
            await Deferred.fromCoroutine(_watch(opts, driver, io.StringIO()))
    finally:
        await port.stopListening()
    assert str(raised.value) == f"cti monitor: not monitoring {url} within 0.5 s"
    assert not driver.connected


def test_the_default_ready_timeout_leaves_room_for_paced_monitor_starts():
    few = monitor.Options("csta://h:1", ("1001",))
    many = monitor.Options("csta://h:1", tuple(str(n) for n in range(1000)), monitor_rate=50.0)
    assert few.ready_deadline < 21 and many.ready_deadline == 60.0


def test_readable_form_is_one_line_per_event():
    from cti.events import Event, Party
    line = monitor.format_event(Event("transferred", 0.0, call_id="12", device="1001",
                                      old_call_ids=("10", "11"), monitor="1001",
                                      parties=(Party("12", "2002", "connected"),)), False)
    assert line == ("1970-01-01T00:00:00.000Z [1001] transferred call=12 device=1001 old=10,11 "
                    "parties=2002:12:connected")


@pytest.mark.parametrize(("argv", "expected"), [
    (["monitor", "csta://127.0.0.1:2555", "--devices", "10-x"], "--devices: bad device range"),
    (["monitor", "csta://127.0.0.1:2555", "--devices", ""], "--devices: empty device list"),
    (["monitor", "http://127.0.0.1:2555", "--devices", "1001"], "unsupported link URL"),
    (["monitor", "csta://127.0.0.1", "--devices", "1001"], "expected csta://HOST:PORT"),
    (["monitor", "csta://127.0.0.1:99999", "--devices", "1001"], "expected csta://HOST:PORT"),
    (["monitor", "csta://127.0.0.1:2555"], "required: --devices"),
])
def test_bad_arguments_are_one_line_errors_before_anything_runs(argv, expected, capsys):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status != 0
    assert len(err.strip().splitlines()) == 1 and expected in err, err


def test_cti_monitor_against_a_closed_port_exits_non_zero_with_one_line():
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "cti.cli", "monitor", f"csta://127.0.0.1:{closed_port()}",
         "--devices", "1001,1002", "--json"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cti: error: cti monitor: link monitor: cannot connect to 127.0.0.1:"), (
        result.stderr)
    assert time.monotonic() - started < 15.0
