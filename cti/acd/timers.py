"""Pending wake-ups of the engine, ordered by (time, creation order).

Most ACD timers have a fixed delay per kind and queue (ring timeout, wrap-up, maximum wait,
announcement period), so timers of one delay are created in time order. Each delay gets a lane
(a deque) where pushing and popping cost O(1) whatever the number of pending timers; a timer
that would break its lane's order (a re-armed penalty step) goes to a heap instead. The next
due timer is the earliest of the lane heads and the heap top. Cancelled timers stay where they
are and are skipped when they come up, so cancelling is O(1) too.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from typing import Any


class Timer:
    __slots__ = ("time", "seq", "kind", "target", "cancelled")

    def __init__(self, time: float, seq: int, kind: str, target: Any) -> None:
        self.time = time
        self.seq = seq
        self.kind = kind
        self.target = target
        self.cancelled = False


class Timers:
    def __init__(self) -> None:
        self._lanes: dict[tuple[str, float], deque[Timer]] = {}
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()

    def add(self, when: float, delay: float, kind: str, target: Any) -> Timer:
        timer = Timer(when, next(self._seq), kind, target)
        lane = self._lanes.get((kind, delay))
        if lane is None:
            lane = self._lanes[(kind, delay)] = deque()
        if not lane or lane[-1].time <= when:
            lane.append(timer)
        else:
            heapq.heappush(self._heap, (when, timer.seq, timer))
        return timer

    def _first(self) -> tuple[Timer | None, deque[Timer] | None]:
        """The earliest live timer and the lane holding it (None when it is on the heap)."""
        best: Timer | None = None
        best_lane: deque[Timer] | None = None
        for lane in self._lanes.values():
            while lane and lane[0].cancelled:
                lane.popleft()
            if lane:
                head = lane[0]
                if best is None or (head.time, head.seq) < (best.time, best.seq):
                    best, best_lane = head, lane
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
        if heap and (best is None or heap[0][:2] < (best.time, best.seq)):
            return heap[0][2], None
        return best, best_lane

    def next_time(self) -> float | None:
        timer, _ = self._first()
        return None if timer is None else timer.time

    def pop_due(self, time: float) -> Timer | None:
        """Remove and return the earliest live timer due at or before `time`, if any."""
        timer, lane = self._first()
        if timer is None or timer.time > time:
            return None
        if lane is None:
            heapq.heappop(self._heap)
        else:
            lane.popleft()
        return timer
