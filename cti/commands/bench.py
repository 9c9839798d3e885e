"""`cti bench NAME [ARGS] --json`: dispatch to cti.bench.<name>, each printing one JSON object."""

from __future__ import annotations

import importlib
import json

from cti.errors import CLIError

BENCHMARKS = ("codec", "csta", "acd", "screenpop-db", "screenpop", "smdr", "serial")


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        raise CLIError(f"usage: cti bench NAME [--json] (NAME: {', '.join(BENCHMARKS)})", 2)
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        raise CLIError(f"unknown benchmark {name!r} (known: {', '.join(BENCHMARKS)})", 2)
    module_name = "cti.bench." + name.replace("-", "_")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise CLIError(f"benchmark {name!r} is not available in this build", 2) from None
        raise
    result = module.run([arg for arg in rest if arg != "--json"])
    print(json.dumps(result, sort_keys=True))
    return 0
