"""`cti sim csta`: the simulated switch behind an ECMA-323 TCP server.

Parsing and building (`parse_args`, `build_switch`, `start`) are separate from running the
reactor (`main`), so tests set the same simulator up inside their own running reactor.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from twisted.internet.error import CannotListenError

from cti.commands.args import ArgumentParser, host_port
from cti.errors import CLIError
from simulators import options as shared
from simulators.csta.server import ECMA354, SESSION_STYLES, CSTAServerFactory
from simulators.pbx.model import VoiceMessage
from simulators.pbx.switch import Switch
from simulators.scenarios import ScenarioRunner
from simulators.traffic import TrafficGenerator

PROG = "cti sim csta"


def parse_args(argv: list[str]) -> Any:
    parser = ArgumentParser(prog=PROG, description="CSTA (ECMA-323) switch simulator")
    parser.add_argument("--listen", type=host_port, required=True, metavar="HOST:PORT")
    shared.add_switch_arguments(parser)
    parser.add_argument("--session-style", choices=SESSION_STYLES, default=ECMA354)
    parser.add_argument("--keepalive", type=shared.typed(shared.seconds, "seconds"),
                        default=30.0, metavar="SECONDS",
                        help="idle time before SystemStatus (0: never)")
    parser.add_argument("--max-session", type=int, default=300, metavar="SECONDS",
                        help="longest ECMA-354 session duration granted")
    parser.add_argument("--route-timeout", type=shared.typed(shared.seconds, "seconds"),
                        default=5.0, metavar="SECONDS")
    parser.add_argument("--scenario-start", choices=("monitored", "now"), default="monitored",
                        help="run the scenario a second after the first MonitorStart, so a "
                        "client sees it from its first call (default), or at once")
    options = parser.parse_args(argv)
    shared.check_switch_arguments(options, PROG)
    return options


def build_switch(options: Any, clock: Any) -> Switch:
    return shared.build_switch(options, clock, PROG, route_timeout=options.route_timeout)


@dataclass
class RunningSimulator:
    """A listening simulator; `stop()` undoes everything `start` did."""

    switch: Switch
    factory: CSTAServerFactory
    port: Any
    traffic: TrafficGenerator | None = None
    scenario: ScenarioRunner | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def address(self) -> tuple[str, int]:
        host = self.port.getHost()
        return host.host, host.port

    def stop(self) -> Any:
        timer = self.extra.pop("scenario_timer", None)
        if timer is not None and timer.active():
            timer.cancel()
        if self.traffic is not None:
            self.traffic.close()
        if self.scenario is not None:
            self.scenario.stop()
        self.factory.close()
        self.switch.close()
        return self.port.stopListening()


def start(options: Any, reactor: Any) -> RunningSimulator:
    """Build the switch, listen, and start the scenario and traffic, in a running reactor."""
    steps = shared.load_steps(options, PROG)
    switch = build_switch(options, reactor)
    factory = CSTAServerFactory(
        switch, session_style=options.session_style, keepalive=options.keepalive,
        max_session_duration=options.max_session,
    )
    host, port_number = options.listen
    try:
        port = reactor.listenTCP(port_number, factory, interface=host)
    except CannotListenError as exc:
        factory.close()
        reason = getattr(exc.socketError, "strerror", None) or str(exc.socketError)
        raise CLIError(f"cti sim csta: cannot listen on {host}:{port_number}: {reason}") from None
    running = RunningSimulator(switch, factory, port)
    if steps is not None and options.scenario_start == "monitored":
        def begin() -> None:
            running.extra["scenario_timer"] = reactor.callLater(1.0, begin_now)

        def begin_now() -> None:
            running.scenario = shared.start_scenario(switch, steps)

        factory.first_monitor.append(begin)
    else:
        running.scenario = shared.start_scenario(switch, steps)
    try:
        running.traffic = shared.make_traffic(options, switch, PROG,
                                              congested=lambda: factory.congested)
    except CLIError:
        running.stop()
        raise
    if running.traffic is not None:
        factory.drained.append(running.traffic.kick)
        running.traffic.start()
    return running


def _print_voice_message(message: VoiceMessage) -> None:
    print(f"voice mail: mailbox {message.mailbox}: {message.seconds:.1f} s from "
          f"{message.caller or 'unknown'} (call {message.call_id})", flush=True)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    from twisted.internet import reactor

    running = start(options, reactor)
    running.switch.recorded.append(_print_voice_message)
    host, port = running.address
    shown = f"[{host}]" if ":" in host else host
    # Announced once the reactor runs, i.e. once SIGTERM/SIGINT stop it cleanly.
    reactor.callWhenRunning(print, f"listening on {shown}:{port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]
    sys.stdout.flush()
    return 0
