"""`cti bench serial --json`: events per second through a pty, the simulator pacing its bytes
at the configured baud (a pty ignores the baud rate), against the line's capacity.

The serial simulator (simulators/serial) serves a pty; the production SerialDriver opens its
slave and monitors ten extensions. Once the link is up, `--calls` inbound calls (ring, answer,
hang up: four events each) are made on the switch at once, so the link layer's queue holds
them all and the line, not the switch, sets the pace. The rate is measured at the driver's
event sink between the first and the last event. `line_capacity_events_per_second` is what
the line could carry if every bit were an event frame: baud / 10 (8N1) / average frame bytes;
stop and wait (one frame outstanding, each ACKed before the next) is why the measured rate
stays below it.
"""

from __future__ import annotations

import time
from typing import Any

from twisted.internet import defer, task

from cti import events as ev
from cti.commands.args import ArgumentParser
from cti.errors import CLIError

EXTENSIONS = [str(n) for n in range(1000, 1010)]


def run(argv: list[str]) -> dict[str, Any]:
    parser = ArgumentParser(prog="cti bench serial")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--calls", type=int, default=300,
                        help="inbound calls, four events each")
    parser.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.baud <= 0 or args.calls <= 0 or args.timeout <= 0:
        raise CLIError("cti bench serial: --baud, --calls and --timeout must be positive", 2)

    from twisted.internet import reactor

    outcome: dict[str, Any] = {}

    def finished(result: Any) -> None:
        outcome["result"] = result
        reactor.stop()

    reactor.callWhenRunning(
        lambda: defer.ensureDeferred(_measure(reactor, args)).addBoth(finished))
    reactor.run(installSignalHandlers=False)
    result = outcome.get("result")
    if hasattr(result, "raiseException"):
        message = str(result.value).splitlines()[0] if str(result.value) else repr(result.value)
        raise CLIError(f"serial benchmark failed: {message}")
    return result


async def _measure(reactor: Any, args: Any) -> dict[str, Any]:
    from drivers.serial.driver import SerialDriver
    from simulators.pbx import Handsets, Switch
    from simulators.serial.frontend import SerialFrontEnd, open_pty

    switch = Switch(reactor, external_answer_seconds=None)
    switch.add_extensions(EXTENSIONS)
    front = SerialFrontEnd(switch, reactor, baud=args.baud)
    port = open_pty(front, reactor)
    driver = SerialDriver("bench", f"serial://{port.slave_path}?baud={args.baud}",
                          devices=EXTENSIONS, reactor=reactor)
    arrivals: list[float] = []

    def sink(event: ev.Event) -> None:
        if event.event not in (ev.LINK_UP, ev.LINK_DOWN):
            arrivals.append(time.perf_counter())

    driver.add_sink(sink)
    try:
        driver.start()
        await driver.ready().addTimeout(10, reactor)
        front.events_sent = front.event_frame_bytes = 0
        phones = Handsets(switch)
        for n in range(args.calls):
            extension = EXTENSIONS[n % len(EXTENSIONS)]
            phones.call(f"+4930{n:07d}", extension)
            phones.answer(extension)
            phones.hangup(extension)
        expected = front.events_sent
        deadline = reactor.seconds() + args.timeout
        while len(arrivals) < expected:
            if reactor.seconds() > deadline:
                raise RuntimeError(f"only {len(arrivals)} of {expected} events arrived within "
                                   f"{args.timeout:g} s")
            await task.deferLater(reactor, 0.05, lambda: None)
        stats = driver.link_stats
        avg_frame = front.event_frame_bytes / expected
        seconds = arrivals[-1] - arrivals[0]
        rate = (len(arrivals) - 1) / seconds if seconds > 0 else 0.0
        capacity = args.baud / 10 / avg_frame
        return {
            "baud": args.baud,
            "events": len(arrivals),
            "seconds": round(seconds, 3),
            "avg_frame_bytes": round(avg_frame, 2),
            "events_per_second": round(rate, 1),
            "line_capacity_events_per_second": round(capacity, 1),
            "fraction_of_capacity": round(rate / capacity, 3),
            "retransmissions": stats.retransmissions if stats else None,
            "duplicates": stats.duplicates if stats else None,
        }
    finally:
        await driver.stop().addTimeout(5, reactor)
        front.close()
        switch.close()
        port.loseConnection()
