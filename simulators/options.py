"""Command-line options every simulator front-end shares: the switch, scenarios and traffic.

`cti sim csta` and `cti sim serial` put different wire protocols on the same simulated switch,
so one scenario file or traffic pattern runs through both; their switch options are defined
once, here, so the two commands cannot drift apart.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from cti.errors import CLIError
from cti.numbers import parse_device_list
from simulators.pbx.model import DISTRIBUTIONS, HUNT
from simulators.pbx.switch import Switch
from simulators.scenarios import ScenarioError, ScenarioRunner, load_scenario
from simulators.traffic import HOLDING_DISTRIBUTIONS, TrafficGenerator


def typed(convert: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """An argparse type from a converter raising ValueError, reported under `name`."""

    def wrapped(text: str) -> Any:
        try:
            return convert(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    wrapped.__name__ = name
    return wrapped


def rate(text: str) -> float:
    """Calls per second, or per hour with a ``/h`` suffix (``3600/h`` == ``1``)."""
    per_hour = text.endswith("/h")
    try:
        value = float(text[:-2] if per_hour else text.removesuffix("/s"))
    except ValueError:
        raise ValueError(f"bad rate {text!r}") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"rate must be positive, got {text!r}")
    return value / 3600 if per_hour else value


def seconds(text: str) -> float:
    """Zero or more seconds."""
    value = float(text)
    if not 0 <= value < float("inf"):
        raise ValueError(f"must be zero or more seconds, got {text!r}")
    return value


def pilot(text: str) -> tuple[str, list[str], str]:
    """``5000=1000-1009:hunt`` -> ("5000", members, "hunt")."""
    number, sep, rest = text.partition("=")
    members, _, distribution = rest.partition(":")
    distribution = distribution or HUNT
    if not sep or not number.isdigit() or distribution not in DISTRIBUTIONS:
        raise ValueError(f"expected PILOT=MEMBERS[:{'|'.join(DISTRIBUTIONS)}], got {text!r}")
    return number, parse_device_list(members), distribution


def announcement(text: str) -> tuple[str, float | None, bool]:
    """``7001[=SECONDS][:return]``: an announcement, its length, and whether it hands the call
    back to where it came from afterwards (else it clears the call)."""
    spec, colon, then = text.partition(":")
    if colon and then != "return":
        raise ValueError(f"expected NUMBER[=SECONDS][:return], got {text!r}")
    number, length = timed_device(spec)
    return number, length, bool(colon)


def timed_device(text: str) -> tuple[str, float | None]:
    """``7001`` or ``7001=SECONDS``: a device number with an optional length."""
    number, sep, length = text.partition("=")
    if not number.isdigit() or (sep and not length):
        raise ValueError(f"expected NUMBER[=SECONDS], got {text!r}")
    value = seconds(length) if sep else None
    if value is not None and value <= 0:
        raise ValueError(f"length must be more than 0 seconds, got {text!r}")
    return number, value


def agent(text: str) -> tuple[str, str]:
    """``AGENT[:PASSWORD]``."""
    agent_id, _, password = text.partition(":")
    if not agent_id:
        raise ValueError(f"expected AGENT[:PASSWORD], got {text!r}")
    return agent_id, password


def add_switch_arguments(parser: argparse.ArgumentParser) -> None:
    """The switch's devices, scenario and generated traffic."""
    devices = typed(parse_device_list, "devices")
    parser.add_argument("--extensions", type=devices, default=parse_device_list("1000-1099"),
                        metavar="LIST")
    parser.add_argument("--trunks", type=devices, default=[], metavar="LIST",
                        help="trunk channels (default: unlimited, unnamed)")
    parser.add_argument("--pilots", type=typed(pilot, "pilot"), nargs="+", default=[],
                        metavar="PILOT=MEMBERS[:DIST]")
    parser.add_argument("--queues", type=devices, default=[], metavar="LIST",
                        help="ACD queue devices")
    parser.add_argument("--announcements", type=typed(announcement, "announcement"), nargs="+",
                        default=[], metavar="NUMBER[=SECONDS][:return]",
                        help="announcement devices: answer, play SECONDS (default 10), then "
                        "clear the call or return it to the device that sent it")
    parser.add_argument("--voicemail", type=typed(timed_device, "voice mail"), nargs="+",
                        default=[], metavar="NUMBER[=SECONDS]",
                        help="voice-mail pilots: answer and record up to SECONDS (default 120)")
    parser.add_argument("--message-seconds", type=typed(seconds, "seconds"), default=3.0,
                        metavar="SECONDS", help="length of a message played with PlayMessage")
    parser.add_argument("--agents", type=typed(agent, "agent"), nargs="+", default=[],
                        metavar="AGENT[:PASSWORD]",
                        help="known agent IDs (default: any agent ID, any password)")
    parser.add_argument("--auto-answer", type=typed(seconds, "seconds"), default=None,
                        metavar="SECONDS", help="extensions answer by themselves after this")
    parser.add_argument("--external-answer", type=typed(seconds, "seconds"), default=3.0,
                        metavar="SECONDS", help="outside numbers answer outgoing calls after this")
    parser.add_argument("--scenario", metavar="FILE")
    parser.add_argument("--rate", type=typed(rate, "rate"), metavar="CPS",
                        help="generated inbound calls per second (N/h: per hour)")
    parser.add_argument("--burst", action="store_true",
                        help="generate calls as fast as possible (benchmarks)")
    parser.add_argument("--holding", type=typed(seconds, "seconds"), default=60.0,
                        metavar="SECONDS", help="mean holding time of generated calls")
    parser.add_argument("--holding-distribution", choices=HOLDING_DISTRIBUTIONS,
                        default="exponential")
    parser.add_argument("--ring-delay", type=typed(seconds, "seconds"), default=1.0,
                        metavar="SECONDS", help="generated calls are answered after this")
    parser.add_argument("--targets", type=devices, metavar="LIST",
                        help="numbers generated calls dial (default: pilots, else extensions)")
    parser.add_argument("--national-share", type=float, default=0.0, metavar="FRACTION",
                        help="share of generated callers in national form (030...)")
    parser.add_argument("--seed", type=int, default=None)


