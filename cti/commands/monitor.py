"""`cti monitor URL --devices LIST [--json] [--seconds S]`: a switch link's events, one a line.

Connects exactly as the server's driver does (same driver class, same session, same monitors)
and prints every normalised event, so an installer can see what the switch says before any
server is configured. `watch()` holds all the logic and returns a Deferred on any reactor;
`main()` only runs the default reactor around it, so tests drive `watch()` inside their own.

The URL's scheme picks the driver through the server's link registry (cti.server.links), so
`cti monitor` speaks every link the server speaks, with the same factories.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.python.failure import Failure

from cti.commands.args import ArgumentParser
from cti.errors import CLIError
from cti.events import Event, iso_time
from cti.numbers import parse_device_list
from cti.server.links import SCHEMES, driver_factory


@dataclass(frozen=True)
class Options:
    url: str
    devices: tuple[str, ...]
    json: bool = False
    seconds: float | None = None
    connect_timeout: float = 5.0
    ready_timeout: float | None = None
    session_style: str = "auto"
    monitor_rate: float = 25.0

    @property
    def ready_deadline(self) -> float:
        """--ready-timeout, or enough for the session plus the paced MonitorStarts."""
        if self.ready_timeout is not None:
            return self.ready_timeout
        return 20.0 + 2 * len(self.devices) / self.monitor_rate


def parse_options(argv: list[str]) -> Options:
    parser = ArgumentParser(prog="cti monitor", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="csta://HOST:PORT (or another link URL)")
    parser.add_argument("--devices", required=True, help="1001,1002,2000-2099")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--seconds", type=float,
                        help="print events for S seconds once monitoring (default: until ^C)")
    parser.add_argument("--connect-timeout", type=float, default=5.0)
    parser.add_argument("--ready-timeout", type=float,
                        help="give up if not monitoring within this many seconds "
                             "(default: 20 s plus twice the MonitorStart pacing)")
    parser.add_argument("--session-style", default="auto",
                        choices=("auto", "ecma354", "system-status"))
    parser.add_argument("--monitor-rate", type=float, default=25.0,
                        help="MonitorStart requests per second at start-up")
    args = parser.parse_args(argv)
    try:
        devices = tuple(parse_device_list(args.devices))
    except ValueError as exc:
        raise CLIError(f"cti monitor: --devices: {exc}", 2) from None
    scheme = urlsplit(args.url).scheme.lower()
    if scheme not in SCHEMES:
        raise CLIError(f"cti monitor: unsupported link URL {args.url!r} "
                       f"(schemes: {', '.join(SCHEMES)})", 2)
    for name in ("seconds", "connect_timeout", "ready_timeout", "monitor_rate"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise CLIError(f"cti monitor: --{name.replace('_', '-')} must be positive", 2)
    return Options(args.url, devices, args.json, args.seconds, args.connect_timeout,
                   args.ready_timeout, args.session_style, args.monitor_rate)


def create_driver(options: Options, reactor: Any) -> Any:
    """The driver for the URL, from the link registry; CLIError if it cannot be made."""
    scheme = urlsplit(options.url).scheme.lower()
    try:
        factory = driver_factory(scheme)
    except CLIError as exc:
        raise CLIError(f"cti monitor: {exc}") from None
    extra: dict[str, Any] = {}
    if scheme == "csta":
        extra = {
            "connect_timeout": options.connect_timeout,
            "session_style": options.session_style,
            "request_timeout": 5.0,
            "monitor_rate": options.monitor_rate,
        }
    try:
        return factory(options.url, name="monitor", devices=options.devices, reactor=reactor,
                       **extra)
    except ValueError as exc:
        raise CLIError(f"cti monitor: {exc}", 2) from None


def format_event(event: Event, as_json: bool) -> str:
    """One output line: the JSON shape of interfaces.md (monitor always present) or prose."""
    data = event.to_dict()
    data.setdefault("monitor", None)
    if as_json:
        return json.dumps(data, ensure_ascii=False)
    parts = [iso_time(event.time), f"[{event.monitor or '-'}]", event.event]
    for label, value in (
        ("call", event.call_id), ("device", event.device), ("calling", event.calling),
        ("called", event.called), ("state", event.state), ("cause", event.cause),
        ("agent", event.agent_id), ("reason", event.reason), ("digits", event.digits),
    ):
        if value is not None:
            parts.append(f"{label}={value}")
    if event.old_call_ids:
        parts.append("old=" + ",".join(event.old_call_ids))
    if event.parties:
        parts.append("parties=" + ",".join(
            f"{p.device or '?'}:{p.call_id}:{p.state or '?'}" for p in event.parties))
    return " ".join(parts)


@inlineCallbacks
def watch(reactor: Any, options: Options, driver: Any, out: IO[str] = sys.stdout,
          err: IO[str] = sys.stderr) -> Deferred[int]:
    """Monitor until --seconds elapse (or for ever); fails with CLIError if never monitoring.

    `driver` comes from create_driver(options, reactor), made before the reactor runs so that
    a bad URL is reported without starting anything.
    """
    finished: Deferred[int] = Deferred()

    def finish(status: int) -> None:
        if not finished.called:
            finished.callback(status)

    def print_event(event: Event) -> None:
        try:
            out.write(format_event(event, options.json) + "\n")
            out.flush()
        except BrokenPipeError:
            finish(0)

    driver.add_sink(print_event)
    driver.start()
    ready = driver.ready()
    give_up = reactor.callLater(options.ready_deadline, ready.cancel)
    try:
        yield ready
    except Exception as exc:
        yield driver.stop()
        if not give_up.active():
            raise CLIError(f"cti monitor: not monitoring {options.url} within "
                           f"{options.ready_deadline:g} s") from None
        raise CLIError(f"cti monitor: {exc}") from None
    finally:
        if give_up.active():
            give_up.cancel()
    for device, why in getattr(driver, "failed_monitors", {}).items():
        err.write(f"cti monitor: warning: device {device} not monitored: {why}\n")
    stop_timer = reactor.callLater(options.seconds, finish, 0) if options.seconds else None
    shutdown = reactor.addSystemEventTrigger("before", "shutdown", driver.stop)
    try:
        status = yield finished
    finally:
        if stop_timer is not None and stop_timer.active():
            stop_timer.cancel()
        reactor.removeSystemEventTrigger(shutdown)
        yield driver.stop()
    return status


def main(argv: list[str]) -> int:
    options = parse_options(argv)
    from twisted.internet import reactor

    driver = create_driver(options, reactor)
    outcome: list[Any] = []

    def run() -> None:
        deferred = watch(reactor, options, driver)
        deferred.addBoth(outcome.append)
        deferred.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(run)
    reactor.run()
    if not outcome:
        return 0  # interrupted (Ctrl-C): the usual way to end an open-ended monitor
    result = outcome[0]
    if isinstance(result, Failure):
        result.raiseException()
    return int(result or 0)
