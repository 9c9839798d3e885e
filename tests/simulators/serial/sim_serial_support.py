"""Shared pieces of the serial simulator tests: a running switch + front-end + SerialDriver
over a real pty or loopback TCP, and bounded waits on the shared reactor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from twisted.internet import defer, reactor

from cti import events as ev
from drivers.serial.driver import SerialDriver
from simulators.pbx import Switch
from simulators.serial.frontend import SerialFrontEnd, listen, open_pty
from simulators.serial.line import NO_FAULTS, Faults


def sleep(seconds: float) -> defer.Deferred:
    d: defer.Deferred = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


async def until(condition: Callable[[], bool], timeout: float = 5.0, what: str = "") -> None:
    """Waits (polling the shared reactor) until `condition()` holds; fails after `timeout`."""
    deadline = reactor.seconds() + timeout
    while not condition():
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        await sleep(0.01)


def within(d: defer.Deferred, timeout: float) -> defer.Deferred:
    return d.addTimeout(timeout, reactor)


@dataclass
class Rig:
    """A switch served over a serial link, and the real driver connected to it."""

    switch: Switch
    front: SerialFrontEnd
    port: Any
    driver: SerialDriver
    events: list[ev.Event] = field(default_factory=list)

    def named(self, name: str) -> list[ev.Event]:
        return [e for e in self.events if e.event == name]


async def start_rig(kind: str, devices: list[str], *, extensions: range = range(1001, 1010),
                    faults: Faults = NO_FAULTS, seed: int = 0, baud: int | None = 115200,
                    t1: float = 2.0, sink: Callable[[ev.Event], None] | None = None) -> Rig:
    switch = Switch(reactor, external_answer_seconds=None)
    switch.add_extensions(str(n) for n in extensions)
    front = SerialFrontEnd(switch, reactor, baud=baud, faults=faults, seed=seed, t1=t1)
    if kind == "pty":
        port = open_pty(front, reactor)
        url = f"serial://{port.slave_path}?baud={baud or 115200}"
    else:
        port = listen(front, reactor, "127.0.0.1", 0)
        url = f"serial+tcp://127.0.0.1:{port.getHost().port}"
    driver = SerialDriver("pbx1", url, devices=devices, reactor=reactor, t1=t1, retries=8,
                          reconnect_delay=0.2, request_timeout=10.0)
    rig = Rig(switch, front, port, driver)
    driver.add_sink(rig.events.append)
    if sink is not None:
        driver.add_sink(sink)
    driver.start()
    await within(driver.ready(), 10)
    return rig


async def stop_rig(rig: Rig) -> None:
    await within(rig.driver.stop(), 5)
    rig.front.close()
    rig.switch.close()
    if hasattr(rig.port, "stopListening"):
        await rig.port.stopListening()
    else:
        rig.port.loseConnection()
    await sleep(0.02)
