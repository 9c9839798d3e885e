"""argparse that reports bad arguments as one line and a non-zero exit, never a usage dump."""

from __future__ import annotations

import argparse

from cti.errors import CLIError


class ArgumentParser(argparse.ArgumentParser):
    """Raises CLIError (status 2) instead of printing usage and calling sys.exit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise CLIError(f"{self.prog}: {message}", 2)


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as an argparse type."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "127.0.0.1", int(port)
