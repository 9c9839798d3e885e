"""The `cti` command: a thin dispatcher to one module per subcommand.

Each subcommand lives in its own module with a ``main(argv) -> int`` that parses its own
arguments, so subcommands grow independently. This module only routes, and turns every failure
into the one-line error and non-zero exit status that scripts rely on (interfaces.md).
"""

from __future__ import annotations

import importlib
import os
import sys

from cti.errors import CLIError

COMMANDS: dict[str, tuple[str, str]] = {
    "server": ("cti.commands.server", "run the CTI server from a TOML configuration"),
    "sim": ("cti.commands.sim", "run a switch simulator (csta, serial)"),
    "monitor": ("cti.commands.monitor", "print the normalised events of a switch link"),
    "demo": ("cti.commands.demo", "the simulated switch under traffic, watched by the monitor"),
    "simulate": ("cti.commands.simulate", "the ACD engine against simulated traffic"),
    "erlang": ("cti.commands.erlang", "Erlang C staffing figures"),
    "smdr": ("cti.commands.smdr", "parse or collect PBX call records (SMDR/CDR)"),
    "admin": ("cti.commands.admin", "administer agents, skills, queues, numbers, tenants"),
    "db": ("cti.commands.db", "migrate the database or load demo data"),
    "desktop": ("cti.commands.desktop", "the agent and supervisor desktop"),
    "bench": ("cti.commands.bench", "benchmarks, printing one JSON object"),
}

USAGE = "usage: cti COMMAND [ARGS...]\n\ncommands:\n" + "\n".join(
    f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()
)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        return _fail(f"unknown command {name!r} (try: cti --help)", 2)
    module_name = COMMANDS[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return _fail(f"command {name!r} is not available in this build", 2)
        raise
    try:
        return int(module.main(rest) or 0)
    except CLIError as exc:
        return _fail(str(exc), exc.status)
    except KeyboardInterrupt:
        return 130
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else 2
    except Exception as exc:
        if os.environ.get("CTI_DEBUG"):
            raise
        return _fail(f"{type(exc).__name__}: {exc}", 1)


def _fail(message: str, status: int) -> int:
    print(f"cti: error: {message.splitlines()[0] if message else 'failed'}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
