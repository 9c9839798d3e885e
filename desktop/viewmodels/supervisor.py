"""The supervisor's view: every agent's state and time in state, every queue's callers.

Queue objects are snapshots (`queue_stats` at most once a second per queue); waiting times are
aged with the injected clock between snapshots so the wallboard counts up smoothly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.viewmodels.agent_state import STATE_LABELS, STATUS_LABELS, label, reason_label
from desktop.viewmodels.observable import Signal
from desktop.viewmodels.timefmt import parse_time

# Pie order and colours shared by the charts and the agents table.
STATE_ORDER = ("ready", "in_call", "ringing", "wrap_up", "not_ready", "logged_out")
STATE_COLOURS = {
    "ready": "#2e9d5b",
    "in_call": "#2f6fc0",
    "ringing": "#e0a526",
    "wrap_up": "#8a5cc2",
    "not_ready": "#d0493f",
    "logged_out": "#9aa3ad",
}


def board_state(agent: dict[str, Any]) -> str:
    """One category per agent for the wallboard: what the agent is doing right now."""
    status, state = agent.get("status"), agent.get("state")
    if status == "logged_out" or state == "logged_out":
        return "logged_out"
    if state in ("in_call", "ringing"):
        return state
    if state == "reserved":
        return "ringing"
    if status == "wrap_up" or state == "wrap_up":
        return "wrap_up"
    if status == "not_ready":
        return "not_ready"
    return "ready"


BOARD_LABELS = {
    "ready": "Ready", "in_call": "In call", "ringing": "Ringing", "wrap_up": "Wrap-up",
    "not_ready": "Not ready", "logged_out": "Logged out",
}


class SupervisorModel:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.agents: dict[str, dict[str, Any]] = {}
        self.queues: dict[str, dict[str, Any]] = {}
        self._agent_seen: dict[str, float] = {}
        self._queue_seen: dict[str, float] = {}
        self.selected_agent: str | None = None
        self.reasons: list[dict[str, str]] = []
        self.changed = Signal()

    # -- feeding -------------------------------------------------------------------------------

    def set_reasons(self, reasons: list[dict[str, str]]) -> None:
        """The tenant's not-ready reason codes, for their labels in the agents table."""
        self.reasons = [r for r in reasons if r.get("code")]
        self.changed.emit()

    def set_agents(self, agents: list[dict[str, Any]]) -> None:
        self.agents = {}
        for agent in agents:
            self._store_agent(agent)
        self.changed.emit()

    def update_agent(self, agent: dict[str, Any]) -> None:
        self._store_agent(agent)
        self.changed.emit()

    def set_queues(self, queues: list[dict[str, Any]]) -> None:
        self.queues = {}
        for queue in queues:
            self._store_queue(queue)
        self.changed.emit()

    def update_queue(self, queue: dict[str, Any]) -> None:
        self._store_queue(queue)
        self.changed.emit()

    def select_agent(self, agent_id: str | None) -> None:
        self.selected_agent = agent_id if agent_id in self.agents else None
        self.changed.emit()

    # -- reading -------------------------------------------------------------------------------

    def time_in_state(self, agent_id: str) -> float:
        agent = self.agents[agent_id]
        since = parse_time(agent.get("since")) or self._agent_seen.get(agent_id, self.clock())
        return max(0.0, self.clock() - since)

    def agent_rows(self) -> list[dict[str, Any]]:
        rows = []
        for agent_id, agent in sorted(self.agents.items(), key=lambda kv: kv[0]):
            status_text = label(STATUS_LABELS, agent.get("status"))
            if agent.get("status") == "not_ready" and agent.get("reason"):
                status_text += f" – {reason_label(agent['reason'], self.reasons)}"
            rows.append({
                "agent_id": agent_id,
                "name": agent.get("name") or agent_id,
                "extension": agent.get("extension") or "",
                "status": status_text,
                "state": label(STATE_LABELS, agent.get("state")),
                "board": board_state(agent),
                "time_in_state": self.time_in_state(agent_id),
                "calls_answered": agent.get("calls_answered") or 0,
                "queues": ", ".join(agent.get("queues") or []),
            })
        return rows

    def queue_rows(self) -> list[dict[str, Any]]:
        rows = []
        for name, queue in sorted(self.queues.items()):
            stats = queue.get("stats") or {}
            rows.append({
                "queue": name,
                "name": queue.get("name") or name,
                "waiting": int(queue.get("waiting") or 0),
                "longest_wait": self.longest_wait(name),
                "agents_ready": queue.get("agents_ready") or 0,
                "agents_busy": queue.get("agents_busy") or 0,
                "agents_logged_on": queue.get("agents_logged_on") or 0,
                "service_level": stats.get("service_level"),
                "sl_seconds": stats.get("sl_seconds"),
                "offered": stats.get("offered") or 0,
                "answered": stats.get("answered") or 0,
                "abandoned": stats.get("abandoned") or 0,
                "asa": stats.get("asa"),
            })
        return rows

    def longest_wait(self, queue_name: str) -> float:
        """The longest wait now: the snapshot's figure aged since it arrived."""
        queue = self.queues[queue_name]
        if not queue.get("waiting"):
            return 0.0
        aged = self.clock() - self._queue_seen.get(queue_name, self.clock())
        return float(queue.get("longest_wait") or 0) + max(0.0, aged)

    def waiting_callers(self) -> list[dict[str, Any]]:
        """Every waiting caller of every queue, longest-waiting first, waits aged."""
        callers = []
        for name, queue in self.queues.items():
            aged = max(0.0, self.clock() - self._queue_seen.get(name, self.clock()))
            for caller in queue.get("callers") or []:
                callers.append({**caller, "queue": name,
                                "waited": float(caller.get("waited") or 0) + aged})
        return sorted(callers, key=lambda c: -c["waited"])

    def state_distribution(self) -> list[tuple[str, str, int]]:
        """(code, label, agents) per wallboard state, in pie order, zeros left out."""
        counts = {code: 0 for code in STATE_ORDER}
        for agent in self.agents.values():
            counts[board_state(agent)] += 1
        return [(code, BOARD_LABELS[code], n) for code, n in counts.items() if n]

    def queue_bars(self) -> list[tuple[str, dict[str, float]]]:
        """Per queue the figures of the bar chart: waiting, answered, abandoned."""
        return [
            (row["name"], {"waiting": row["waiting"], "answered": row["answered"],
                           "abandoned": row["abandoned"]})
            for row in self.queue_rows()
        ]

    def overall_service_level(self) -> float | None:
        """Service level over all queues, weighted by answered calls."""
        total = weighted = 0.0
        for queue in self.queues.values():
            stats = queue.get("stats") or {}
            answered, level = stats.get("answered") or 0, stats.get("service_level")
            if level is not None and answered:
                total += answered
                weighted += answered * float(level)
        return weighted / total if total else None

    def agent_call(self, agent_id: str, calls: list[dict[str, Any]]) -> dict[str, Any] | None:
        """The call an agent is talking on, for listen / whisper / barge."""
        agent = self.agents.get(agent_id)
        if not agent or not agent.get("extension"):
            return None
        for call in calls:
            for party in call.get("parties") or []:
                if party.get("device") == agent["extension"] and party.get("state") in (
                    "connected", "hold"
                ):
                    return call
        return None

    def _store_agent(self, agent: dict[str, Any]) -> None:
        agent_id = str(agent.get("agent_id"))
        old = self.agents.get(agent_id)
        if old is None or (old.get("status"), old.get("state")) != (
            agent.get("status"), agent.get("state")
        ):
            self._agent_seen[agent_id] = self.clock()
        self.agents[agent_id] = dict(agent)

    def _store_queue(self, queue: dict[str, Any]) -> None:
        name = str(queue.get("queue"))
        self.queues[name] = dict(queue)
        self._queue_seen[name] = self.clock()
