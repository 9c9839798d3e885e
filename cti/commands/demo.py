"""`cti demo`: the whole product on embedded defaults, in one process, with nothing to set up.

It migrates and seeds a SQLite database, starts the CSTA switch simulator with generated
traffic, runs the CTI server against it (one link per demo tenant, as an outsourcing center
would connect one PBX per client) and prints every normalised event the way `cti monitor`
does. Agents and supervisors can log in from `cti desktop` with the logins it prints; calls from
the demo customers' known numbers pop their records.
"""

from __future__ import annotations

import sys
from typing import Any

from cti.commands.args import ArgumentParser, host_port
from cti.commands.monitor import format_event
from cti.errors import CLIError

# The demo tenants of db/seed.py: their agents' extensions, and the VIP customers' numbers (as
# a caller ID from the public network would show them) that make a screen-pop with history.
TENANT_EXTENSIONS = {"acme": "2001-2006", "globex": "3001-3005", "initech": "4001-4004"}
KNOWN_CALLERS = (("+491715551234", "2001"), ("+13055550100", "3001"), ("+447700900123", "4001"))
TRUNKS = "8000-8059"


def parse_args(argv: list[str]) -> Any:
    parser = ArgumentParser(prog="cti demo", description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="sqlite:///cti-demo.db", metavar="URL")
    parser.add_argument("--api", type=host_port, default=("127.0.0.1", 8080), metavar="HOST:PORT")
    parser.add_argument("--rate", type=float, default=0.2, metavar="CALLS_PER_SECOND",
                        help="generated calls per second (default 0.2)")
    parser.add_argument("--holding", type=float, default=40.0, metavar="SECONDS")
    parser.add_argument("--answer-after", type=float, default=6.0, metavar="SECONDS",
                        help="extensions answer by themselves after this long, so calls "
                        "complete without a desktop (default 6)")
    parser.add_argument("--known-every", type=float, default=20.0, metavar="SECONDS",
                        help="a demo customer with history calls this often (default 20)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
    parser.add_argument("--customers", type=int, default=2000,
                        help="generated customers per tenant on first run (default 2000)")
    parser.add_argument("--json", action="store_true", help="events as JSON lines")
    options = parser.parse_args(argv)
    if options.rate <= 0:
        raise CLIError("cti demo: --rate must be positive", 2)
    return options


def prepare_database(url: str, customers: int) -> list[Any]:
    """Migrate, and seed on the first run; returns the new logins (empty when already seeded)."""
    from db.engine import make_engine
    from db.migrate import upgrade
    from db.seed import AlreadySeeded, seed_demo

    engine = make_engine(url)
    try:
        upgrade(engine)
        try:
            return seed_demo(engine, customers_per_tenant=customers)
        except AlreadySeeded:
            return []
    finally:
        engine.dispose()


def start_simulator(options: Any, reactor: Any) -> Any:
    from simulators.csta import cli as simulator

    extensions = ",".join(TENANT_EXTENSIONS.values())
    sim_options = simulator.parse_args([
        "--listen", "127.0.0.1:0", "--extensions", extensions, "--trunks", TRUNKS,
        "--rate", str(options.rate), "--holding", str(options.holding),
        "--auto-answer", str(options.answer_after), "--ring-delay", str(options.answer_after),
        "--external-answer", "4",
    ])
    return simulator.start(sim_options, reactor)


def server_config(options: Any, simulator_port: int) -> Any:
    from cti.numbers import parse_device_list
    from cti.server.config import LinkConfig, ServerConfig

    links = tuple(
        LinkConfig(name=f"pbx-{tenant}", url=f"csta://127.0.0.1:{simulator_port}",
                   devices=tuple(parse_device_list(devices)), tenant=tenant,
                   timezone="Europe/Berlin", options={"parallel_alerting": True})
        for tenant, devices in TENANT_EXTENSIONS.items()
    )
    host, port = options.api
    return ServerConfig(database_url=options.database, listen_host=host, listen_port=port,
                        links=links)


def print_logins(logins: list[Any], url: str) -> None:
    print(f"api listening on {url.split('://', 1)[1]}", flush=True)
    if logins:
        print("demo logins (also: agent ID N has password agentN; supervisors super-TENANT):")
        for login in logins:
            if login.role != "administrator":
                print(f"  {login.tenant:<8} {login.login:<14} {login.password:<14} "
                      f"{login.role:<11} {login.extension or ''}")
    print(f"desktop: cti desktop --server {url} --user 1001 --password agent1001 "
          "--extension 2001", flush=True)


def main(argv: list[str]) -> int:
    options = parse_args(argv)
    logins = prepare_database(options.database, options.customers)
    from twisted.internet import reactor, task

    from cti.server.app import Server
    from simulators.pbx import Handsets

    simulator = start_simulator(options, reactor)
    server = Server(server_config(options, simulator.address[1]), reactor)

    def show(event: Any) -> None:
        print(format_event(event, options.json), flush=True)

    for link in server.links.links.values():
        link.driver.add_sink(show)
    phones = Handsets(simulator.switch)
    known = iter(KNOWN_CALLERS * 1_000_000)

    def known_call() -> None:
        caller, extension = next(known)
        try:
            phones.call(caller, extension)
        except Exception as exc:
            print(f"demo: known caller {caller} not placed: {exc}", file=sys.stderr)

    calls = task.LoopingCall(known_call)
    failure: list[str] = []

    def started(address: tuple[str, int]) -> None:
        print_logins(logins, server.url)
        calls.start(options.known_every, now=False)
        if options.seconds is not None:
            reactor.callLater(options.seconds, reactor.stop)

    def failed(reason: Any) -> None:
        failure.append(reason.getErrorMessage())
        reactor.stop()

    def shutdown() -> Any:
        if calls.running:
            calls.stop()
        simulator.stop()
        return server.stop()

    reactor.addSystemEventTrigger("before", "shutdown", shutdown)
    reactor.callWhenRunning(lambda: server.start().addCallbacks(started, failed))
    reactor.run()
    if failure:
        raise CLIError(f"cti demo: {failure[0]}")
    return 0
