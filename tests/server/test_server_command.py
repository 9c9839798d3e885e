"""`cti server --config FILE` as an operator runs it: a real process on a real port."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _interruptible() -> None:
    """Ctrl-C as at a terminal: a suite started in the background (a non-interactive shell's
    `&`, some CI runners) hands its children SIGINT ignored, and Python and Twisted both keep
    an ignored SIGINT ignored, so the server would never see the test's interrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(config_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    return subprocess.Popen(
        [sys.executable, "-m", "cti.cli", "server", "--config", str(config_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        preexec_fn=_interruptible,
    )


def _interrupt(process, timeout):
    """SIGINT, then wait for the exit while draining both pipes (a full pipe would block the
    server's logging and so its shutdown); kill a server that outlives `timeout`."""
    process.send_signal(signal.SIGINT)
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def _read_until(stream, needle, timeout):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            line = stream.readline()
            if not line:
                break
            seen.append(line)
            if needle in line:
                return line, seen
    raise AssertionError(f"{needle!r} not seen within {timeout}s: {seen}")


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "cti.toml"
    path.write_text(f'''
[database]
url = "sqlite:///{tmp_path}/cti.db"
upgrade = true
[api]
listen = "127.0.0.1:0"
[logging]
format = "json"
[[links]]
name = "gone"
url = "csta://127.0.0.1:1"
devices = "1001"
retry_seconds = 0.3
''')
    return path


def test_server_prints_the_bound_port_serves_the_api_and_keeps_retrying_the_switch(config_file):
    process = _start(config_file)
    try:
        line, _ = _read_until(process.stdout, "api listening on", 30)
        host, port = line.strip().rsplit(" ", 1)[1].rsplit(":", 1)
        assert host == "127.0.0.1" and int(port) > 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5) as r:
            assert json.load(r)["openapi"].startswith("3.")
        warning, _ = _read_until(process.stderr, "unreachable; still retrying", 10)
        record = json.loads(warning)
        assert record["level"] == "warn" and record["link"] == "gone"
    finally:
        _interrupt(process, 10)
    assert process.returncode == 0


def test_a_bad_config_is_one_line_and_a_non_zero_exit(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[api]\nlisten = "nowhere"\n')
    process = _start(path)
    out, err = process.communicate(timeout=30)
    assert process.returncode != 0
    assert err.strip().count("\n") == 0
    assert "listen" in err and "Traceback" not in err
