"""The engine's mutable records: agents, queue memberships, callers, queues and timers.

Kept apart from the engine's transition logic so the logic reads as a list of rules. Nothing
here decides anything; the only behaviour is bookkeeping that must stay consistent (waiting
counts per priority, pools per penalty, logged-in / available counts per queue).
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from typing import Any

from cti.acd.config import MemberConfig, QueueConfig
from cti.acd.pools import Pool, make_pool
from cti.acd.timers import Timer

# What the agent chose.
LOGGED_OUT = "logged_out"
AVAILABLE = "available"
NOT_READY = "not_ready"
# What the system did.
IDLE = "idle"
RINGING = "ringing"
IN_CALL = "in_call"
WRAP_UP = "wrap_up"
# Where a caller is.
WAITING = "waiting"
OFFERED = "offered"
CONNECTED = "connected"


class Agent:
    __slots__ = (
        "agent_id", "extension", "skills", "status", "reason", "state", "call_id", "acd",
        "idle_since", "talk_time", "calls", "members", "explicit_in", "pooled", "login_time",
        "wrap_timer", "wrap_start", "wrap_queue", "wrap_call",
    )

    def __init__(self, agent_id: str, extension: str | None, skills: dict[str, int]) -> None:
        self.agent_id = agent_id
        self.extension = extension
        self.skills = skills
        self.status = LOGGED_OUT
        self.reason: str | None = None
        self.state = IDLE
        self.call_id: str | None = None
        self.acd = True
        self.idle_since = 0.0
        self.talk_time = 0.0
        self.calls = 0
        self.members: dict[str, Member] = {}
        self.explicit_in: set[str] = set()
        self.pooled = False
        self.login_time: float | None = None
        self.wrap_timer: Timer | None = None
        self.wrap_start = 0.0
        self.wrap_queue: str | None = None
        self.wrap_call: str | None = None

    @property
    def routable(self) -> bool:
        return self.status == AVAILABLE and self.state == IDLE

    def view(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id, "extension": self.extension, "status": self.status,
            "reason": self.reason, "state": self.state, "call_id": self.call_id,
            "skills": dict(self.skills), "queues": sorted(self.members),
            "calls": self.calls, "idle_since": self.idle_since,
        }


class Member:
    """An agent's place in one queue: penalty, weight, position and calls taken there."""

    __slots__ = ("queue", "agent", "penalty", "weight", "order", "calls")

    def __init__(self, queue: QueueState, agent: Agent, penalty: int, weight: float,
                 order: int) -> None:
        self.queue = queue
        self.agent = agent
        self.penalty = penalty
        self.weight = weight
        self.order = order
        self.calls = 0


class Caller:
    __slots__ = (
        "call_id", "queue", "priority", "arrival", "first_arrival", "calling", "dnis", "data",
        "seq", "origpos", "state", "token", "ringing", "offer_time", "answer_time", "agent",
        "hold_start", "hold_total", "timers", "timed_out", "visited", "allowed", "step",
    )

    def __init__(self, call_id: str, priority: int, time: float, calling: str | None,
                 dnis: str | None, data: dict[str, Any]) -> None:
        self.call_id = call_id
        self.queue: QueueState | None = None
        self.priority = priority
        self.arrival = time
        self.first_arrival = time
        self.calling = calling
        self.dnis = dnis
        self.data = data
        self.seq = 0
        self.origpos = 0
        self.state: str | None = None
        self.token = 0
        self.ringing: list[Agent] = []
        self.offer_time = 0.0
        self.answer_time = 0.0
        self.agent: Agent | None = None
        self.hold_start: float | None = None
        self.hold_total = 0.0
        self.timers: dict[str, Timer] = {}
        self.timed_out = False
        self.visited: set[str] = set()
        self.allowed: float = 0
        """Highest member penalty this caller accepts now (raised by the queue's steps)."""
        self.step = 0
        """Index of the queue's next penalty step not yet reached."""


