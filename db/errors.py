"""Errors the repositories raise, each saying which row and why."""

from __future__ import annotations


class NotFound(LookupError):
    """The named row does not exist in this tenant (or at all)."""


class AuthenticationFailed(Exception):
    """Unknown user, wrong password, disabled account, or a login that names no single tenant."""
