"""`cti sim csta`: arguments, set-up inside the running reactor, and the real command."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager

import pytest
import pytest_twisted
from lxml import etree
from twisted.internet import defer, protocol, reactor, task

from cti.errors import CLIError
from simulators.csta import cli
from simulators.csta.framing import FrameReceiver
from simulators.csta.server import Subscriber

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NS = "http://www.ecma-international.org/standards/ecma-323/csta/ed4"
SESSION = "http://www.ecma-international.org/standards/ecma-354/appl_session"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--listen", "nowhere"],
        ["--listen", "127.0.0.1:0", "--extensions", "10-x"],
        ["--listen", "127.0.0.1:0", "--pilots", "5000=1000-1001:sideways"],
        ["--listen", "127.0.0.1:0", "--session-style", "telepathy"],
        ["--listen", "127.0.0.1:0", "--rate", "-1"],
        ["--listen", "127.0.0.1:0", "--rate", "1", "--burst"],
        ["--listen", "127.0.0.1:0", "--holding", "-5"],
        ["--listen", "127.0.0.1:0", "--announcements", "7001=0"],
        ["--listen", "127.0.0.1:0", "--announcements", "7001=5:sideways"],
        ["--listen", "127.0.0.1:0", "--voicemail", "mailbox"],
    ],
)
def test_bad_arguments_are_one_line_cli_errors(argv):
    with pytest.raises(CLIError) as info:
        cli.parse_args(argv)
    assert "\n" not in str(info.value)


def test_rates_per_second_or_per_hour():
    assert cli.parse_args(["--listen", ":0", "--rate", "7200/h"]).rate == pytest.approx(2.0)
    assert cli.parse_args(["--listen", ":0", "--rate", "3"]).rate == 3.0


def test_pilot_members_must_be_extensions():
    options = cli.parse_args(["--listen", "127.0.0.1:0", "--extensions", "1000-1001",
                              "--pilots", "5000=1000-1005"])
    with pytest.raises(CLIError, match="not extensions"):
        cli.build_switch(options, task.Clock())


def test_announcements_and_voice_mail_are_devices_of_the_switch():
    options = cli.parse_args(["--listen", "127.0.0.1:0", "--announcements", "7001=8", "7002",
                              "7003:return", "--voicemail", "700=30", "--message-seconds", "2"])
    switch = cli.build_switch(options, task.Clock())
    assert [(switch.devices[n].seconds, switch.devices[n].returns)
            for n in ("7001", "7002", "7003")] == [(8.0, False), (10.0, False), (10.0, True)]
    assert switch.devices["700"].max_seconds == 30.0 and switch.message_seconds == 2.0
    options = cli.parse_args(["--listen", "127.0.0.1:0", "--voicemail", "1000"])
    with pytest.raises(CLIError, match="configured twice"):
        cli.build_switch(options, task.Clock())


def test_a_bad_scenario_file_is_reported_before_listening(tmp_path):
    scenario = tmp_path / "bad.scn"
    scenario.write_text("1 ring 1001\n")
    options = cli.parse_args(["--listen", "127.0.0.1:0", "--scenario", str(scenario)])
    with pytest.raises(CLIError, match="line 1"):
        cli.start(options, reactor)


def test_a_port_in_use_is_a_cli_error():
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        options = cli.parse_args(["--listen", f"127.0.0.1:{port}"])
        with pytest.raises(CLIError, match="cannot listen"):
            cli.start(options, reactor)
    finally:
        busy.close()


class Client(FrameReceiver):
    """A minimal application: collects frames, answers SystemStatus."""

    def __init__(self) -> None:
        self.received = []
        self.waiting = []

    def frameReceived(self, invoke_id, body):
        root = etree.fromstring(body)
        self.received.append((invoke_id, root))
        for wanted, deferred in list(self.waiting):
            if etree.QName(root).localname == wanted:
                self.waiting.remove((wanted, deferred))
                deferred.callback(root)

    def expect(self, name):
        deferred = defer.Deferred()
        self.waiting.append((name, deferred))
        return deferred.addTimeout(5, reactor)

    def send(self, invoke, xml):
        self.sendFrame(invoke, xml.encode())


@pytest_twisted.inlineCallbacks
def test_in_process_simulator_serves_a_real_tcp_client_with_traffic():
    options = cli.parse_args([
        "--listen", "127.0.0.1:0", "--extensions", "1000-1009", "--rate", "50",
        "--holding", "0.05", "--ring-delay", "0.01", "--seed", "1", "--keepalive", "0",
    ])
    running = cli.start(options, reactor)
    connection = None
    try:
        host, port = running.address
        assert host == "127.0.0.1" and port > 0
        connection = yield protocol.ClientCreator(reactor, Client).connectTCP(host, port)
        answer = connection.expect("StartApplicationSessionPosResponse")
        connection.send("0001", f'<StartApplicationSession xmlns="{SESSION}"><applicationInfo>'
                        "<applicationID>t</applicationID></applicationInfo>"
                        "<requestedSessionDuration>60</requestedSessionDuration>"
                        "</StartApplicationSession>")
        yield answer
        for n, device in enumerate(range(1000, 1010)):
            connection.send(f"{n + 2:04d}", f'<MonitorStart xmlns="{NS}"><monitorObject>'
                            f"<deviceObject>{device}</deviceObject></monitorObject>"
                            "</MonitorStart>")
        yield connection.expect("CallClearedEvent")
        assert running.traffic.stats.completed >= 1
    finally:
        if connection is not None:
            connection.transport.loseConnection()
        yield running.stop()


@contextmanager
def command(*argv: str):
    """`cti sim csta --listen 127.0.0.1:0 ARGV` running; on leaving, SIGTERM must end it
    cleanly (exit status 0)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "cti.cli", "sim", "csta", "--listen", "127.0.0.1:0", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    try:
        yield process
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_the_command_prints_where_it_listens_and_dies_cleanly(tmp_path):
    scenario = tmp_path / "one.scn"
    scenario.write_text("call +4930123 -> 1001\n")
    with command("--scenario", str(scenario)) as process:
        line = process.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass


def test_the_command_prints_each_voice_mail_message_it_records(tmp_path):
    scenario = tmp_path / "vm.scn"
    scenario.write_text("call +4930123 -> 700\n+0.3 hangup +4930123\n")
    with command("--voicemail", "700", "--scenario", str(scenario),
                 "--scenario-start", "now") as process:
        assert process.stdout.readline().startswith("listening on 127.0.0.1:")
        line = process.stdout.readline()
        assert re.match(r"voice mail: mailbox 700: \d+\.\d s from \+4930123 \(call 1\)$",
                        line.strip()), line


def test_the_command_reports_a_bad_argument_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "cti.cli", "sim", "csta", "--listen", "bogus"],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "HOST:PORT" in result.stderr


@pytest_twisted.inlineCallbacks
def test_a_scenario_waits_for_the_first_monitor_so_a_client_sees_it_whole(tmp_path):
    scenario = tmp_path / "one.scn"
    scenario.write_text("call +4930123 -> 1001\n")
    running = cli.start(cli.parse_args(["--listen", "127.0.0.1:0", "--extensions", "1001",
                                        "--scenario", str(scenario)]), reactor)
    try:
        yield task.deferLater(reactor, 1.5, lambda: None)
        assert running.switch.snapshot()["calls"] == {}, "no client yet: nothing has happened"
        running.factory.start_monitor("1001", Subscriber(None))
        yield task.deferLater(reactor, 1.5, lambda: None)
        assert len(running.switch.snapshot()["calls"]) == 1
    finally:
        yield running.stop()
