"""Live ACD statistics, folded from the engine's own output.

Stats reads only QueueLogEvent and AgentState records, the same ones the server persists, so
the figures can be rebuilt from the stored queue_log after a restart and a simulation measures
exactly what production would report. Counters are kept per queue, per agent, and per interval
(default 15 minutes) of each; agent time is split across interval boundaries.

Definitions (field-notes.md, KPIs):
- service_level   = answered within T / answered
- service_level_2 = (answered within T + abandoned within T) / (answered + abandoned)
- ASA = total wait of answered calls / answered; AHT = (talk + hold + after-call work) / handled
- occupancy = time handling calls (in call or wrap-up) / staffed time (logged in and available,
  or busy), per agent or over all agents.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from cti.acd.decisions import AgentState, QueueLogEvent

_BUSY = ("in_call", "wrap_up")


@dataclass(slots=True)
class QueueCounters:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_sl: int = 0
    queued: int = 0
    """Answered calls that waited at all (> 0 s): queued / answered is P(wait)."""
    abandoned_in_sl: int = 0
    wait_answered: float = 0.0
    longest_wait: float = 0.0
    handled: int = 0
    talk: float = 0.0
    hold: float = 0.0
    acw: float = 0.0
    timeouts: int = 0
    refused: int = 0
    overflowed: int = 0
    transferred: int = 0
    ring_no_answer: int = 0

    @property
    def asa(self) -> float | None:
        return self.wait_answered / self.answered if self.answered else None

    @property
    def aht(self) -> float | None:
        return (self.talk + self.hold + self.acw) / self.handled if self.handled else None

    @property
    def service_level(self) -> float | None:
        return self.answered_in_sl / self.answered if self.answered else None

    @property
    def service_level_2(self) -> float | None:
        total = self.answered + self.abandoned
        return (self.answered_in_sl + self.abandoned_in_sl) / total if total else None

    @property
    def p_wait(self) -> float | None:
        return self.queued / self.answered if self.answered else None

    @property
    def abandon_rate(self) -> float | None:
        total = self.answered + self.abandoned
        return self.abandoned / total if total else None

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("asa", "aht", "p_wait", "service_level", "service_level_2", "abandon_rate"):
            out[name] = getattr(self, name)
        return out


@dataclass(slots=True)
class AgentCounters:
    answered: int = 0
    talk: float = 0.0
    hold: float = 0.0
    acw: float = 0.0
    ring_no_answer: int = 0
    staffed: float = 0.0
    busy: float = 0.0
    not_ready: float = 0.0

    @property
    def occupancy(self) -> float | None:
        return self.busy / self.staffed if self.staffed > 0 else None

    @property
    def aht(self) -> float | None:
        return (self.talk + self.hold + self.acw) / self.answered if self.answered else None

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["occupancy"] = self.occupancy
        out["aht"] = self.aht
        return out


class Stats:
    """Counters fed by `observe(record)`; query with queue(), total(), agent(), occupancy(),
    intervals(queue) and agent_intervals(agent); prune(before) bounds the kept intervals."""

    def __init__(self, interval: float = 900.0, sl_seconds: float = 20.0) -> None:
        self.interval = interval
        self.default_sl = sl_seconds
        self.sl_seconds: dict[str, float] = {}
        self.queues: dict[str, QueueCounters] = {}
        self.agents: dict[str, AgentCounters] = {}
        self._queue_intervals: dict[str, dict[float, QueueCounters]] = {}
        self._agent_intervals: dict[str, dict[float, AgentCounters]] = {}
        self._agent_mode: dict[str, tuple[float, bool, bool, bool]] = {}
        self._queue_cache: dict[str, tuple[float, float, tuple[QueueCounters, QueueCounters]]] = {}
        self._agent_cache: dict[str, tuple[float, float, tuple[AgentCounters, AgentCounters]]] = {}
        self._handlers = {
            "ENTERQUEUE": self._enter, "CONNECT": self._connect, "ABANDON": self._abandon,
            "COMPLETEAGENT": self._complete, "COMPLETECALLER": self._complete,
            "TRANSFER": self._complete, "ACW": self._acw, "RINGNOANSWER": self._rona,
            "EXITWITHTIMEOUT": self._timeout, "OVERFLOW": self._overflow,
            "FULL": self._refused, "CLOSED": self._refused, "JOINEMPTY": self._refused,
            "EXITEMPTY": self._refused,
        }

    def set_service_level(self, queue: str, seconds: float) -> None:
        self.sl_seconds[queue] = seconds

    # Queries -----------------------------------------------------------------------------
    def queue(self, name: str) -> QueueCounters:
        return self.queues.get(name) or QueueCounters()

    def total(self) -> QueueCounters:
        """All queues together (a call overflowed between queues counts in each)."""
        out = QueueCounters()
        for counters in self.queues.values():
            _add(out, counters)
        return out

    def agent(self, agent_id: str, now: float | None = None) -> AgentCounters:
        """An agent's counters; with `now`, the state it is in still counts up to `now`."""
        counters = self.agents.get(agent_id) or AgentCounters()
        mode = self._agent_mode.get(agent_id)
        if now is None or mode is None or now <= mode[0]:
            return counters
        out = AgentCounters()
        _add(out, counters)
        _charge(out, now - mode[0], *mode[1:])
        return out

    def occupancy(self, now: float | None = None) -> float | None:
        busy = staffed = 0.0
        for agent_id in set(self.agents) | set(self._agent_mode):
            counters = self.agent(agent_id, now)
            busy += counters.busy
            staffed += counters.staffed
        return busy / staffed if staffed > 0 else None

    def intervals(self, queue: str) -> dict[float, QueueCounters]:
        """Interval start (Unix seconds) -> counters of `queue`, in time order."""
        return dict(sorted(self._queue_intervals.get(queue, {}).items()))

    def agent_intervals(self, agent_id: str) -> dict[float, AgentCounters]:
        """Interval start -> counters of one agent (time split at interval boundaries)."""
        return dict(sorted(self._agent_intervals.get(agent_id, {}).items()))

    def prune(self, before: float) -> None:
        """Forget intervals that ended before `before` (the server has stored them by then),
        so a long-running engine keeps a bounded window of intervals in memory."""
        for table in (*self._queue_intervals.values(), *self._agent_intervals.values()):
            for start in [t for t in table if t + self.interval <= before]:
                del table[start]
        self._queue_cache.clear()
        self._agent_cache.clear()

    # Folding -----------------------------------------------------------------------------
    def observe(self, record: QueueLogEvent | AgentState) -> None:
        """Fold one record in (records must come in time order, as the engine emits them)."""
        if type(record) is AgentState:
            self._agent_state(record)
            return
        handler = self._handlers.get(record.event)
        if handler is not None:
            handler(record)

    def _queue_counters(self, record: QueueLogEvent) -> tuple[QueueCounters, QueueCounters]:
        """(totals, current interval) of the record's queue; the pair is cached per queue
        while records stay inside one interval, which is nearly always."""
        name = record.queue or ""
        cached = self._queue_cache.get(name)
        if cached is not None and cached[0] <= record.time < cached[1]:
            return cached[2]
        total = self.queues.get(name)
        if total is None:
            total = self.queues[name] = QueueCounters()
        start = self._bucket(record.time)
        table = self._queue_intervals.setdefault(name, {})
        bucket = table.get(start)
        if bucket is None:
            bucket = table[start] = QueueCounters()
        self._queue_cache[name] = (start, start + self.interval, (total, bucket))
        return total, bucket

    def _agent_counters(self, agent_id: str, time: float) -> tuple[AgentCounters, AgentCounters]:
        cached = self._agent_cache.get(agent_id)
        if cached is not None and cached[0] <= time < cached[1]:
            return cached[2]
        total = self.agents.get(agent_id)
        if total is None:
            total = self.agents[agent_id] = AgentCounters()
        start = self._bucket(time)
        table = self._agent_intervals.setdefault(agent_id, {})
        bucket = table.get(start)
        if bucket is None:
            bucket = table[start] = AgentCounters()
        self._agent_cache[agent_id] = (start, start + self.interval, (total, bucket))
        return total, bucket

    def _bucket(self, time: float) -> float:
        return math.floor(time / self.interval) * self.interval

    def _enter(self, record: QueueLogEvent) -> None:
        for counters in self._queue_counters(record):
            counters.offered += 1

    def _connect(self, record: QueueLogEvent) -> None:
        wait = record.data["holdtime"]
        within = wait <= self.sl_seconds.get(record.queue or "", self.default_sl)
        for counters in self._queue_counters(record):
            counters.answered += 1
            counters.answered_in_sl += within
            counters.queued += wait > 0
            counters.wait_answered += wait
            counters.longest_wait = max(counters.longest_wait, wait)
        if record.agent_id is not None:
            for counters in self._agent_counters(record.agent_id, record.time):
                counters.answered += 1

    def _abandon(self, record: QueueLogEvent) -> None:
        wait = record.data["waittime"]
        within = wait <= self.sl_seconds.get(record.queue or "", self.default_sl)
        for counters in self._queue_counters(record):
            counters.abandoned += 1
            counters.abandoned_in_sl += within
            counters.longest_wait = max(counters.longest_wait, wait)

    def _complete(self, record: QueueLogEvent) -> None:
        talk, hold = record.data.get("talktime", 0.0), record.data.get("holdseconds", 0.0)
        for counters in self._queue_counters(record):
            counters.handled += 1
            counters.talk += talk
            counters.hold += hold
            counters.transferred += record.event == "TRANSFER"
        if record.agent_id is not None:
            for agent_counters in self._agent_counters(record.agent_id, record.time):
                agent_counters.talk += talk
                agent_counters.hold += hold

    def _acw(self, record: QueueLogEvent) -> None:
        seconds = record.data["seconds"]
        if record.queue is not None:
            for counters in self._queue_counters(record):
                counters.acw += seconds
        if record.agent_id is not None:
            for agent_counters in self._agent_counters(record.agent_id, record.time):
                agent_counters.acw += seconds

    def _rona(self, record: QueueLogEvent) -> None:
        for counters in self._queue_counters(record):
            counters.ring_no_answer += 1
        if record.agent_id is not None:
            for agent_counters in self._agent_counters(record.agent_id, record.time):
                agent_counters.ring_no_answer += 1

    def _timeout(self, record: QueueLogEvent) -> None:
        for counters in self._queue_counters(record):
            counters.timeouts += 1

    def _overflow(self, record: QueueLogEvent) -> None:
        for counters in self._queue_counters(record):
            counters.overflowed += 1

    def _refused(self, record: QueueLogEvent) -> None:
        for counters in self._queue_counters(record):
            counters.refused += 1

    def _agent_state(self, record: AgentState) -> None:
        mode = self._agent_mode.get(record.agent_id)
        if mode is not None:
            self._charge_span(record.agent_id, mode, record.time)
        logged_in = record.status != "logged_out"
        busy = logged_in and record.state in _BUSY
        staffed = logged_in and (record.status == "available" or record.state != "idle")
        not_ready = logged_in and not staffed
        self._agent_mode[record.agent_id] = (record.time, staffed, busy, not_ready)

    def _charge_span(self, agent_id: str, mode: tuple[float, bool, bool, bool], end: float
                     ) -> None:
        start, staffed, busy, not_ready = mode
        if not (staffed or busy or not_ready) or end <= start:
            return
        total, bucket = self._agent_counters(agent_id, start)
        _charge(total, end - start, staffed, busy, not_ready)
        while True:
            boundary = min(end, self._agent_cache[agent_id][1])
            _charge(bucket, boundary - start, staffed, busy, not_ready)
            if boundary >= end:
                return
            start = boundary
            bucket = self._agent_counters(agent_id, start)[1]


def _charge(counters: AgentCounters, seconds: float, staffed: bool, busy: bool,
            not_ready: bool) -> None:
    counters.staffed += seconds * staffed
    counters.busy += seconds * busy
    counters.not_ready += seconds * not_ready


def _add(out: QueueCounters | AgentCounters, other: QueueCounters | AgentCounters) -> None:
    for f in fields(other):
        value = getattr(other, f.name)
        if f.name == "longest_wait":
            out.longest_wait = max(out.longest_wait, value)  # type: ignore[union-attr]
        else:
            setattr(out, f.name, getattr(out, f.name) + value)
