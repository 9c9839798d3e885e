"""Indexes of idle agents, one per (queue, penalty), ordered the way the queue's strategy picks.

This is what keeps a routing decision independent of the number of agents and queues: the
engine never scans members; it asks the pool of the lowest allowed penalty for its best agent.
An agent sits in the pools of every queue it serves while it is idle and available, and leaves
all of them when it is reserved. Keys never change while an agent sits in a pool (idle-since,
call counts and talk time only move while it is busy), which is what makes heaps valid here.
"""

from __future__ import annotations

import heapq
import itertools
from bisect import bisect_right, insort
from collections.abc import Callable, Iterator
from itertools import accumulate
from random import Random
from typing import Any, Protocol

_seq = itertools.count()


class Member(Protocol):
    order: int
    calls: int
    weight: float


class Pool:
    """The interface every strategy's pool offers to the engine."""

    def add(self, agent: Any, member: Member) -> None: ...
    def discard(self, agent_id: str) -> None: ...
    def best(self, pointer: int, rng: Random) -> Any | None: ...
    def agents(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


class KeyedPool(Pool):
    """A heap on a strategy key with lazy deletion (longest-idle, linear, fewest/least)."""

    def __init__(self, key: Callable[[Any, Member], Any]) -> None:
        self._key = key
        self._heap: list[tuple[Any, int, Any]] = []
        self._live: dict[str, tuple[Any, int, Any]] = {}

    def add(self, agent: Any, member: Member) -> None:
        entry = (self._key(agent, member), next(_seq), agent)
        self._live[agent.agent_id] = entry
        heapq.heappush(self._heap, entry)

    def discard(self, agent_id: str) -> None:
        if self._live.pop(agent_id, None) is not None and len(self._heap) > 2 * len(self._live) + 64:
            self._heap = list(self._live.values())
            heapq.heapify(self._heap)

    def best(self, pointer: int, rng: Random) -> Any | None:
        heap, live = self._heap, self._live
        while heap:
            entry = heap[0]
            if live.get(entry[2].agent_id) is entry:
                return entry[2]
            heapq.heappop(heap)
        return None

    def agents(self) -> Iterator[Any]:
        return (entry[2] for entry in sorted(self._live.values(), key=lambda e: e[:2]))

    def __len__(self) -> int:
        return len(self._live)


class CircularPool(Pool):
    """Members by position; the best is the first after `pointer`, wrapping (hunt, round-robin)."""

    def __init__(self) -> None:
        self._orders: list[int] = []
        self._by_order: dict[int, Any] = {}
        self._order_of: dict[str, int] = {}

    def add(self, agent: Any, member: Member) -> None:
        self._order_of[agent.agent_id] = member.order
        self._by_order[member.order] = agent
        insort(self._orders, member.order)

    def discard(self, agent_id: str) -> None:
        order = self._order_of.pop(agent_id, None)
        if order is not None:
            del self._by_order[order]
            del self._orders[bisect_right(self._orders, order) - 1]

    def best(self, pointer: int, rng: Random) -> Any | None:
        if not self._orders:
            return None
        index = bisect_right(self._orders, pointer)
        return self._by_order[self._orders[index % len(self._orders)]]

    def agents(self) -> Iterator[Any]:
        return (self._by_order[order] for order in list(self._orders))

    def __len__(self) -> int:
        return len(self._orders)


class RandomPool(Pool):
    """An indexable set: uniform choice and removal in O(1) (random, ring-all)."""

    def __init__(self) -> None:
        self._agents: list[Any] = []
        self._index: dict[str, int] = {}
        self._weights: list[float] = []

    def add(self, agent: Any, member: Member) -> None:
        self._index[agent.agent_id] = len(self._agents)
        self._agents.append(agent)
        self._weights.append(member.weight)

    def discard(self, agent_id: str) -> None:
        index = self._index.pop(agent_id, None)
        if index is None:
            return
        last_agent, last_weight = self._agents.pop(), self._weights.pop()
        if index < len(self._agents):
            self._agents[index], self._weights[index] = last_agent, last_weight
            self._index[last_agent.agent_id] = index

    def best(self, pointer: int, rng: Random) -> Any | None:
        return self._agents[rng.randrange(len(self._agents))] if self._agents else None

    def agents(self) -> Iterator[Any]:
        return iter(sorted(self._agents, key=lambda agent: agent.idle_since))

    def __len__(self) -> int:
        return len(self._agents)


class WeightedPool(RandomPool):
    """Random choice in proportion to member weight (weighted-random).

    A cumulative sum per choice: linear in the pool, but the pool is one queue's idle agents at
    one penalty, and the sum runs in C.
    """

    def best(self, pointer: int, rng: Random) -> Any | None:
        if not self._agents:
            return None
        cumulative = list(accumulate(self._weights))
        index = bisect_right(cumulative, rng.random() * cumulative[-1])
        return self._agents[min(index, len(self._agents) - 1)]


def make_pool(strategy: str) -> Pool:
    """A fresh pool ordered for `strategy`; ties go to the agent that became idle first."""
    if strategy == "longest-idle":
        return KeyedPool(lambda agent, member: agent.idle_since)
    if strategy == "linear":
        return KeyedPool(lambda agent, member: member.order)
    if strategy == "fewest-calls":
        return KeyedPool(lambda agent, member: (member.calls, agent.idle_since))
    if strategy == "least-talk-time":
        return KeyedPool(lambda agent, member: (agent.talk_time, agent.idle_since))
    if strategy in ("hunt", "round-robin"):
        return CircularPool()
    if strategy == "weighted-random":
        return WeightedPool()
    return RandomPool()
