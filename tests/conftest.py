"""One reactor for the whole suite: Twisted's asyncio reactor on a qasync (Qt) event loop.

The protocol, server and desktop tests then share a single event loop, as the desktop does in
production (field-notes.md: Qt + Twisted recipe). The QApplication must exist before the loop,
and the reactor must be installed before anything imports twisted.internet.reactor, hence the
tryfirst configure hook in the root conftest.
"""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = tempfile.mkdtemp(prefix="cti-xdg-")
        os.chmod(runtime, 0o700)
        os.environ["XDG_RUNTIME_DIR"] = runtime
    if "twisted.internet.reactor" in sys.modules:
        return
    import asyncio

    import qasync
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["cti-tests"])
    # Closing a test's last window must not end the Qt loop: it is the whole suite's reactor.
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    from twisted.internet import asyncioreactor

    asyncioreactor.install(eventloop=loop)


@pytest.fixture
def samples_dir() -> str:
    """shared/samples (real switch output), beside the repository as in CI."""
    path = os.path.join(SHARED, "samples")
    if not os.path.isdir(path):
        pytest.skip("shared/samples is not beside this checkout")
    return path


SETTLE_SECONDS = 3.0
"""How long a test's cleanup may take to settle (a request to a server just stopped being
refused, a closing handshake) on a loaded machine; a real leak outlives it."""


def _listening(reactor) -> list:
    from twisted.internet import tcp

    return [reader for reader in reactor.getReaders() if isinstance(reader, tcp.Port)]


@pytest.fixture(autouse=True)
def reactor_left_clean():
    """Fail a test that leaves delayed calls or listening ports on the shared reactor: they
    fire or answer during a later test, which then fails for no fault of its own. What was
    already there before the test is not its doing; cleanup still settling gets SETTLE_SECONDS."""
    import pytest_twisted
    from twisted.internet import reactor, task

    calls_before = set(reactor.getDelayedCalls())
    ports_before = set(_listening(reactor))
    yield

    def leftovers() -> tuple[list, list]:
        calls = [call for call in reactor.getDelayedCalls()
                 if call.active() and call not in calls_before]
        return calls, [port for port in _listening(reactor) if port not in ports_before]

    calls, ports = leftovers()
    deadline = reactor.seconds() + SETTLE_SECONDS
    while (calls or ports) and reactor.seconds() < deadline:
        pytest_twisted.blockon(task.deferLater(reactor, 0.05, lambda: None))
        calls, ports = leftovers()
    if not (calls or ports):
        return
    found = ([f"delayed call {call.func!r} due in {call.getTime() - reactor.seconds():.1f}s"
              for call in calls] + [f"listening port {port}" for port in ports])
    for call in calls:
        call.cancel()
    for port in ports:
        port.stopListening()
    pytest.fail("left on the shared reactor: " + "; ".join(found), pytrace=False)
