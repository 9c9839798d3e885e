"""Errors that cross layers and carry a message meant for a person."""

from __future__ import annotations


class CLIError(Exception):
    """A command failed for a reason the user can act on; printed as one line, no traceback."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class ServiceError(Exception):
    """A switch, database or server refused or failed a request; the text says which and why."""
