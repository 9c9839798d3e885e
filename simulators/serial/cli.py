"""`cti sim serial`: the simulated switch behind a serial CTI link (a pty or a TCP port).

Parsing and building (`parse_args`, `start`) are separate from running the reactor (`main`),
so tests set the same simulator up inside their own running reactor. The switch, scenario and
traffic options are the CSTA simulator's (simulators/csta/cli.py), so one scenario file runs
through both front-ends.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import IO, Any

from twisted.internet.error import CannotListenError

from cti.commands.args import ArgumentParser, host_port
from cti.errors import CLIError
from simulators import options as shared
from simulators.pbx.switch import Switch
from simulators.scenarios import ScenarioRunner
from simulators.serial.frontend import SerialFrontEnd, SerialServerFactory, open_pty
from simulators.serial.line import parse_faults
from simulators.serial.smdr import FORMATS, SmdrPrinter
from simulators.traffic import TrafficGenerator

PROG = "cti sim serial"


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


def parse_args(argv: list[str]) -> Any:
    parser = ArgumentParser(prog=PROG, description="serial-link PBX simulator")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve a pseudo-terminal (default)")
    where.add_argument("--listen", type=host_port, metavar="HOST:PORT",
                       help="serve TCP like a terminal server (serial+tcp://)")
    parser.add_argument("--smdr", metavar="FILE", help="call records to FILE (default stdout)")
    parser.add_argument("--smdr-format", choices=sorted(FORMATS), default="siemens-hipath")
    shared.add_switch_arguments(parser)
    parser.add_argument("--baud", type=shared.typed(_baud, "baud"), default=115200,
                        help="bytes are paced at BAUD/10 per second (8N1)")
    parser.add_argument("--faults", type=shared.typed(parse_faults, "faults"), default=parse_faults(""),
                        metavar="noise=P,drop=P,checksum=P,silence=S,silence_for=S,disconnect=S")
    parser.add_argument("--t1", type=shared.typed(_positive, "seconds"), default=2.0, metavar="SECONDS")
    parser.add_argument("--keepalive", type=shared.typed(shared.seconds, "seconds"), default=30.0,
                        metavar="SECONDS")
    options = parser.parse_args(argv)
    shared.check_switch_arguments(options, PROG)
    return options


def build_switch(options: Any, clock: Any) -> Switch:
    return shared.build_switch(options, clock, PROG)


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
    steps = shared.load_steps(options, PROG)
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
    running.scenario = shared.start_scenario(switch, steps)
    try:
        running.traffic = shared.make_traffic(options, switch, PROG)
    except CLIError:
        running.stop()
        raise
    if running.traffic is not None:
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
