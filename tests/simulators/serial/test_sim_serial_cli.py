"""`cti sim serial`: arguments, set-up inside the running reactor, and the real command."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest
import pytest_twisted
import serial
from twisted.internet import reactor

from cti import events as ev
from cti.errors import CLIError
from drivers.serial.driver import SerialDriver
from drivers.serial.smdr import read_bytes
from simulators.serial import cli
from tests.simulators.serial.sim_serial_support import until, within

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ENV = dict(os.environ, PYTHONPATH=ROOT)


@pytest.mark.parametrize(
    "argv",
    [
        ["--pty", "--listen", "127.0.0.1:0"],
        ["--listen", "nowhere"],
        ["--extensions", "10-x"],
        ["--pilots", "5000=1000-1001:sideways"],
        ["--rate", "-1"],
        ["--rate", "1", "--burst"],
        ["--holding", "-5"],
        ["--baud", "0"],
        ["--baud", "fast"],
        ["--faults", "noise=2"],
        ["--faults", "hum=0.1"],
        ["--smdr-format", "punchcard"],
    ],
)
def test_bad_arguments_are_one_line_cli_errors(argv):
    with pytest.raises(CLIError) as info:
        cli.parse_args(argv)
    assert "\n" not in str(info.value) and str(info.value).startswith("cti sim serial")


def test_defaults_mirror_the_csta_simulator():
    options = cli.parse_args([])
    assert (options.pty, options.listen, options.baud, options.smdr) == (False, None, 115200, None)
    assert options.extensions[0] == "1000" and options.extensions[-1] == "1099"
    assert cli.parse_args(["--rate", "7200/h"]).rate == pytest.approx(2.0)
    assert cli.parse_args(["--faults", "noise=0.01,drop=0.001"]).faults.noise == 0.01


def test_a_bad_scenario_or_smdr_file_is_reported_before_serving(tmp_path):
    scenario = tmp_path / "bad.scn"
    scenario.write_text("1 ring 1001\n")
    with pytest.raises(CLIError, match="line 1"):
        cli.start(cli.parse_args(["--scenario", str(scenario)]), reactor)
    with pytest.raises(CLIError, match="cannot write SMDR"):
        cli.start(cli.parse_args(["--smdr", str(tmp_path / "no" / "such" / "dir")]), reactor)


def test_a_port_in_use_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CLIError, match=f"cannot open 127.0.0.1:{port}"):
            cli.start(cli.parse_args(["--listen", f"127.0.0.1:{port}"]), reactor)


@pytest_twisted.ensureDeferred
async def test_scenario_through_the_pty_to_the_driver_and_smdr_to_a_file(tmp_path):
    scenario = tmp_path / "short.scn"
    scenario.write_text("0.5 call +4930123456 -> 1001\n+0.2 answer 1001\n+0.2 hangup 1001\n")
    smdr = tmp_path / "calls.txt"
    running = cli.start(cli.parse_args(["--pty", "--extensions", "1000-1009", "--smdr",
                                        str(smdr), "--scenario", str(scenario)]), reactor)
    assert running.announcement.startswith("pty /dev/")
    driver = SerialDriver("pbx1", running.url + "?baud=115200", devices=["1001"],
                          reactor=reactor)
    seen: list[ev.Event] = []
    driver.add_sink(seen.append)
    try:
        driver.start()
        await within(driver.ready(), 5)
        await until(lambda: any(e.event == ev.CALL_CLEARED for e in seen), timeout=5)
        assert [e.event for e in seen if e.call_id] == [
            ev.DELIVERED, ev.ESTABLISHED, ev.CONNECTION_CLEARED, ev.CALL_CLEARED]
        ((_, record),) = list(read_bytes(smdr.read_bytes()))
        assert (record.extension, record.number, record.direction) == ("1001", "+4930123456",
                                                                       "in")
    finally:
        await within(driver.stop(), 5)
        running.stop()


@pytest_twisted.ensureDeferred
async def test_listen_announces_the_bound_port():
    running = cli.start(cli.parse_args(["--listen", "127.0.0.1:0"]), reactor)
    try:
        assert running.announcement == f"listening on 127.0.0.1:{running.port.getHost().port}"
        assert running.url == f"serial+tcp://127.0.0.1:{running.port.getHost().port}"
    finally:
        await running.stop()


def _spawn(*argv: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cti.cli", "sim", "serial", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, env=ENV)


def _finish(process: subprocess.Popen) -> int:
    try:
        process.send_signal(signal.SIGTERM)
        return process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_the_command_prints_its_pty_and_the_pbx_asks_enq():
    process = _spawn("--pty", "--extensions", "1000-1009")
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("pty /dev/")
        with serial.Serial(line.split(" ", 1)[1], 115200, timeout=5) as port:
            assert port.read(1) == b"\x05"  # ENQ: "are you there"
    finally:
        assert _finish(process) == 0


def test_the_command_listens_like_a_terminal_server():
    process = _spawn("--listen", "127.0.0.1:0", "--extensions", "1000-1009")
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("listening on 127.0.0.1:")
        port = int(line.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.settimeout(5)
            assert connection.recv(1) == b"\x05"
    finally:
        assert _finish(process) == 0


def test_the_command_reports_a_bad_argument_in_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "cti.cli", "sim", "serial", "--faults", "noise=lots"],
        capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "noise" in result.stderr


@pytest_twisted.ensureDeferred
async def test_generated_traffic_over_tcp_and_its_call_records(tmp_path):
    smdr = tmp_path / "calls.txt"
    running = cli.start(cli.parse_args([
        "--listen", "127.0.0.1:0", "--extensions", "1000-1004", "--rate", "40",
        "--holding", "0.1", "--holding-distribution", "fixed", "--ring-delay", "0.02",
        "--seed", "3", "--smdr", str(smdr), "--smdr-format", "avaya-ipo",
    ]), reactor)
    driver = SerialDriver("pbx1", running.url, devices=[f"100{n}" for n in range(5)],
                          reactor=reactor)
    seen: list[ev.Event] = []
    driver.add_sink(seen.append)
    try:
        driver.start()
        await within(driver.ready(), 5)
        await until(lambda: sum(e.event == ev.CALL_CLEARED for e in seen) >= 5, timeout=10,
                    what="five generated calls to end")
        records = [r for _, r in read_bytes(smdr.read_bytes(), "avaya-ipo")]
        assert len(records) >= 5
        assert all(r.direction == "in" and r.number.startswith("+4930") for r in records)
        assert {r.extension for r in records} <= {f"100{n}" for n in range(5)}
    finally:
        await within(driver.stop(), 5)
        await running.stop()
