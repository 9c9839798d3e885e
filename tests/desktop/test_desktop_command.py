"""`cti desktop` as users run it: its own process, its own Qt + Twisted loop."""

from __future__ import annotations

import os
import sys

import pytest_twisted
from PyQt5.QtGui import QImage
from twisted.internet import utils

from cti.commands.desktop import build_parser, main
from cti.errors import CLIError
from desktop.app import screenshot_paths

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_cti(*args: str):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": ROOT}
    return utils.getProcessOutputAndValue(sys.executable, ["-m", "cti.cli", *args], env=env,
                                          path=ROOT)


def test_screenshot_of_a_supervisor_gets_a_suffix():
    assert screenshot_paths("/tmp/a.png") == ("/tmp/a.png", "/tmp/a-supervisor.png")


def test_bad_arguments_are_one_line_errors():
    try:
        main(["--screenshot", "x.png"])
    except CLIError as exc:
        assert "--screenshot needs --user and --password" in str(exc) and exc.status == 2
    else:
        raise AssertionError("expected CLIError")
    try:
        main(["--server", "ftp://x", "--user", "a", "--password", "b"])
    except CLIError as exc:
        assert "not an http(s) server URL" in str(exc)
    else:
        raise AssertionError("expected CLIError")
    assert build_parser().parse_args([]).server.startswith("http")


@pytest_twisted.ensureDeferred
async def test_unreachable_server_exits_non_zero_with_one_line():
    out, err, code = await run_cti("desktop", "--server", "http://127.0.0.1:9", "--user", "1001",
                                   "--password", "x", "--screenshot", "/tmp/never.png")
    lines = err.decode().strip().splitlines()
    assert code == 1
    assert lines == ["cti: error: cannot reach the CTI server at http://127.0.0.1:9: "
                     "Connection was refused by other side: 111: Connection refused."]


@pytest_twisted.ensureDeferred
async def test_screenshots_after_connecting_agent_and_supervisor(recorded_api, tmp_path):
    api, url = recorded_api
    api.add_call({"call_id": "c1", "calling": "+4930123456", "called": "2001", "customer_id": 7,
                  "parties": [{"device": "+4930123456", "state": "connected"},
                              {"device": "2001", "state": "connected"}]})
    agent_png = str(tmp_path / "agent.png")
    out, err, code = await run_cti("desktop", "--server", url, "--user", "1001", "--password",
                                   "secret", "--extension", "2001", "--screenshot", agent_png)
    assert code == 0, err.decode()
    assert out.decode().split() == [agent_png]
    image = QImage(agent_png)
    assert image.width() >= 1000 and image.height() >= 600
    assert ("GET", "/customers/7", None) in api.requests  # the pop was rebuilt for the call

    sup_png = str(tmp_path / "sup.png")
    out, err, code = await run_cti("desktop", "--server", url, "--user", "sup", "--password",
                                   "secret", "--screenshot", sup_png)
    assert code == 0, err.decode()
    assert out.decode().split() == [sup_png, str(tmp_path / "sup-supervisor.png")]
    assert not QImage(str(tmp_path / "sup-supervisor.png")).isNull()


@pytest_twisted.ensureDeferred
async def test_screenshot_against_the_real_server(live_server, tmp_path):
    from cti.server.testing import PASSWORD

    running, switch = live_server
    switch.inbound_call("+49301234567", "1001")
    png = str(tmp_path / "real.png")
    out, err, code = await run_cti("desktop", "--server", running.url, "--user", "1001",
                                   "--password", PASSWORD, "--extension", "1001",
                                   "--screenshot", png)
    assert code == 0, err.decode()
    assert out.decode().split() == [png] and not QImage(png).isNull()
