"""The agent's own state bar: status, system state, reason, time in state, wrap-up timer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.viewmodels.observable import Signal
from desktop.viewmodels.timefmt import format_duration, parse_time

STATUS_LABELS = {
    "logged_out": "Logged out",
    "ready": "Ready",
    "not_ready": "Not ready",
    "wrap_up": "Wrap-up",
}
STATE_LABELS = {
    "idle": "Idle",
    "reserved": "Reserved",
    "ringing": "Ringing",
    "in_call": "In call",
    "wrap_up": "Wrap-up",
    "logged_out": "Logged out",
}


SYSTEM_REASONS = {
    "rona": "Missed call",
    "rejected": "Declined call",
    "disconnected": "Disconnected",
}
"""Not-ready reasons the server sets itself (ring-no-answer, a declined offer, a vanished
desktop): not in the reason codes an agent picks from, but shown to agent and supervisor."""


def label(table: dict[str, str], code: str | None) -> str:
    if not code:
        return ""
    return table.get(code, code.replace("_", " ").capitalize())


def reason_label(code: str | None, reasons: list[dict[str, str]]) -> str:
    """A not-ready reason as people read it: the server's label, else the system's own."""
    for item in reasons:
        if item.get("code") == code:
            return item.get("label") or item["code"]
    return label(SYSTEM_REASONS, code)


class AgentStateModel:
    """What the state bar shows and which state changes it offers.

    `clock` returns epoch seconds; the bar's timers read it on every repaint, so time in state
    and the wrap-up timer are exact without the model ticking itself.
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.agent: dict[str, Any] | None = None
        self.reasons: list[dict[str, str]] = []
        self._since_local: float | None = None
        self.changed = Signal()

    def update(self, agent: dict[str, Any] | None) -> None:
        """An agent object (agents/me, hello, agent_state)."""
        previous = (self.agent or {}).get("status"), (self.agent or {}).get("state")
        self.agent = dict(agent) if agent else None
        current = (self.agent or {}).get("status"), (self.agent or {}).get("state")
        if current != previous or self._since_local is None:
            self._since_local = self.clock()
        self.changed.emit()

    def set_reasons(self, reasons: list[dict[str, str]]) -> None:
        self.reasons = [r for r in reasons if r.get("code")]
        self.changed.emit()

    @property
    def status(self) -> str:
        return (self.agent or {}).get("status") or "logged_out"

    @property
    def state(self) -> str:
        return (self.agent or {}).get("state") or "logged_out"

    @property
    def reason(self) -> str | None:
        return (self.agent or {}).get("reason")

    def reason_label(self) -> str:
        return reason_label(self.reason, self.reasons)

    def status_label(self) -> str:
        text = label(STATUS_LABELS, self.status)
        if self.status == "not_ready" and self.reason:
            text += f" – {self.reason_label()}"
        return text

    def state_label(self) -> str:
        return label(STATE_LABELS, self.state)

    def since(self) -> float | None:
        """When the current state began: the server's `since`, else when we learnt of it."""
        return parse_time((self.agent or {}).get("since")) or self._since_local

    def elapsed(self) -> float | None:
        since = self.since()
        return None if since is None else max(0.0, self.clock() - since)

    def elapsed_text(self) -> str:
        return format_duration(self.elapsed())

    def wrap_up_elapsed(self) -> float | None:
        """Seconds of after-call work so far, or None when not in wrap-up."""
        if self.status != "wrap_up" and self.state != "wrap_up":
            return None
        return self.elapsed()

    def can(self, action: str) -> bool:
        """Whether the bar offers `action`: ready, not_ready, wrap_up_done, logged_out."""
        status = self.status
        if action == "ready":
            return status in ("not_ready", "logged_out")
        if action == "not_ready":
            return status in ("ready", "wrap_up", "not_ready", "logged_out")
        if action == "wrap_up_done":
            return status == "wrap_up" or self.state == "wrap_up"
        if action == "logged_out":
            return status != "logged_out"
        return False
