"""`cti smdr parse` and `cti smdr listen` as a user runs them."""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import threading
import time

import pytest

from cti import cli

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def run_cti(args, capsys):
    status = cli.main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_parse_prints_one_json_object_per_record(capsys):
    status, out, err = run_cti(
        ["smdr", "parse", os.path.join(FIXTURES, "avaya-ip-office.csv"), "--json"], capsys
    )
    assert status == 0 and err == ""
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["format"] for line in lines] == ["avaya-ipo"] * 4
    assert lines[0]["start"] == "2008-06-28T09:28:41" and lines[0]["direction"] == "in"


def test_parse_with_explicit_format(capsys):
    status, out, _ = run_cti(
        ["smdr", "parse", os.path.join(FIXTURES, "nec-neax-smdr.bin"), "--format", "nec-neax",
         "--json"], capsys,
    )
    assert status == 0 and len(out.splitlines()) == 3


def test_unparseable_lines_warn_on_stderr_and_do_not_stop_the_run(tmp_path, capsys):
    capture = tmp_path / "mixed.txt"
    good = open(os.path.join(FIXTURES, "siemens-hipath-serial.txt"), "rb").read()
    capture.write_bytes(b"\x0c\r\n" + good + b"not a call record at all\r\n")
    status, out, err = run_cti(["smdr", "parse", str(capture), "--json"], capsys)
    assert status == 0
    assert len(out.splitlines()) == 27
    assert err.count("\n") == 1 and "line 29:" in err and "warning" in err


def test_missing_file_is_a_one_line_error(capsys):
    status, out, err = run_cti(["smdr", "parse", "/nonexistent/smdr.txt", "--json"], capsys)
    assert status != 0 and out == ""
    assert err.count("\n") == 1 and "cannot read /nonexistent/smdr.txt" in err


def test_unknown_format_is_a_one_line_error(capsys):
    status, _, err = run_cti(["smdr", "parse", "x", "--format", "nortel"], capsys)
    assert status == 2 and err.count("\n") == 1 and "nortel" in err


def cti_process(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "cti.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def wait_until_opened(pid: int, device: str, timeout: float = 15.0) -> None:
    """Opening a serial port flushes its input, so write only once the reader holds it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(_link(pid, fd) == device for fd in fds):
                time.sleep(0.2)
                return
        except FileNotFoundError:
            return
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never opened {device}")


def _link(pid: int, fd: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return None


def test_listen_reads_records_from_a_serial_port():
    master, slave = pty.openpty()
    try:
        process = cti_process(
            "smdr", "listen", f"serial://{os.ttyname(slave)}?baud=9600", "--json", "--count",
            "3", "--seconds", "20",
        )
        wait_until_opened(process.pid, os.ttyname(slave))
        os.write(master, open(os.path.join(FIXTURES, "nec-neax-smdr.bin"), "rb").read())
        out, err = process.communicate(timeout=30)
    finally:
        os.close(master)
        os.close(slave)
    assert process.returncode == 0, err
    kinds = [json.loads(line)["record_kind"] for line in out.decode().splitlines()]
    assert kinds == ["KK", "KL", "KM"]


def test_listen_reads_records_from_a_terminal_server():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def terminal_server():
        connection, _ = server.accept()
        with connection:
            connection.sendall(open(os.path.join(FIXTURES, "avaya-ip-office.csv"), "rb").read())

    thread = threading.Thread(target=terminal_server, daemon=True)
    thread.start()
    try:
        process = cti_process(
            "smdr", "listen", f"serial+tcp://127.0.0.1:{port}", "--json", "--count", "4",
            "--seconds", "20",
        )
        out, err = process.communicate(timeout=30)
    finally:
        server.close()
        thread.join(5)
    assert process.returncode == 0, err
    assert [json.loads(line)["format"] for line in out.decode().splitlines()] == ["avaya-ipo"] * 4


@pytest.mark.parametrize("url", ["serial+tcp://127.0.0.1:1", "serial:///dev/does-not-exist"])
def test_listen_to_an_unreachable_link_is_a_one_line_error(url):
    process = cti_process("smdr", "listen", url, "--json", "--seconds", "20")
    out, err = process.communicate(timeout=30)
    assert process.returncode != 0 and out == b""
    assert err.decode().count("\n") == 1 and err.startswith(b"cti: error: cannot open")