def check_switch_arguments(options: Any, prog: str) -> None:
    if options.rate is not None and options.burst:
        raise CLIError(f"{prog}: --rate and --burst exclude each other", 2)


def load_steps(options: Any, prog: str) -> Any:
    """The scenario file's steps, or None; a bad file is a one-line error."""
    if not options.scenario:
        return None
    try:
        return load_scenario(options.scenario)
    except ScenarioError as exc:
        raise CLIError(f"{prog}: {exc}", 2) from None


def build_switch(options: Any, clock: Any, prog: str, **switch_options: Any) -> Switch:
    """The switch with the devices the options name."""
    switch = Switch(clock, external_answer_seconds=options.external_answer,
                    agents=dict(options.agents), message_seconds=options.message_seconds,
                    **switch_options)
    try:
        switch.add_extensions(options.extensions, auto_answer=options.auto_answer)
        switch.add_trunks(options.trunks)
        for number in options.queues:
            switch.add_queue(number)
        for number, length, returns in options.announcements:
            switch.add_announcement(number, returns=returns,
                                    **({} if length is None else {"seconds": length}))
        for number, length in options.voicemail:
            switch.add_voicemail(number, **({} if length is None else {"max_seconds": length}))
        for number, members, distribution in options.pilots:
            unknown = [m for m in members if m not in switch.devices]
            if unknown:
                raise ValueError(f"pilot {number}: members {', '.join(unknown)} are not extensions")
            switch.add_pilot(number, members, distribution)
    except ValueError as exc:
        raise CLIError(f"{prog}: {exc}", 2) from None
    return switch


def start_scenario(switch: Switch, steps: Any) -> ScenarioRunner | None:
    if steps is None:
        return None
    runner = ScenarioRunner(switch, steps)
    runner.start()
    return runner


def make_traffic(options: Any, switch: Switch, prog: str,
                 congested: Callable[[], bool] | None = None) -> TrafficGenerator | None:
    """The traffic generator the options ask for (not started), or None."""
    if options.rate is None and not options.burst:
        return None
    targets = options.targets or [p[0] for p in options.pilots] or options.extensions
    try:
        return TrafficGenerator(
            switch, targets, rate=None if options.burst else options.rate,
            holding=options.holding, holding_distribution=options.holding_distribution,
            ring_delay=options.ring_delay, seed=options.seed,
            national_share=options.national_share, congested=congested,
        )
    except ValueError as exc:
        raise CLIError(f"{prog}: {exc}", 2) from None
