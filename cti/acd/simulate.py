"""Virtual-time simulation: the production engine against simulated callers and agents.

A heapq event loop holds the simulated world (arrivals, call ends, callers giving up) and asks
the engine when it next needs a tick, so time jumps from event to event and an hour of a large
center runs in seconds. The engine is driven only through its public inputs, and its decisions
are executed the way the server would: an Offer is answered at once (or after `answer_delay`),
a call then lasts a handling time drawn from the traffic model.

Defaults make M/M/N hold (Poisson arrivals, exponential handling, no wrap-up, no abandonment),
so Erlang C is the oracle for the results.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time as wallclock
from collections import deque
from dataclasses import dataclass, field
from random import Random
from typing import Any

from cti.acd import erlang
from cti.acd.config import QueueConfig
from cti.acd.decisions import Decision, Offer, QueueLogEvent, RingAll
from cti.acd.engine import Engine
from cti.acd.stats import Stats

QUEUE = "sim"


@dataclass(frozen=True)
class Traffic:
    """What is simulated. Rates per hour, times in seconds."""

    agents: int
    rate: float
    aht: float
    hours: float = 1.0
    strategy: str = "longest-idle"
    seed: int = 1
    patience: float | None = None
    """Mean caller patience (exponential); None: callers never hang up."""
    sl_seconds: float = 20.0
    wrapup: float = 0.0
    warmup: float = 0.0
    """Seconds at the start whose callers are left out of the figures (empty-system bias)."""

    def __post_init__(self) -> None:
        if self.agents < 1:
            raise ValueError("agents must be >= 1")
        if not (self.rate > 0 and self.aht > 0 and self.hours > 0):
            raise ValueError("rate, aht and hours must be > 0")
        if self.patience is not None and self.patience <= 0:
            raise ValueError("patience must be > 0")
        if self.wrapup < 0 or self.sl_seconds < 0 or self.warmup < 0:
            raise ValueError("wrapup, sl-seconds and warmup must be >= 0")
        if self.warmup >= self.hours * 3600:
            raise ValueError("warmup must be shorter than the run")


@dataclass
class Result:
    figures: dict[str, Any]
    calls: list[tuple[float, float, bool]] = field(default_factory=list)
    """(entry time, wait, answered) of every measured caller that was answered or gave up."""


def simulate(traffic: Traffic) -> Result:
    """Run the traffic through a fresh engine; figures as `cti simulate --json` prints them."""
    started = wallclock.perf_counter()
    world = _World(traffic)
    world.run()
    figures = world.figures()
    figures["wall_seconds"] = round(wallclock.perf_counter() - started, 3)
    return Result(figures, world.calls)


class _World:
    def __init__(self, traffic: Traffic) -> None:
        self.traffic = traffic
        self.rng = Random(traffic.seed)
        self.engine = Engine(seed=traffic.seed)
        self.measure = Stats(sl_seconds=traffic.sl_seconds)
        self.measure.set_service_level(QUEUE, traffic.sl_seconds)
        self.events: list[tuple[float, int, str, str]] = []
        self.seq = itertools.count()
        self.entered: dict[str, float] = {}
        self.unanswered: set[str] = set()
        self.calls: list[tuple[float, float, bool]] = []
        self.end = traffic.hours * 3600.0
        self.at_warmup: dict[str, Any] = {}

    def push(self, when: float, kind: str, call_id: str = "") -> None:
        heapq.heappush(self.events, (when, next(self.seq), kind, call_id))

    def run(self) -> None:
        traffic, engine = self.traffic, self.engine
        self.handle(engine.add_queue(QueueConfig(
            QUEUE, strategy=traffic.strategy, ring_timeout=None,
            wrapup_seconds=traffic.wrapup, sl_seconds=traffic.sl_seconds,
        ), 0.0))
        for i in range(traffic.agents):
            agent = f"agent{i + 1}"
            engine.add_agent(agent, 0.0, extension=str(1000 + i + 1))
            engine.add_member(QUEUE, agent, 0.0)
            self.handle(engine.agent_login(agent, 0.0))
        self.push(self.rng.expovariate(traffic.rate / 3600.0), "arrive")
        self.push(traffic.warmup, "warmup")
        events = self.events
        calls = itertools.count(1)
        while True:
            next_event = events[0][0] if events else math.inf
            wake = engine.next_wakeup()
            if wake is not None and wake <= next_event:
                if wake > self.end:
                    break
                self.handle(engine.tick(wake))
                continue
            if next_event > self.end:
                break
            now, _, kind, call_id = heapq.heappop(events)
            if kind == "arrive":
                call_id = f"call{next(calls)}"
                self.entered[call_id] = now
                self.unanswered.add(call_id)
                self.push(now + self.rng.expovariate(traffic.rate / 3600.0), "arrive")
                if traffic.patience is not None:
                    self.push(now + self.rng.expovariate(1.0 / traffic.patience), "abandon",
                              call_id)
                self.handle(engine.caller_arrived(call_id, now, QUEUE))
            elif kind == "end":
                self.handle(engine.call_ended(call_id, now))
            elif kind == "abandon" and call_id in self.unanswered:
                self.unanswered.discard(call_id)
                self.handle(engine.caller_abandoned(call_id, now))
            elif kind == "warmup":
                self.at_warmup = self.snapshot(now)
        self.engine.tick(self.end)

    def handle(self, decisions: list[Decision]) -> None:
        """Execute decisions as the server would, with agents that answer when offered."""
        pending = deque(decisions)
        while pending:
            decision = pending.popleft()
            kind = type(decision)
            if kind is QueueLogEvent:
                self.record(decision)
            elif kind is Offer or kind is RingAll:
                agent = decision.agent_id if kind is Offer else decision.agents[0][0]
                now = self.engine.now
                self.unanswered.discard(decision.call_id)
                pending.extendleft(reversed(
                    self.engine.agent_answered(decision.call_id, agent, now)))
                self.push(now + self.rng.expovariate(1.0 / self.traffic.aht), "end",
                          decision.call_id)

    def record(self, record: QueueLogEvent) -> None:
        if record.call_id is None:
            return
        entered = self.entered.get(record.call_id, -1.0)
        if entered < self.traffic.warmup:
            return
        self.measure.observe(record)
        if record.event == "CONNECT":
            self.calls.append((entered, record.data["holdtime"], True))
        elif record.event == "ABANDON":
            self.calls.append((entered, record.data["waittime"], False))

    def snapshot(self, now: float) -> dict[str, float]:
        busy = staffed = 0.0
        for agent_id in self.engine.agents:
            counters = self.engine.stats.agent(agent_id, now)
            busy += counters.busy
            staffed += counters.staffed
        return {"busy": busy, "staffed": staffed}

    def figures(self) -> dict[str, Any]:
        traffic = self.traffic
        counters = self.measure.queue(QUEUE)
        final = self.snapshot(self.end)
        staffed = final["staffed"] - self.at_warmup.get("staffed", 0.0)
        busy = final["busy"] - self.at_warmup.get("busy", 0.0)
        load = traffic.rate / 3600.0 * traffic.aht
        theory_a = None
        if traffic.patience is not None:
            figures = erlang.erlang_a(traffic.agents, traffic.rate / 3600.0, traffic.aht,
                                      traffic.patience)
            theory_a = {"p_wait": _round(figures.p_wait), "p_abandon": _round(figures.p_abandon),
                        "asa": _round(figures.asa), "occupancy": _round(figures.occupancy)}
        return {
            "agents": traffic.agents, "rate": traffic.rate, "aht": traffic.aht,
            "strategy": traffic.strategy, "seed": traffic.seed,
            "offered": counters.offered, "answered": counters.answered,
            "abandoned": counters.abandoned,
            "p_wait": _round(counters.p_wait), "asa": _round(counters.asa),
            "service_level": _round(counters.service_level),
            "service_level_2": _round(counters.service_level_2),
            "sl_seconds": traffic.sl_seconds, "aht_measured": _round(counters.aht),
            "longest_wait": _round(counters.longest_wait),
            "occupancy": _round(busy / staffed if staffed > 0 else None),
            "simulated_seconds": self.end, "warmup_seconds": traffic.warmup,
            "erlang_c": {
                "load": round(load, 6),
                "p_wait": _round(erlang.p_wait(traffic.agents, load)),
                "asa": _round(erlang.asa(traffic.agents, load, traffic.aht)),
                "service_level": _round(erlang.service_level(
                    traffic.agents, load, traffic.aht, traffic.sl_seconds)),
                "occupancy": _round(erlang.occupancy(traffic.agents, load)),
            },
            "erlang_a": theory_a,
        }


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 6)
