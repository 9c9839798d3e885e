"""`cti sim KIND ...`: run one of the switch simulators (each a real peer on a real socket/pty)."""

from __future__ import annotations

import importlib

from cti.errors import CLIError

KINDS = {"csta": "simulators.csta.cli", "serial": "simulators.serial.cli"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in KINDS:
        raise CLIError(f"usage: cti sim {{{','.join(KINDS)}}} [ARGS...]", 2)
    module_name = KINDS[argv[0]]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise CLIError(f"simulator {argv[0]!r} is not available in this build", 2) from None
        raise
    return int(module.main(argv[1:]) or 0)
