"""Erlang C (M/M/N) and Erlang A (M/M/N+M) staffing figures.

Offered load A = arrival rate x AHT (in Erlangs). Erlang B comes from the recurrence
B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)), which never forms A^N / N! and so stays exact for
thousands of agents; Erlang C follows as C = N B / (N - A (1 - B)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of N servers and no queue."""
    _check(agents, load)
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def p_wait(agents: int, load: float) -> float:
    """Erlang C: probability that a caller has to wait (1.0 when the load is not below N)."""
    _check(agents, load)
    if load >= agents:
        return 1.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def asa(agents: int, load: float, aht: float) -> float:
    """Average speed of answer over all callers (seconds); infinite when overloaded."""
    _check(agents, load)
    if load >= agents:
        return math.inf
    return p_wait(agents, load) * aht / (agents - load)


def service_level(agents: int, load: float, aht: float, seconds: float) -> float:
    """Fraction of callers answered within `seconds`."""
    _check(agents, load)
    if load >= agents:
        return 0.0
    return 1.0 - p_wait(agents, load) * math.exp(-(agents - load) * seconds / aht)


def occupancy(agents: int, load: float) -> float:
    return min(1.0, load / agents) if agents else 1.0


def agents_needed(load: float, aht: float, seconds: float, target_sl: float,
                  limit: int = 1_000_000) -> int:
    """The fewest agents reaching service level `target_sl` within `seconds`."""
    if not 0.0 <= target_sl < 1.0:
        raise ValueError("target service level must be in [0, 1)")
    agents = max(1, math.floor(load) + 1)
    while service_level(agents, load, aht, seconds) < target_sl:
        agents += 1
        if agents > limit:
            raise ValueError("no staffing below the limit reaches the target")
    return agents


@dataclass(frozen=True)
class ErlangA:
    """M/M/N+M figures: Poisson arrivals, exponential handling and exponential patience."""

    p_wait: float
    p_abandon: float
    asa: float
    """Mean wait of all callers, the ones who give up included (Little's law on the queue)."""
    occupancy: float


def erlang_a(agents: int, rate: float, aht: float, patience: float) -> ErlangA:
    """Erlang A from the birth-death chain of calls in system.

    State n has birth rate `rate` and death rate min(n, N)/aht + max(0, n - N)/patience, so the
    chain is stable at any load; it is summed until the terms no longer matter.
    """
    _check(agents, rate * aht)
    if patience <= 0:
        raise ValueError("patience must be > 0")
    mu, theta = 1.0 / aht, 1.0 / patience
    # Unnormalised probabilities, scaled as they grow so nothing overflows.
    probs = [1.0]
    term = peak = 1.0
    n = 0
    while True:
        n += 1
        term *= rate / (min(n, agents) * mu + max(0, n - agents) * theta)
        probs.append(term)
        if term > 1e250:
            probs = [p / term for p in probs]
            peak /= term
            term = 1.0
        peak = max(peak, term)
        if n > agents and term < 1e-16 * peak:
            break
    total = math.fsum(probs)
    waiting = math.fsum(probs[agents:]) / total
    queue_length = math.fsum((k - agents) * probs[k] for k in range(agents, len(probs))) / total
    abandon = theta * queue_length / rate
    busy = math.fsum(min(k, agents) * p for k, p in enumerate(probs)) / total
    return ErlangA(waiting, abandon, queue_length / rate, busy / agents)


def _check(agents: int, load: float) -> None:
    if agents < 1:
        raise ValueError("agents must be >= 1")
    if load < 0 or not math.isfinite(load):
        raise ValueError("offered load must be a finite number >= 0")
