"""`cti desktop`: the PyQt5 agent and supervisor desktop (also the `cti-desktop` GUI script).

It runs in its own process, so it installs the Qt + Twisted loop itself. With --user and
--password it logs in directly (no dialog); --screenshot PNG then renders the windows once the
state is synchronised, saves them and exits, which is how CI and the docs take screenshots.
"""

from __future__ import annotations

import os
import sys

from cti.commands.args import ArgumentParser
from cti.errors import CLIError

DEFAULT_SERVER = "http://127.0.0.1:8080"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="cti desktop", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("CTI_SERVER", DEFAULT_SERVER),
                        help=f"CTI server URL (default $CTI_SERVER or {DEFAULT_SERVER})")
    parser.add_argument("--user", help="agent ID or login name")
    parser.add_argument("--password", help="password (omit to be asked in the login dialog)")
    parser.add_argument("--extension", default="", help="the phone at this seat")
    parser.add_argument("--tenant", help="tenant, where the login name exists in several")
    parser.add_argument("--ca-cert", metavar="PEM",
                        help="certificate to trust for an https server (private CA or "
                        "self-signed)")
    parser.add_argument("--screenshot", metavar="PNG",
                        help="render the windows after connecting, save them, exit "
                        "(supervisors: also PNG with a -supervisor suffix)")
    parser.add_argument("--timeout", type=float, default=15.0,
                        help="seconds to wait for the server in --screenshot mode")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot and not (args.user and args.password):
        raise CLIError("--screenshot needs --user and --password (no dialog is shown)", 2)
    from desktop.client import normalize_base_url, tls_policy

    try:
        server = normalize_base_url(args.server)
        tls_policy(args.ca_cert)
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None
    if args.screenshot:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from desktop.app import DesktopApp, install_qt_reactor

    app, reactor = install_qt_reactor()
    from desktop.widgets.style import apply_style

    apply_style(app)
    desktop = DesktopApp(reactor, server, use_tray=False if args.screenshot else None,
                         ca_file=args.ca_cert)
    outcome: dict[str, object] = {}

    def finish(status: object) -> None:
        outcome.setdefault("status", status)
        if reactor.running:
            reactor.stop()

    def failed(failure) -> None:
        outcome["error"] = failure.getErrorMessage().splitlines()[0]
        finish(1)

    async def direct() -> None:
        await desktop.login(server, args.user, args.password, args.extension, args.tenant)
        await desktop.model.when_synced().addTimeout(args.timeout, reactor)
        desktop.show_windows()
        if args.screenshot:
            from twisted.internet import task

            await task.deferLater(reactor, 0.5, lambda: None)
            for path in desktop.screenshot(args.screenshot):
                print(path)
            finish(0)

    def start() -> None:
        from twisted.internet import defer

        desktop.done.addCallback(finish)
        if args.user and args.password:
            defer.ensureDeferred(direct()).addErrback(failed)
        else:
            desktop.ask_login(args.user or "", args.extension)

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=True)
    desktop.close()
    if "error" in outcome:
        raise CLIError(str(outcome["error"]))
    return int(outcome.get("status", 0) or 0)


def gui_main() -> None:
    """Entry point of the `cti-desktop` GUI script."""
    from cti.cli import main as cli_main

    sys.exit(cli_main(["desktop", *sys.argv[1:]]))
