"""The incoming-call notification: what the tray balloon or in-window banner says."""

from __future__ import annotations

from typing import Any

from desktop.viewmodels.observable import Signal


class IncomingCallNotifier:
    """At most one notification: the newest call alerting at the agent's extension."""

    def __init__(self) -> None:
        self.current: dict[str, Any] | None = None
        self.changed = Signal()

    def alerting(self, call_id: str, calling: str | None, customer: str | None = None,
                 queue: str | None = None) -> None:
        self.current = {"call_id": call_id, "calling": calling or "unknown number",
                        "customer": customer, "queue": queue}
        self.changed.emit(self.current)

    def enrich(self, call_id: str, customer: str | None) -> None:
        """The screen pop named the caller after the notification went up."""
        if self.current and self.current["call_id"] == call_id and customer:
            self.current = {**self.current, "customer": customer}
            self.changed.emit(self.current)

    def dismiss(self, call_id: str | None = None) -> None:
        if self.current is None or (call_id is not None and self.current["call_id"] != call_id):
            return
        self.current = None
        self.changed.emit(None)

    def title(self) -> str:
        return "Incoming call" if self.current else ""

    def text(self) -> str:
        if not self.current:
            return ""
        who = self.current["calling"]
        if self.current.get("customer"):
            who = f"{self.current['customer']} ({who})"
        if self.current.get("queue"):
            who += f" via {self.current['queue']}"
        return who
