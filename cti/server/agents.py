"""The agents as the API shows them: status (what the agent chose) and state (what happened).

This board is the server's record of who is logged on where. Status changes come from the API
(log on, ready, not ready with a reason, wrap-up done, log off) and, when the ACD engine runs,
from its AgentState decisions; state follows the agent's extension on the switch (ringing,
in_call, back to idle or wrap_up), as FreeSWITCH keeps status and state apart (field-notes.md).
Pure: time is passed in, nothing here touches a socket or the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cti import events as ev
from cti.events import iso_time

LOGGED_OUT, READY, NOT_READY, WRAP_UP = "logged_out", "ready", "not_ready", "wrap_up"
IDLE, RESERVED, RINGING, IN_CALL = "idle", "reserved", "ringing", "in_call"


_ACD_STATUS = {"available": READY, "not_ready": NOT_READY}


class AgentStateError(ValueError):
    """The change is not possible from the agent's current status (answered 409)."""


@dataclass(slots=True)
class AgentView:
    tenant: str
    agent_id: str
    name: str | None = None
    extension: str | None = None
    status: str = LOGGED_OUT
    state: str = LOGGED_OUT
    reason: str | None = None
    since: float | None = None
    queues: list[str] = field(default_factory=list)
    skills: dict[str, int] = field(default_factory=dict)
    calls_answered: int = 0
    talk_seconds: float = 0.0
    wrapup_seconds: float | None = None
    calls: dict[str, str] = field(default_factory=dict)
    """call_id -> connection state at the extension, for the calls the agent is on."""
    talk_started: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The agent object of docs/api.md."""
        return {
            "agent_id": self.agent_id,
            "name": self.name,
            "extension": self.extension,
            "status": self.status,
            "state": self.state,
            "reason": self.reason,
            "since": iso_time(self.since) if self.since is not None else None,
            "queues": list(self.queues),
            "skills": dict(self.skills),
            "calls_answered": self.calls_answered,
            "talk_seconds": round(self.talk_seconds, 3),
        }


class AgentBoard:
    def __init__(self) -> None:
        self._agents: dict[tuple[str, str], AgentView] = {}
        self._seats: dict[tuple[str, str], str] = {}

    def get(self, tenant: str, agent_id: str) -> AgentView | None:
        return self._agents.get((tenant, agent_id))

    def of_tenant(self, tenant: str) -> list[AgentView]:
        return sorted((a for (t, _), a in self._agents.items() if t == tenant),
                      key=lambda a: a.agent_id)

    def at_extension(self, tenant: str, extension: str | None) -> AgentView | None:
        if extension is None:
            return None
        agent_id = self._seats.get((tenant, extension))
        return self._agents.get((tenant, agent_id)) if agent_id else None

    def log_on(self, tenant: str, agent_id: str, extension: str, now: float, *,
               name: str | None = None, skills: dict[str, int] | None = None,
               queues: list[str] | None = None, wrapup_seconds: float | None = None,
               reason: str = "login", calls: dict[str, str] | None = None) -> AgentView:
        """Seat the agent at `extension`, status not_ready (reason `login`). `calls` are the
        connections (call ID: state) already at the extension: a call that was up before the
        login (a restarted server learns it from the switch's snapshot) keeps the agent busy."""
        occupant = self._seats.get((tenant, extension))
        if occupant is not None and occupant != agent_id:
            raise AgentStateError(f"extension {extension} is taken by agent {occupant}")
        agent = self._agents.get((tenant, agent_id))
        if agent is None:
            agent = self._agents[(tenant, agent_id)] = AgentView(tenant, agent_id)
        if agent.extension and agent.extension != extension:
            self._seats.pop((tenant, agent.extension), None)
        agent.name = name or agent.name
        agent.extension = extension
        agent.skills = dict(skills or agent.skills)
        agent.queues = list(queues if queues is not None else agent.queues)
        agent.wrapup_seconds = wrapup_seconds
        self._seats[(tenant, extension)] = agent_id
        for call_id, state in (calls or {}).items():
            agent.calls.setdefault(call_id, state)
            if state in (ev.CONNECTED, ev.HOLD):
                agent.talk_started.setdefault(call_id, now)
        self._set(agent, NOT_READY, reason, now)
        agent.state = self._derived_state(agent)
        return agent

    def log_off(self, tenant: str, agent_id: str, now: float) -> AgentView | None:
        agent = self._agents.get((tenant, agent_id))
        if agent is None or agent.status == LOGGED_OUT:
            return None
        if agent.extension:
            self._seats.pop((tenant, agent.extension), None)
        agent.status, agent.state, agent.reason, agent.since = LOGGED_OUT, LOGGED_OUT, None, now
        agent.calls.clear()
        agent.talk_started.clear()
        return agent

    def set_status(self, tenant: str, agent_id: str, status: str, reason: str | None,
                   now: float) -> AgentView:
        """ready / not_ready(reason) / wrap_up_done / logged_out, as the API asks."""
        agent = self._agents.get((tenant, agent_id))
        if agent is None or agent.status == LOGGED_OUT:
            raise AgentStateError(f"agent {agent_id} is not logged on (log in with an extension)")
        if status == "wrap_up_done":
            if agent.status != WRAP_UP:
                raise AgentStateError(f"agent {agent_id} is not in wrap-up")
            status = READY
        if status == LOGGED_OUT:
            self.log_off(tenant, agent_id, now)
            return agent
        if status not in (READY, NOT_READY, WRAP_UP):
            raise AgentStateError(f"unknown status {status!r}")
        self._set(agent, status, reason if status == NOT_READY else None, now)
        agent.state = self._derived_state(agent)
        return agent

    def apply_acd(self, tenant: str, agent_id: str, status: str, state: str,
                  reason: str | None, now: float) -> AgentView | None:
        """The ACD engine's word on an agent (its AgentState decision); the changed view."""
        agent = self._agents.get((tenant, agent_id))
        if agent is None or agent.status == LOGGED_OUT:
            return None
        if status == LOGGED_OUT:
            return self.log_off(tenant, agent_id, now)
        new_status = WRAP_UP if state == WRAP_UP else _ACD_STATUS.get(status, agent.status)
        new_reason = reason if new_status == NOT_READY else None
        before = (agent.status, agent.reason, agent.state)
        if (new_status, new_reason) != (agent.status, agent.reason):
            self._set(agent, new_status, new_reason, now)
        agent.state = self._derived_state(agent)
        return agent if (agent.status, agent.reason, agent.state) != before else None

    def on_event(self, tenant: str, event: ev.Event, now: float) -> list[AgentView]:
        """Follow the agent's extension; returns the agents whose view changed."""
        changed: list[AgentView] = []
        if event.event in (ev.TRANSFERRED, ev.CONFERENCED):
            for agent in self.of_tenant(tenant):
                moved = [old for old in event.old_call_ids if old in agent.calls]
                for old in moved:
                    if event.call_id and event.call_id != old:
                        agent.calls[event.call_id] = agent.calls.pop(old)
                        if old in agent.talk_started:
                            agent.talk_started[event.call_id] = agent.talk_started.pop(old)
            for party in event.parties:
                self._connection(tenant, party.device, party.call_id, party.state, now, changed)
        agent = self.at_extension(tenant, event.device)
        if agent is not None and event.call_id:
            state = _connection_state(event)
            if state is not None:
                self._connection(tenant, event.device, event.call_id, state, now, changed)
        if event.event == ev.CALL_CLEARED and event.call_id:
            for other in self.of_tenant(tenant):
                if event.call_id in other.calls:
                    self._connection(tenant, other.extension, event.call_id, ev.NULL, now, changed)
        return changed

    def calls_ended(self, tenant: str, call_ids: Iterable[str], now: float) -> list[AgentView]:
        """The call model ended these calls in a way no clearing event told the agents (a
        snapshot after a link drop, a call no monitored device could see any more): their
        agents are off them, as if cleared. Returns the agents whose view changed."""
        ids = set(call_ids)
        changed: list[AgentView] = []
        for agent in self.of_tenant(tenant):
            for call_id in [c for c in agent.calls if c in ids]:
                self._connection(tenant, agent.extension, call_id, ev.NULL, now, changed)
        return changed

    def _connection(self, tenant: str, device: str | None, call_id: str, state: str | None,
                    now: float, changed: list[AgentView]) -> None:
        agent = self.at_extension(tenant, device)
        if agent is None or state is None:
            return
        before = (agent.state, agent.status)
        if state == ev.NULL:
            agent.calls.pop(call_id, None)
            started = agent.talk_started.pop(call_id, None)
            if started is not None:
                agent.talk_seconds += max(0.0, now - started)
                if not agent.calls and agent.status == READY and agent.wrapup_seconds:
                    self._set(agent, WRAP_UP, None, now)
        else:
            previous = agent.calls.get(call_id)
            agent.calls[call_id] = state
            if state == ev.CONNECTED and previous in (None, ev.ALERTING) \
                    and call_id not in agent.talk_started:
                agent.talk_started[call_id] = now
                if previous == ev.ALERTING:
                    agent.calls_answered += 1
        agent.state = self._derived_state(agent)
        if (agent.state, agent.status) != before:
            if agent.state != before[0] and agent.status == before[1]:
                agent.since = now
            if agent not in changed:
                changed.append(agent)

    @staticmethod
    def _set(agent: AgentView, status: str, reason: str | None, now: float) -> None:
        agent.status, agent.reason, agent.since = status, reason, now

    @staticmethod
    def _derived_state(agent: AgentView) -> str:
        if agent.status == LOGGED_OUT:
            return LOGGED_OUT
        states = set(agent.calls.values())
        if states & {ev.CONNECTED, ev.HOLD, ev.INITIATED}:
            return IN_CALL
        if ev.ALERTING in states:
            return RINGING
        if agent.status == WRAP_UP:
            return WRAP_UP
        return IDLE


def _connection_state(event: ev.Event) -> str | None:
    """The state an event leaves its device's connection in."""
    if event.state is not None:
        return event.state
    return {
        ev.DELIVERED: ev.ALERTING,
        ev.ESTABLISHED: ev.CONNECTED,
        ev.HELD: ev.HOLD,
        ev.RETRIEVED: ev.CONNECTED,
        ev.CONNECTION_CLEARED: ev.NULL,
        ev.SERVICE_INITIATED: ev.INITIATED,
        ev.ORIGINATED: ev.CONNECTED,
        ev.FAILED: ev.FAIL,
        ev.QUEUED: ev.QUEUED_STATE,
        ev.DIVERTED: ev.NULL,
    }.get(event.event)
