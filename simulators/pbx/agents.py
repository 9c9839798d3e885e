"""Agents at extensions: log on with ID and password, ready, not ready, after-call work.

Mixed into Switch (switch.py). A ready agent who answers a call is busy, and ready again once
idle (after `wrap_up_seconds` of working-after-call when set); only ready agents get calls from
hunt groups.
"""

from __future__ import annotations

from typing import Any

from simulators.pbx import events as ev
from simulators.pbx.errors import AgentRefused, InvalidState, SwitchError
from simulators.pbx.model import (
    AGENT_BUSY,
    AGENT_NOT_READY,
    AGENT_READY,
    AGENT_WORK,
    NULL,
    Agent,
    Extension,
)

AGENT_REQUESTS = ("loggedOn", "loggedOff", "ready", "notReady", "workingAfterCall")


class AgentsMixin:
    """Agent state services and the automatic busy / wrap-up / ready transitions."""

    devices: dict[str, Any]
    agent_passwords: dict[str, str]
    wrap_up_seconds: float
    clock: Any

    def set_agent_state(
        self, device: str, requested: str, agent_id: str | None = None,
        password: str | None = None, group: str | None = None, reason: str | None = None,
    ) -> None:
        ext = self.extension(device)
        if requested not in AGENT_REQUESTS:
            raise SwitchError(f"unknown agent state {requested!r}")
        agent = ext.agent
        if requested == "loggedOn":
            agent_id = agent_id or device
            if agent is not None:
                if agent.agent_id != agent_id:
                    raise InvalidState(f"agent {agent.agent_id} is logged on at {device}")
                return
            if self.agent_passwords and self.agent_passwords.get(agent_id) != (password or ""):
                raise AgentRefused(f"agent {agent_id}: unknown agent or wrong password")
            for other in self.devices.values():
                if isinstance(other, Extension) and other.agent and other.agent.agent_id == agent_id:
                    raise InvalidState(f"agent {agent_id} is logged on at {other.number}")
            ext.agent = Agent(agent_id, group=group)
            self._emit_agent(ev.AGENT_LOGGED_ON, ext)
            return
        if agent is None:
            raise InvalidState(f"no agent is logged on at {device}")
        self._cancel_agent_timer(agent)
        if requested == "loggedOff":
            ext.agent = None
            self._emit_agent(ev.AGENT_LOGGED_OFF, ext, agent)
        elif requested == "ready":
            self._agent_ready(ext)
        elif requested == "notReady":
            agent.state, agent.reason = AGENT_NOT_READY, reason
            self._emit_agent(ev.AGENT_NOT_READY, ext)
        else:
            agent.state, agent.reason = AGENT_WORK, None
            self._emit_agent(ev.AGENT_WORKING_AFTER_CALL, ext)

    def agent_state(self, device: str) -> Agent | None:
        return self.extension(device).agent

    # ------------------------------------------------------------------ internals: agents

    def _agent_ready(self, ext: Extension) -> None:
        agent = ext.agent
        assert agent is not None
        self._cancel_agent_timer(agent)
        agent.state, agent.reason = AGENT_READY, None
        self._emit_agent(ev.AGENT_READY, ext)
        self._member_free(ext)

    def _agent_on_call(self, device: str) -> None:
        ext = self.devices.get(device)
        if isinstance(ext, Extension) and ext.agent is not None and ext.agent.state == AGENT_READY:
            ext.agent.state = AGENT_BUSY
            self._emit_agent(ev.AGENT_BUSY, ext)

    def _wrap_up_done(self, ext: Extension) -> None:
        if ext.agent is not None and ext.agent.state == AGENT_WORK:
            ext.agent.timer = None
            self._agent_ready(ext)

    @staticmethod
    def _cancel_agent_timer(agent: Agent) -> None:
        if agent.timer is not None and agent.timer.active():
            agent.timer.cancel()
        agent.timer = None

    def _emit_agent(self, kind: str, ext: Extension, agent: Agent | None = None) -> None:
        agent = agent or ext.agent
        assert agent is not None
        self._emit(
            kind, None, ext.number, extra=((ext.number, NULL),),
            details={"agent_id": agent.agent_id, "reason": agent.reason, "group": agent.group,
                     "state": agent.state},
        )