class QueueState:
    """One queue at run time: its members, idle pools per penalty and waiting callers."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.members: dict[str, Member] = {}
        self.explicit: dict[str, MemberConfig] = {}
        self.pools: dict[int, Pool] = {}
        self.penalties: list[int] = []
        self.waiting: dict[int, deque[tuple[Caller, int]]] = {}
        self.counts: dict[int, int] = {}
        self.levels: list[int] = []
        self.n_waiting = 0
        self.size = 0
        self.logged_in = 0
        self.available = 0
        self.pointer = -1
        self.next_order = 0
        self.aht = config.expected_aht

    @property
    def name(self) -> str:
        return self.config.name

    def empty(self) -> bool:
        if self.config.empty_means == "no_available":
            return self.available == 0
        return self.logged_in == 0

    # Idle agents -------------------------------------------------------------------------
    def pool_add(self, agent: Agent, member: Member) -> None:
        pool = self.pools.get(member.penalty)
        if pool is None:
            pool = self.pools[member.penalty] = make_pool(self.config.strategy)
            insort(self.penalties, member.penalty)
        pool.add(agent, member)

    def pool_discard(self, agent: Agent, member: Member) -> None:
        pool = self.pools.get(member.penalty)
        if pool is not None:
            pool.discard(agent.agent_id)

    def rebuild_pools(self) -> None:
        """New pools after a strategy change, holding the same idle agents."""
        idle = [m for m in self.members.values() if m.agent.pooled]
        self.pools, self.penalties = {}, []
        for member in sorted(idle, key=lambda m: m.agent.idle_since):
            self.pool_add(member.agent, member)

    # Waiting callers ---------------------------------------------------------------------
    def push(self, caller: Caller, head: bool = False) -> None:
        level = caller.priority
        line = self.waiting.get(level)
        if line is None:
            line = self.waiting[level] = deque()
            self.counts[level] = 0
            self.levels = sorted(self.waiting, reverse=True)
        caller.token += 1
        caller.state = WAITING
        if head:
            line.appendleft((caller, caller.token))
        else:
            line.append((caller, caller.token))
        self.counts[level] += 1
        self.n_waiting += 1

    def pull(self, caller: Caller) -> None:
        """Take a waiting caller out of line (its deque entry goes stale; a line left with
        no one waiting is emptied, or its stale entries would pile up while nobody asks for
        its head)."""
        caller.state = None
        self.counts[caller.priority] -= 1
        self.n_waiting -= 1
        if not self.counts[caller.priority]:
            self.waiting[caller.priority].clear()

    def head(self, level: int) -> Caller | None:
        line = self.waiting[level]
        while line:
            caller, token = line[0]
            if caller.token == token and caller.state == WAITING:
                return caller
            line.popleft()
        return None

    def in_order(self) -> list[Caller]:
        """Waiting callers in the order they will be served (priority, then line)."""
        return [
            caller
            for level in self.levels
            for caller, token in self.waiting[level]
            if caller.token == token and caller.state == WAITING
        ]

    def ahead_of_tail(self, level: int) -> int:
        """Position a caller of priority `level` gets when joining at the back of its line."""
        return 1 + sum(count for lvl, count in self.counts.items() if lvl >= level)

    def position(self, caller: Caller) -> int:
        position = 0
        for other in self.in_order():
            position += 1
            if other is caller:
                return position
        return 1

    def view(self, now: float) -> dict[str, Any]:
        waiting = self.in_order()
        idle = sum(len(pool) for pool in self.pools.values())
        return {
            "queue": self.name, "tenant": self.config.tenant, "strategy": self.config.strategy,
            "waiting": len(waiting), "in_queue": self.size,
            "longest_wait": max((now - c.arrival for c in waiting), default=0.0),
            "members": len(self.members), "logged_in": self.logged_in,
            "available": self.available, "idle": idle,
            "callers": [
                {"call_id": c.call_id, "priority": c.priority, "waited": now - c.arrival,
                 "calling": c.calling}
                for c in waiting
            ],
        }
