"""`cti server --config FILE`: the CTI server, until interrupted."""

from __future__ import annotations

import sys

from cti.commands.args import ArgumentParser
from cti.errors import CLIError


def main(argv: list[str]) -> int:
    parser = ArgumentParser(prog="cti server", description="run the CTI server")
    parser.add_argument("--config", required=True, help="the server's TOML configuration")
    parser.add_argument("--upgrade-database", action="store_true",
                        help="migrate the database to the newest schema before starting")
    args = parser.parse_args(argv)

    from cti.server import config as config_module

    config = config_module.load(args.config)

    from twisted.internet import reactor

    from cti.server import logs
    from cti.server.app import Server

    logs.begin(config.log_level, config.log_format == "json", config.log_file)
    server = Server(config, reactor, upgrade_database=args.upgrade_database)
    outcome: dict[str, BaseException] = {}

    def started(address: tuple[str, int]) -> None:
        host, port = address
        print(f"api listening on {host}:{port}", flush=True)

    def failed(failure: object) -> None:
        outcome["error"] = getattr(failure, "value", RuntimeError(str(failure)))
        reactor.stop()

    def startup() -> None:
        d = server.start()
        d.addCallbacks(started, failed)

    reactor.callWhenRunning(startup)
    reactor.addSystemEventTrigger("before", "shutdown", server.stop)
    reactor.run()
    error = outcome.get("error")
    if error is not None:
        if isinstance(error, CLIError):
            raise error
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CLIError(f"server failed to start: {message}")
    sys.stdout.flush()
    return 0
