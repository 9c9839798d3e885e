"""A small call center around a real Engine, with readable shorthands for scripted cases."""

from __future__ import annotations

from typing import Any

import pytest

from cti.acd import (
    AgentState,
    Announce,
    Engine,
    Exit,
    Offer,
    Overflow,
    QueueConfig,
    QueueLogEvent,
    RingAll,
    StopRinging,
)


class Center:
    """Drives an Engine and keeps every decision; helpers read the decisions back."""

    def __init__(self, seed: int = 0) -> None:
        self.engine = Engine(seed=seed)
        self.decisions: list[Any] = []

    def _keep(self, decisions: list[Any]) -> list[Any]:
        self.decisions.extend(decisions)
        return decisions

    def queue(self, name: str = "q", t: float = 0.0, **config: Any) -> None:
        self._keep(self.engine.add_queue(QueueConfig(name, **config), t))

    def staff(self, queue: str, *agents: str, t: float = 0.0, step: float = 0.0,
              ready: bool = True, **member: Any) -> list[Any]:
        """Declare agents as explicit members of `queue` and log them in, `step` s apart."""
        out: list[Any] = []
        for i, agent in enumerate(agents):
            if agent not in self.engine.agents:
                self.engine.add_agent(agent, t, extension=f"ext-{agent}")
            self._keep(self.engine.add_member(queue, agent, t, **member))
            out += self.login(agent, t + i * step, ready=ready)
        return out

    def login(self, agent: str, t: float, **kw: Any) -> list[Any]:
        return self._keep(self.engine.agent_login(agent, t, **kw))

    def arrive(self, call: str, t: float, queue: str | None = "q", **kw: Any) -> list[Any]:
        return self._keep(self.engine.caller_arrived(call, t, queue, **kw))

    def answer(self, call: str, agent: str, t: float) -> list[Any]:
        return self._keep(self.engine.agent_answered(call, agent, t))

    def end(self, call: str, t: float, **kw: Any) -> list[Any]:
        return self._keep(self.engine.call_ended(call, t, **kw))

    def tick(self, t: float) -> list[Any]:
        return self._keep(self.engine.tick(t))

    def take(self, call: str, t: float, queue: str = "q", **kw: Any) -> str:
        """A caller arrives and the offered agent answers at once; returns that agent."""
        decisions = self.arrive(call, t, queue, **kw)
        agents = self.offered(decisions)
        assert len(agents) == 1, decisions
        self.answer(call, agents[0][1], t)
        return agents[0][1]

    # Reading decisions -------------------------------------------------------------------
    @staticmethod
    def offered(decisions: list[Any]) -> list[tuple[str, str]]:
        return [(d.call_id, d.agent_id) for d in decisions if isinstance(d, Offer)]

    @staticmethod
    def of(decisions: list[Any], kind: type) -> list[Any]:
        return [d for d in decisions if isinstance(d, kind)]

    @staticmethod
    def events(decisions: list[Any]) -> list[str]:
        return [d.event for d in decisions if isinstance(d, QueueLogEvent)]

    @staticmethod
    def record(decisions: list[Any], event: str) -> QueueLogEvent:
        found = [d for d in decisions if isinstance(d, QueueLogEvent) and d.event == event]
        assert len(found) == 1, (event, decisions)
        return found[0]

    def state(self, agent: str) -> tuple[str, str, str | None]:
        view = self.engine.agent_view(agent)
        return view["status"], view["state"], view["reason"]

    def waiting(self, queue: str = "q") -> list[str]:
        return [c["call_id"] for c in self.engine.queue_view(queue)["callers"]]


@pytest.fixture
def center() -> Center:
    return Center()


__all__ = [
    "AgentState", "Announce", "Center", "Exit", "Offer", "Overflow", "RingAll", "StopRinging",
]
