"""A minimal Qt-free signal, so viewmodels notify widgets without importing Qt."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """Listeners called in connection order with the emitted arguments."""

    def __init__(self) -> None:
        self._slots: list[Callable[..., Any]] = []

    def connect(self, slot: Callable[..., Any], owner: Any = None) -> Callable[..., Any]:
        """Add a listener; with a Qt `owner`, it is dropped when the owner is destroyed
        (duck-typed on its `destroyed` signal, so this module stays Qt-free)."""
        self._slots.append(slot)
        if owner is not None and hasattr(owner, "destroyed"):
            owner.destroyed.connect(lambda *_: self.disconnect(slot))
        return slot

    def disconnect(self, slot: Callable[..., Any]) -> None:
        if slot in self._slots:
            self._slots.remove(slot)

    def emit(self, *args: Any) -> None:
        for slot in list(self._slots):
            slot(*args)
