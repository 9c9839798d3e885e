"""Generated traffic: outside callers arriving at random, talking for a while, hanging up.

Arrivals are Poisson (exponential gaps) at `rate` calls per second; holding times exponential
or fixed around `holding` seconds; everything drawn from one seeded random.Random, so a run is
repeatable. Callers are `caller_prefix` (international form) or, for a `national_share` of them,
`national_prefix` (the national form a trunk may present) plus 8 random digits.
Called extensions (and the members of called pilots) answer by themselves after
`ring_delay`, as the switch's auto-answer feature does it.

Arrivals are placed by a single pump that catches up on every arrival that is due whenever it
runs, so a rate far above the reactor's timer resolution costs one wake-up per batch, not one
per call. `rate=None` is burst mode, for benchmarks: a closed loop that keeps `batch` calls
(at most one per idle target extension) in progress and places a new one as soon as one ends,
so the switch runs as fast as the reactor and the clients allow, without piling up busy calls;
`congested` (e.g. CSTAServerFactory.congested) pauses it while a client's send buffer is full;
call `kick()` when the congestion clears (CSTAServerFactory.drained) to go on at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simulators.pbx import events as ev
from simulators.pbx.errors import SwitchError
from simulators.pbx.events import SwitchEvent
from simulators.pbx.model import Extension, Pilot
from simulators.pbx.switch import Switch

HOLDING_DISTRIBUTIONS = ("exponential", "fixed")
MAX_PER_PUMP = 2000
CONGESTION_RETRY = 0.05


@dataclass(slots=True)
class TrafficStats:
    offered: int = 0
    refused: int = 0
    answered: int = 0
    completed: int = 0
    events: int = 0
    first_arrival: float | None = None
    last_arrival: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "offered": self.offered, "refused": self.refused, "answered": self.answered,
            "completed": self.completed, "events": self.events,
        }


class TrafficGenerator:
    """Inbound calls from trunks to `targets` (extensions and/or pilots) on one switch."""

    def __init__(
        self,
        switch: Switch,
        targets: Sequence[str],
        *,
        rate: float | None = 1.0,
        holding: float = 60.0,
        holding_distribution: str = "exponential",
        ring_delay: float = 1.0,
        seed: int | None = None,
        caller_prefix: str = "+4930",
        national_prefix: str = "030",
        national_share: float = 0.0,
        batch: int = 200,
        max_calls: int | None = None,
        congested: Callable[[], bool] | None = None,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for burst mode)")
        if holding < 0 or ring_delay < 0:
            raise ValueError("holding and ring delay cannot be negative")
        if holding_distribution not in HOLDING_DISTRIBUTIONS:
            raise ValueError(f"holding distribution must be one of {HOLDING_DISTRIBUTIONS}")
        if not targets:
            raise ValueError("traffic needs at least one target")
        for target in targets:
            switch.device(target)
        self.switch = switch
        self.clock = switch.clock
        self.targets = list(targets)
        self.rate = rate
        self.holding = holding
        self.exponential = holding_distribution == "exponential"
        self.ring_delay = ring_delay
        self.random = random.Random(seed)
        if not 0.0 <= national_share <= 1.0:
            raise ValueError("national share must be between 0 and 1")
        self.caller_prefix = caller_prefix
        self.national_prefix = national_prefix
        self.national_share = national_share
        self.batch = batch
        self.max_calls = max_calls
        self.congested = congested
        self.stats = TrafficStats()
        self.running = False
        self._callers: dict[str, str] = {}
        self._hangups: dict[str, Any] = {}
        self._timer: Any = None
        self._next_arrival = 0.0
        self._owed = 0
        self._cursor = 0

    def start(self) -> None:
        if self.running:
            return
        self.running = True
        self._enable_auto_answer()
        self.switch.subscribe(self._on_event)
        self._next_arrival = self.clock.seconds()
        if self.rate is not None:
            self._next_arrival += self.random.expovariate(self.rate)
        else:
            in_flight = self.batch
            if not any(isinstance(self.switch.devices[t], Pilot) for t in self.targets):
                in_flight = min(in_flight, len(self.targets))
            self._owed = max(0, in_flight - len(self._callers))
        self._arm()

    def stop(self) -> None:
        """No new calls; calls in progress still end after their holding time."""
        self.running = False
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None

    def close(self) -> None:
        """Stop, cancel pending hang-ups and stop watching the switch."""
        self.stop()
        self.switch.unsubscribe(self._on_event)
        for timer in self._hangups.values():
            if timer.active():
                timer.cancel()
        self._hangups.clear()

    def _enable_auto_answer(self) -> None:
        for target in self.targets:
            device = self.switch.devices[target]
            numbers = device.members if isinstance(device, Pilot) else [target]
            for number in numbers:
                member = self.switch.devices.get(number)
                if isinstance(member, Extension):
                    member.auto_answer = self.ring_delay

    def _arm(self) -> None:
        if not self.running or (self.rate is None and not self._owed):
            return
        delay = 0.0 if self.rate is None else max(0.0, self._next_arrival - self.clock.seconds())
        self._timer = self.clock.callLater(delay, self._pump)

    def _pump(self) -> None:
        self._timer = None
        if self.rate is None:
            if self.congested is not None and self.congested():
                self._timer = self.clock.callLater(CONGESTION_RETRY, self._pump)
                return
            owed, self._owed = self._owed, 0
            now = self.clock.seconds()
            for _ in range(owed):
                if not self.running:
                    return
                self._place(now, self._idle_target())
            return
        else:
            now = self.clock.seconds()
            placed = 0
            while self.running and self._next_arrival <= now and placed < MAX_PER_PUMP:
                self._place(self._next_arrival)
                self._next_arrival += self.random.expovariate(self.rate)
                placed += 1
        self._arm()

    def kick(self) -> None:
        """Go on now if burst mode was waiting for a congested client."""
        if self.running and self.rate is None and self._owed:
            if self._timer is not None and self._timer.active():
                self._timer.cancel()
            self._timer = self.clock.callLater(0, self._pump)

    def _idle_target(self) -> str:
        """Round-robin over the targets, skipping extensions that are on a call."""
        targets, devices = self.targets, self.switch.devices
        count = len(targets)
        for _ in range(count):
            target = targets[self._cursor]
            self._cursor = (self._cursor + 1) % count
            if not devices[target].connections or isinstance(devices[target], Pilot):
                return target
        return targets[self.random.randrange(count)]

    def _place(self, when: float, target: str | None = None) -> None:
        stats = self.stats
        if self.max_calls is not None and stats.offered + stats.refused >= self.max_calls:
            self.running = False
            return
        prefix = self.caller_prefix
        if self.national_share and self.random.random() < self.national_share:
            prefix = self.national_prefix
        caller = f"{prefix}{self.random.randrange(10_000_000, 100_000_000)}"
        if target is None:
            target = self.targets[self.random.randrange(len(self.targets))]
        if stats.first_arrival is None:
            stats.first_arrival = when
        stats.last_arrival = when
        try:
            call_id = self.switch.inbound_call(caller, target)
        except SwitchError:
            stats.refused += 1
            return
        stats.offered += 1
        if call_id in self.switch.calls:
            self._callers[call_id] = caller
        elif self.rate is None:
            self._owe_call()

    def _owe_call(self) -> None:
        self._owed += 1
        if self._timer is None and self.running:
            self._timer = self.clock.callLater(0, self._pump)

    def _on_event(self, event: SwitchEvent) -> None:
        self.stats.events += 1
        if event.kind == ev.ESTABLISHED and event.call_id in self._callers:
            self.stats.answered += 1
            hold = self.random.expovariate(1.0 / self.holding) if (
                self.exponential and self.holding > 0) else self.holding
            self._hangups[event.call_id] = self.clock.callLater(hold, self._hang_up, event.call_id)
        elif event.kind == ev.CALL_CLEARED and event.call_id in self._callers:
            del self._callers[event.call_id]
            timer = self._hangups.pop(event.call_id, None)
            if timer is not None and timer.active():
                timer.cancel()
            self.stats.completed += 1
            if self.rate is None:
                self._owe_call()

    def _hang_up(self, call_id: str) -> None:
        self._hangups.pop(call_id, None)
        caller = self._callers.get(call_id)
        call = self.switch.calls.get(call_id)
        if caller is None or call is None or caller not in call.connections:
            return
        self.switch.clear_connection(call_id, caller)
