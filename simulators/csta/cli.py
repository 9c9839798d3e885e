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
from cti.numbers import parse_device_list
from simulators.csta.server import ECMA354, SESSION_STYLES, CSTAServerFactory
from simulators.pbx.model import DISTRIBUTIONS, HUNT
from simulators.pbx.switch import Switch
from simulators.scenarios import ScenarioError, ScenarioRunner, load_scenario
from simulators.traffic import HOLDING_DISTRIBUTIONS, TrafficGenerator


def _rate(text: str) -> float:
    """Calls per second, or per hour with a ``/h`` suffix (``3600/h`` == ``1``)."""
    per_hour = text.endswith("/h")
    try:
        value = float(text[:-2] if per_hour else text.removesuffix("/s"))
    except ValueError:
        raise ValueError(f"bad rate {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"rate must be positive, got {text!r}")
    return value / 3600 if per_hour else value


def _pilot(text: str) -> tuple[str, list[str], str]:
    """``5000=1000-1009:hunt`` -> ("5000", members, "hunt")."""
    number, sep, rest = text.partition("=")
    members, _, distribution = rest.partition(":")
    distribution = distribution or HUNT
    if not sep or not number.isdigit() or distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"expected PILOT=MEMBERS[:{'|'.join(DISTRIBUTIONS)}], got {text!r}"
        )
    return number, parse_device_list(members), distribution


def _agent(text: str) -> tuple[str, str]:
    agent, sep, password = text.partition(":")
    if not agent:
        raise ValueError(f"expected AGENT[:PASSWORD], got {text!r}")
    return agent, password


def _arg_type(convert: Any, name: str) -> Any:
    import argparse

    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = name
    return wrapped


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(f"must not be negative, got {text!r}")
    return value


def parse_args(argv: list[str]) -> Any:
    parser = ArgumentParser(prog="cti sim csta", description="CSTA (ECMA-323) switch simulator")
    parser.add_argument("--listen", type=host_port, required=True, metavar="HOST:PORT")
    parser.add_argument("--extensions", type=_arg_type(parse_device_list, "devices"),
                        default=parse_device_list("1000-1099"), metavar="LIST")
    parser.add_argument("--trunks", type=_arg_type(parse_device_list, "devices"), default=[],
                        metavar="LIST", help="trunk channels (default: unlimited, unnamed)")
    parser.add_argument("--pilots", type=_arg_type(_pilot, "pilot"), nargs="+", default=[],
                        metavar="PILOT=MEMBERS[:DIST]")
    parser.add_argument("--queues", type=_arg_type(parse_device_list, "devices"), default=[],
                        metavar="LIST", help="ACD queue devices")
    parser.add_argument("--agents", type=_arg_type(_agent, "agent"), nargs="+", default=[],
                        metavar="AGENT[:PASSWORD]",
                        help="known agent IDs (default: any agent ID, any password)")
    parser.add_argument("--session-style", choices=SESSION_STYLES, default=ECMA354)
    parser.add_argument("--keepalive", type=_arg_type(_non_negative, "seconds"), default=30.0,
                        metavar="SECONDS", help="idle time before SystemStatus (0: never)")
    parser.add_argument("--max-session", type=int, default=300, metavar="SECONDS",
                        help="longest ECMA-354 session duration granted")
    parser.add_argument("--route-timeout", type=_arg_type(_non_negative, "seconds"),
                        default=5.0, metavar="SECONDS")
    parser.add_argument("--auto-answer", type=_arg_type(_non_negative, "seconds"), default=None,
                        metavar="SECONDS", help="extensions answer by themselves after this")
    parser.add_argument("--external-answer", type=_arg_type(_non_negative, "seconds"),
                        default=3.0, metavar="SECONDS",
                        help="outside numbers answer outgoing calls after this")
    parser.add_argument("--scenario", metavar="FILE")
    parser.add_argument("--rate", type=_arg_type(_rate, "rate"), metavar="CPS",
                        help="generated inbound calls per second (N/h: per hour)")
    parser.add_argument("--burst", action="store_true",
                        help="generate calls as fast as possible (benchmarks)")
    parser.add_argument("--holding", type=_arg_type(_non_negative, "seconds"), default=60.0,
                        metavar="SECONDS", help="mean holding time of generated calls")
    parser.add_argument("--holding-distribution", choices=HOLDING_DISTRIBUTIONS,
                        default="exponential")
    parser.add_argument("--ring-delay", type=_arg_type(_non_negative, "seconds"), default=1.0,
                        metavar="SECONDS", help="generated calls are answered after this")
    parser.add_argument("--targets", type=_arg_type(parse_device_list, "devices"),
                        metavar="LIST", help="numbers generated calls dial (default: pilots, "
                        "else extensions)")
    parser.add_argument("--national-share", type=float, default=0.0, metavar="FRACTION",
                        help="share of generated callers in national form (030...)")
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args(argv)
    if options.rate is not None and options.burst:
        raise CLIError("cti sim csta: --rate and --burst exclude each other", 2)
    return options


def build_switch(options: Any, clock: Any) -> Switch:
    switch = Switch(
        clock, external_answer_seconds=options.external_answer,
        route_timeout=options.route_timeout, agents=dict(options.agents),
    )
    try:
        switch.add_extensions(options.extensions, auto_answer=options.auto_answer)
        switch.add_trunks(options.trunks)
        for number in options.queues:
            switch.add_queue(number)
        for number, members, distribution in options.pilots:
            unknown = [m for m in members if m not in switch.devices]
            if unknown:
                raise ValueError(f"pilot {number}: members {', '.join(unknown)} are not extensions")
            switch.add_pilot(number, members, distribution)
    except ValueError as exc:
        raise CLIError(f"cti sim csta: {exc}", 2) from None
    return switch


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
        if self.traffic is not None:
            self.traffic.close()
        if self.scenario is not None:
            self.scenario.stop()
        self.factory.close()
        self.switch.close()
        return self.port.stopListening()


def start(options: Any, reactor: Any) -> RunningSimulator:
    """Build the switch, listen, and start the scenario and traffic, in a running reactor."""
    steps = None
    if options.scenario:
        try:
            steps = load_scenario(options.scenario)
        except ScenarioError as exc:
            raise CLIError(f"cti sim csta: {exc}", 2) from None
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
    if steps is not None:
        running.scenario = ScenarioRunner(switch, steps)
        running.scenario.start()
    if options.rate is not None or options.burst:
        targets = options.targets or [p[0] for p in options.pilots] or options.extensions
        try:
            running.traffic = TrafficGenerator(
                switch, targets, rate=None if options.burst else options.rate,
                holding=options.holding, holding_distribution=options.holding_distribution,
                ring_delay=options.ring_delay, seed=options.seed,
                national_share=options.national_share,
                congested=lambda: factory.congested,
            )
        except Exception as exc:
            running.stop()
            raise CLIError(f"cti sim csta: {exc}", 2) from None
        factory.drained.append(running.traffic.kick)
        running.traffic.start()
    return running


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    from twisted.internet import reactor

    running = start(options, reactor)
    host, port = running.address
    shown = f"[{host}]" if ":" in host else host
    # Announced once the reactor runs, i.e. once SIGTERM/SIGINT stop it cleanly.
    reactor.callWhenRunning(print, f"listening on {shown}:{port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]
    sys.stdout.flush()
    return 0
