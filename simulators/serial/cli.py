"""`cti sim serial`: the simulated switch behind a serial CTI link (a pty or a TCP port).

Parsing and building (`parse_args`, `start`) are separate from running the reactor (`main`),
so tests set the same simulator up inside their own running reactor. The switch, scenario and
traffic options are the CSTA simulator's (simulators/csta/cli.py), so one scenario file runs
through both front-ends.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet.error import CannotListenError

from cti.commands.args import ArgumentParser, host_port
from cti.errors import CLIError
from cti.numbers import parse_device_list
from simulators.pbx.model import DISTRIBUTIONS, HUNT
from simulators.pbx.switch import Switch
from simulators.scenarios import ScenarioError, ScenarioRunner, load_scenario
from simulators.serial.frontend import SerialFrontEnd, SerialServerFactory, open_pty
from simulators.serial.line import parse_faults
from simulators.serial.smdr import FORMATS, SmdrPrinter
from simulators.traffic import HOLDING_DISTRIBUTIONS, TrafficGenerator

PROG = "cti sim serial"


def _typed(convert: Any, name: str) -> Any:
    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = name
    return wrapped


def _rate(text: str) -> float:
    """Calls per second, or per hour with a ``/h`` suffix, as `cti sim csta --rate`."""
    per_hour = text.endswith("/h")
    value = float(text[:-2] if per_hour else text.removesuffix("/s"))
    if not 0 < value < float("inf"):
        raise ValueError(f"rate must be positive, got {text!r}")
    return value / 3600 if per_hour else value


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 <= value < float("inf"):
        raise ValueError(f"must be zero or more seconds, got {text!r}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(f"must be more than zero, got {text!r}")
    return value


def _baud(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(f"baud must be positive (0 is not a line speed), got {text!r}")
    return value


def _pilot(text: str) -> tuple[str, list[str], str]:
    """``5000=1000-1009:hunt`` -> ("5000", members, "hunt")."""
    number, sep, rest = text.partition("=")
    members, _, distribution = rest.partition(":")
    distribution = distribution or HUNT
    if not sep or not number.isdigit() or distribution not in DISTRIBUTIONS:
        raise ValueError(f"expected PILOT=MEMBERS[:{'|'.join(DISTRIBUTIONS)}], got {text!r}")
    return number, parse_device_list(members), distribution


def _agent(text: str) -> tuple[str, str]:
    agent, _, password = text.partition(":")
    if not agent:
        raise ValueError(f"expected AGENT[:PASSWORD], got {text!r}")
    return agent, password


def parse_args(argv: list[str]) -> Any:
    parser = ArgumentParser(prog=PROG, description="serial-link PBX simulator")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve a pseudo-terminal (default)")
    where.add_argument("--listen", type=host_port, metavar="HOST:PORT",
                       help="serve TCP like a terminal server (serial+tcp://)")
    parser.add_argument("--smdr", metavar="FILE", help="call records to FILE (default stdout)")
    parser.add_argument("--smdr-format", choices=sorted(FORMATS), default="siemens-hipath")
    parser.add_argument("--extensions", type=_typed(parse_device_list, "devices"),
                        default=parse_device_list("1000-1099"), metavar="LIST")
    parser.add_argument("--trunks", type=_typed(parse_device_list, "devices"), default=[],
                        metavar="LIST", help="trunk channels (default: unlimited, unnamed)")
    parser.add_argument("--pilots", type=_typed(_pilot, "pilot"), nargs="+", default=[],
                        metavar="PILOT=MEMBERS[:DIST]")
    parser.add_argument("--queues", type=_typed(parse_device_list, "devices"), default=[],
                        metavar="LIST")
    parser.add_argument("--agents", type=_typed(_agent, "agent"), nargs="+", default=[],
                        metavar="AGENT[:PASSWORD]")
    parser.add_argument("--auto-answer", type=_typed(_seconds, "seconds"), default=None,
                        metavar="SECONDS")
    parser.add_argument("--external-answer", type=_typed(_seconds, "seconds"), default=3.0,
                        metavar="SECONDS")
    parser.add_argument("--scenario", metavar="FILE")
    parser.add_argument("--rate", type=_typed(_rate, "rate"), metavar="CPS",
                        help="generated inbound calls per second (N/h: per hour)")
    parser.add_argument("--burst", action="store_true",
                        help="generate calls as fast as possible (benchmarks)")
    parser.add_argument("--holding", type=_typed(_seconds, "seconds"), default=60.0,
                        metavar="SECONDS")
    parser.add_argument("--holding-distribution", choices=HOLDING_DISTRIBUTIONS,
                        default="exponential")
    parser.add_argument("--ring-delay", type=_typed(_seconds, "seconds"), default=1.0,
                        metavar="SECONDS")
    parser.add_argument("--targets", type=_typed(parse_device_list, "devices"), metavar="LIST")
    parser.add_argument("--seed", type=int, default=None,
                        help="seeds generated traffic and injected faults (default 0 for faults)")
    parser.add_argument("--baud", type=_typed(_baud, "baud"), default=115200,
                        help="bytes are paced at BAUD/10 per second (8N1)")
    parser.add_argument("--faults", type=_typed(parse_faults, "faults"), default=parse_faults(""),
                        metavar="noise=P,drop=P,checksum=P,silence=S,silence_for=S,disconnect=S")
    parser.add_argument("--t1", type=_typed(_positive, "seconds"), default=2.0, metavar="SECONDS")
    parser.add_argument("--keepalive", type=_typed(_seconds, "seconds"), default=30.0,
                        metavar="SECONDS")
    options = parser.parse_args(argv)
    if options.rate is not None and options.burst:
        raise CLIError(f"{PROG}: --rate and --burst exclude each other", 2)
    return options


def build_switch(options: Any, clock: Any) -> Switch:
    switch = Switch(clock, external_answer_seconds=options.external_answer,
                    agents=dict(options.agents))
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
        raise CLIError(f"{PROG}: {exc}", 2) from None
    return switch


@dataclass
class RunningSimulator:
    """A serving simulator; `stop()` undoes everything `start` did."""

    switch: Switch
    front: SerialFrontEnd
    port: Any
    printer: SmdrPrinter
    smdr_file: IO[str] | None = None
    traffic: TrafficGenerator | None = None
    scenario: ScenarioRunner | None = None

    @property
    def announcement(self) -> str:
        """The ready line: ``pty /dev/pts/N`` or ``listening on HOST:PORT``."""
        slave = getattr(self.port, "slave_path", None)
        if slave is not None:
            return f"pty {slave}"
        host = self.port.getHost()
        shown = f"[{host.host}]" if ":" in host.host else host.host
        return f"listening on {shown}:{host.port}"

    @property
    def url(self) -> str:
        """What a driver connects to (the baud is the driver's business on a pty)."""
        slave = getattr(self.port, "slave_path", None)
        if slave is not None:
            return f"serial://{slave}"
        host = self.port.getHost()
        return f"serial+tcp://{host.host}:{host.port}"

    def stop(self) -> Any:
        if self.traffic is not None:
            self.traffic.close()
        if self.scenario is not None:
            self.scenario.stop()
        self.printer.close()
        self.front.close()
        self.switch.close()
        if self.smdr_file is not None:
            self.smdr_file.close()
        if hasattr(self.port, "stopListening"):
            return self.port.stopListening()
        self.port.loseConnection()
        return None


def start(options: Any, reactor: Any, smdr_out: IO[str] | None = None) -> RunningSimulator:
    """Build the switch, open the port, start SMDR, scenario and traffic, in a running reactor."""
    steps = None
    if options.scenario:
        try:
            steps = load_scenario(options.scenario)
        except ScenarioError as exc:
            raise CLIError(f"{PROG}: {exc}", 2) from None
    switch = build_switch(options, reactor)
    smdr_file = None
    if smdr_out is None:
        if options.smdr:
            try:
                smdr_file = smdr_out = open(options.smdr, "a", encoding="ascii", newline="")
            except OSError as exc:
                raise CLIError(f"{PROG}: cannot write SMDR to {options.smdr}: {exc.strerror}",
                               2) from None
        else:
            smdr_out = sys.stdout
    front = SerialFrontEnd(
        switch, reactor, baud=options.baud, faults=options.faults,
        seed=0 if options.seed is None else options.seed, t1=options.t1,
        keepalive=options.keepalive,
    )
    try:
        if options.listen:
            host, number = options.listen
            port = reactor.listenTCP(number, SerialServerFactory(front), interface=host)
        else:
            port = open_pty(front, reactor)
    except (CannotListenError, OSError) as exc:
        front.close()
        if smdr_file is not None:
            smdr_file.close()
        where = "{}:{}".format(*options.listen) if options.listen else "a pty"
        reason = getattr(getattr(exc, "socketError", None), "strerror", None) or str(exc)
        raise CLIError(f"{PROG}: cannot open {where}: {reason}") from None
    printer = SmdrPrinter(switch, smdr_out, options.smdr_format)
    running = RunningSimulator(switch, front, port, printer, smdr_file)
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
            )
        except Exception as exc:
            running.stop()
            raise CLIError(f"{PROG}: {exc}", 2) from None
        running.traffic.start()
    return running


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    from twisted.internet import reactor

    running = start(options, reactor)
    # Announced once the reactor runs, i.e. once SIGTERM/SIGINT stop it cleanly.
    reactor.callWhenRunning(print, running.announcement, flush=True)
    reactor.run()  # type: ignore[attr-defined]
    sys.stdout.flush()
    return 0
