"""A started server freezes its heap, so full collections no longer stall it under load."""

from __future__ import annotations

import os
import subprocess
import sys

from cti.server import testing
from cti.server.config import ServerConfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = """
import gc, sys
from twisted.internet import defer, reactor
from cti.server import testing

def main():
    config = testing.server_config(sys.argv[1], freeze_heap=sys.argv[2] == "on")
    before = gc.get_freeze_count()
    running = yield testing.start_server(config=config)
    print(before, gc.get_freeze_count())
    yield running.stop()

def done(result):
    reactor.stop()
    return result

reactor.callWhenRunning(lambda: defer.inlineCallbacks(main)().addBoth(done))
reactor.run()
"""


def _freeze_counts(tmp_path, switch: str) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path}/cti.db", switch],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode == 0, done.stderr
    return [int(n) for n in done.stdout.split()]


def test_a_production_server_freezes_what_it_holds_once_started(tmp_path):
    before, after = _freeze_counts(tmp_path, "on")
    assert before == 0 and after > 10_000


def test_test_servers_leave_the_heap_alone(tmp_path):
    assert _freeze_counts(tmp_path, "off") == [0, 0]


def test_freezing_is_the_default_and_off_for_in_process_test_servers():
    assert ServerConfig().freeze_heap is True
    assert testing.server_config("sqlite://").freeze_heap is False
