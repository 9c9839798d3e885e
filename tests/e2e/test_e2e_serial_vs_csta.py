"""One scenario, two wire front-ends: the CSTA simulator + CstaDriver and the serial simulator
+ SerialDriver each feed a fresh call model; the finished calls must come out the same.

Both halves run the same scenario file (simulators/scenarios.py) on the same kind of switch
(tests/e2e/csta_rig.py's extensions and trunks), on real loopback TCP / a real pty, with
bounded waits. Call IDs are compared only through their structure (how many IDs a call had),
never by spelling.
"""

from __future__ import annotations

from typing import Any

import pytest_twisted
from twisted.internet import reactor, task

from cti.model import Model
from drivers.serial.driver import SerialDriver
from simulators.pbx import Switch
from simulators.scenarios import ScenarioRunner, parse_scenario
from simulators.serial.frontend import SerialFrontEnd, listen, open_pty
from tests.e2e.csta_rig import EXTENSIONS, LINK, TRUNKS, Rig

WAIT = 10.0

SCENARIO = """
0.2   call +4930123456 -> 1001
+0.1  answer 1001
+0.1  hold 1001
+0.1  retrieve 1001
+0.1  consult 1001 1002
+0.1  answer 1002
+0.1  transfer 1001
+0.1  hangup 1002
+0.1  call +4989765432 -> 1003
+0.1  hangup +4989765432
+0.1  call +4930555666 -> 1004
+0.1  answer 1004
+0.1  consult 1004 1005
+0.1  answer 1005
+0.1  conference 1004
+0.1  hangup 1004
+0.1  hangup 1005
+0.1  call +4940111222 -> 1003
+0.1  answer 1003
+0.1  hangup 1003
"""


def outcome(model: Model) -> list[dict[str, Any]]:
    """The finished calls, oldest first, with every call ID spelling taken out."""
    return [
        {
            "calling": r.calling, "called": r.called, "ani": r.ani, "dnis": r.dnis,
            "answered_by": r.answered_by, "answered": r.answered is not None,
            "parties": sorted(r.parties), "queue": r.queue, "ids": len(r.call_ids),
        }
        for r in sorted(model.history, key=lambda r: r.started)
    ]


async def until(condition, what: str) -> None:
    deadline = reactor.seconds() + WAIT
    while not condition():
        if reactor.seconds() > deadline:
            raise AssertionError(f"timed out after {WAIT:g} s waiting for {what}")
        await task.deferLater(reactor, 0.01, lambda: None)


async def run_scenario(switch: Switch, model: Model) -> None:
    runner = ScenarioRunner(switch, parse_scenario(SCENARIO), strict=True)
    await runner.start()
    await until(lambda: not switch.calls and not model.calls,
                "every call to end at the switch and in the model")


async def through_csta() -> list[dict[str, Any]]:
    rig = Rig("ecma354")
    try:
        await rig.start()
        await run_scenario(rig.switch, rig.model)
        return outcome(rig.model)
    finally:
        await rig.close()


async def through_serial(kind: str) -> list[dict[str, Any]]:
    switch = Switch(reactor, external_answer_seconds=None)
    switch.add_extensions(EXTENSIONS)
    switch.add_trunks(TRUNKS)
    model = Model()
    model.mark_monitored(EXTENSIONS, link=LINK)
    front = SerialFrontEnd(switch, reactor, baud=115200)
    if kind == "pty":
        port = open_pty(front, reactor)
        url = f"serial://{port.slave_path}?baud=115200"
    else:
        port = listen(front, reactor, "127.0.0.1", 0)
        url = f"serial+tcp://127.0.0.1:{port.getHost().port}"
    driver = SerialDriver(LINK, url, devices=EXTENSIONS, reactor=reactor, reconnect_delay=0.2)
    driver.add_sink(model.apply)
    try:
        driver.start()
        await driver.ready().addTimeout(WAIT, reactor)
        await run_scenario(switch, model)
        return outcome(model)
    finally:
        await driver.stop().addTimeout(WAIT, reactor)
        front.close()
        switch.close()
        if kind == "pty":
            port.loseConnection()
        else:
            await port.stopListening()
        await task.deferLater(reactor, 0.01, lambda: None)


@pytest_twisted.ensureDeferred
async def test_the_same_scenario_gives_the_same_finished_calls_over_both_links():
    csta = await through_csta()
    assert [c["calling"] for c in csta] == [
        "+4930123456", "+4989765432", "+4930555666", "+4940111222"]
    assert csta[0]["ids"] == 3 and csta[0]["answered_by"] == "1001"  # transferred: 3 IDs
    for kind in ("pty", "tcp"):
        serial = await through_serial(kind)
        assert serial == csta, f"serial over {kind} differs from CSTA"
