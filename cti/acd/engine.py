"""The ACD engine: a pure, event-driven state machine for queues, agents and callers.

Inputs are method calls that carry the time; each returns the decisions it produced (see
decisions.py), in order. The engine never reads a clock: when it needs to act later (ring
timeout, end of wrap-up, maximum wait, penalty relaxation, periodic announcement) it says so
through `next_wakeup()`, and the driver of the engine calls `tick(time)` then. Any input first
fires the timers due by its time, so a late tick loses nothing. The same code routes live calls
in the server and runs `cti simulate` in virtual time.

Invariant after every input: no waiting caller could be given to an idle available agent now.
That is what lets each decision look only at one caller's pools or one agent's queues.

Calls the engine does not know (an answer racing an abandon, a late hang-up) are ignored and
return no decisions, because switches race; admin mistakes and impossible agent requests
(unknown queue or agent, bad value, not logged in) raise AcdError before anything happens, so
the engine is exactly as it was (not even time has moved).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from random import Random
from typing import Any

from cti.acd.config import AcdError, MemberConfig, QueueConfig
from cti.acd.decisions import (
    AgentState,
    Announce,
    Decision,
    Exit,
    Offer,
    Overflow,
    QueueLogEvent,
    RingAll,
    StopRinging,
)
from cti.acd.state import (
    AVAILABLE,
    CONNECTED,
    IDLE,
    IN_CALL,
    LOGGED_OUT,
    NOT_READY,
    OFFERED,
    RINGING,
    WAITING,
    WRAP_UP,
    Agent,
    Caller,
    Member,
    QueueState,
)
from cti.acd.stats import Stats
from cti.acd.timers import Timer, Timers

_KEEP: Any = object()
_EXIT_EVENTS = {
    "full": "FULL", "timeout": "EXITWITHTIMEOUT", "closed": "CLOSED", "empty": "JOINEMPTY",
    "leave_empty": "EXITEMPTY", "queue_removed": "EXITEMPTY",
}
_AUTO_POSITION = 1 << 30
_RECORDS = (QueueLogEvent, AgentState)


class Engine:
    """Queues, agents and callers; see the module docstring for the input/decision contract.

    `seed` fixes the random strategies' choices. `stats` receives every AgentState and
    QueueLogEvent the engine emits (live counters); pass your own to change the interval.
    """

    def __init__(self, seed: int | None = 0, stats: Stats | None = None) -> None:
        self.now = -math.inf
        self.rng = Random(seed)
        self.stats = stats if stats is not None else Stats()
        self.agents: dict[str, Agent] = {}
        self.queues: dict[str, QueueState] = {}
        self.calls: dict[str, Caller] = {}
        self.dnis: dict[str, str] = {}
        self._non_acd: dict[str, Agent] = {}
        self._by_extension: dict[str, list[str]] = {}
        self._agents_by_skill: dict[str, set[str]] = {}
        self._queues_by_skill: dict[str, set[str]] = {}
        self._timers = Timers()
        self._caller_seq = itertools.count()
        self._out: list[Decision] = []
        self._handlers = {
            "ring": self._on_ring_timeout, "maxwait": self._on_max_wait,
            "relax": self._on_relax, "announce": self._on_announce, "wrapup": self._on_wrapup,
        }

    # ====================================================================================
    # Time
    # ====================================================================================
    def next_wakeup(self) -> float | None:
        """When the engine next needs `tick`, or None when nothing is pending."""
        return self._timers.next_time()

    def tick(self, time: float) -> list[Decision]:
        """Let time pass: fire every timer due by `time`."""
        self._advance(time)
        return self._flush()

    def _advance(self, time: float) -> None:
        # Inputs from several links may arrive slightly out of order; time never runs back.
        pop_due = self._timers.pop_due
        while (timer := pop_due(time)) is not None:
            timer.cancelled = True
            self.now = max(self.now, timer.time)
            self._handlers[timer.kind](timer.target)
        self.now = max(self.now, time)

    def _schedule(self, delay: float, kind: str, target: Any, start: float | None = None
                  ) -> Timer:
        """A timer `delay` seconds after `start` (default now)."""
        when = (self.now if start is None else start) + delay
        return self._timers.add(when, delay, kind, target)

    def _cancel(self, caller: Caller, kind: str) -> None:
        timer = caller.timers.pop(kind, None)
        if timer is not None:
            timer.cancelled = True

    def _emit(self, decision: Decision) -> None:
        self._out.append(decision)
        if type(decision) in _RECORDS:
            self.stats.observe(decision)

    def _log(self, queue: str | None, call_id: str | None, agent_id: str | None, event: str,
             **data: Any) -> None:
        self._emit(QueueLogEvent(self.now, queue, call_id, agent_id, event, data))

    def _flush(self) -> list[Decision]:
        out, self._out = self._out, []
        return out

    # ====================================================================================
    # Caller inputs
    # ====================================================================================
    def caller_arrived(
        self,
        call_id: str,
        time: float,
        queue: str | None = None,
        *,
        dnis: str | None = None,
        calling: str | None = None,
        priority: int = 0,
        data: dict[str, Any] | None = None,
    ) -> list[Decision]:
        """A call wants an agent of `queue`, or of the queue its dialled number maps to.

        `priority` is the caller's precedence (higher first, e.g. VIP = 10), fixed on arrival.
        """
        if call_id in self.calls:
            raise AcdError(f"call {call_id!r} is already in the ACD")
        self._advance(time)
        name = queue if queue is not None else self.dnis.get(dnis or "")
        if name is None or name not in self.queues:
            reason = "unknown_dnis" if queue is None else "unknown_queue"
            self._emit(Exit(call_id, name, reason))
            return self._flush()
        caller = Caller(call_id, priority, self.now, calling, dnis, dict(data or {}))
        self._join(caller, self.queues[name])
        return self._flush()

    def caller_abandoned(self, call_id: str, time: float) -> list[Decision]:
        """The caller hung up before being connected (or, if connected, ended the call)."""
        self._advance(time)
        caller = self.calls.get(call_id)
        if caller is None:
            return self._flush()
        if caller.state == CONNECTED:
            self._complete(caller, "COMPLETECALLER")
            return self._flush()
        queue = caller.queue
        position = queue.position(caller) if caller.state == WAITING else 1
        freed = self._detach(caller, "abandon")
        self._log(queue.name, call_id, None, "ABANDON", position=position,
                  origposition=caller.origpos, waittime=self.now - caller.arrival)
        self._free_all(freed)
        return self._flush()

    def agent_answered(self, call_id: str, agent_id: str, time: float) -> list[Decision]:
        """An offered agent answered; in ring-all the others stop ringing."""
        self._advance(time)
        caller = self.calls.get(call_id)
        agent = self.agents.get(agent_id)
        if caller is None or agent is None or caller.state != OFFERED or agent not in caller.ringing:
            return self._flush()
        queue = caller.queue
        self._cancel(caller, "ring")
        self._cancel(caller, "maxwait")
        others = [a for a in caller.ringing if a is not agent]
        caller.ringing = []
        caller.state = CONNECTED
        caller.agent = agent
        caller.answer_time = self.now
        queue.size -= 1
        if others:
            self._emit(StopRinging(call_id, _pairs(others), "answered_elsewhere"))
            for other in others:
                self._set(other, state=IDLE, call_id=None)
        self._set(agent, state=IN_CALL, call_id=call_id)
        agent.calls += 1
        member = agent.members.get(queue.name)
        if member is not None:
            member.calls += 1
            if queue.config.strategy == "round-robin":
                queue.pointer = member.order
        self._log(queue.name, call_id, agent_id, "CONNECT", holdtime=self.now - caller.arrival,
                  ringtime=self.now - caller.offer_time)
        self._free_all(others)
        return self._flush()

    def agent_rejected(self, call_id: str, agent_id: str, time: float) -> list[Decision]:
        """An offered agent declined; the agent goes not ready ("rejected"), the caller goes on."""
        self._advance(time)
        caller = self.calls.get(call_id)
        agent = self.agents.get(agent_id)
        if caller is None or agent is None or agent not in caller.ringing:
            return self._flush()
        self._log(caller.queue.name, call_id, agent_id, "REJECT",
                  ringtime=self.now - caller.offer_time)
        self._withdraw(agent, "rejected")
        self._pause(agent, "rejected")
        return self._flush()

    def call_held(self, call_id: str, time: float) -> list[Decision]:
        """The agent put the ACD call on hold (hold time counts in AHT)."""
        self._advance(time)
        caller = self.calls.get(call_id)
        if caller is not None and caller.state == CONNECTED and caller.hold_start is None:
            caller.hold_start = self.now
        return self._flush()

    def call_retrieved(self, call_id: str, time: float) -> list[Decision]:
        self._advance(time)
        caller = self.calls.get(call_id)
        if caller is not None and caller.hold_start is not None:
            caller.hold_total += self.now - caller.hold_start
            caller.hold_start = None
        return self._flush()

    def call_ended(self, call_id: str, time: float, by: str = "agent") -> list[Decision]:
        """A call the engine knows ended: an ACD call (`by` "agent" or "caller") or a non-ACD
        call of an agent. An ACD call not yet answered counts as abandoned."""
        self._advance(time)
        if call_id in self._non_acd:
            self._end_non_acd(call_id)
            return self._flush()
        caller = self.calls.get(call_id)
        if caller is None:
            return self._flush()
        if caller.state != CONNECTED:
            return self.caller_abandoned(call_id, self.now)
        self._complete(caller, "COMPLETECALLER" if by == "caller" else "COMPLETEAGENT")
        return self._flush()

    def call_transferred(self, call_id: str, time: float, target: str | None = None
                         ) -> list[Decision]:
        """The call left the agent (or the queue) by transfer; the agent starts wrap-up."""
        self._advance(time)
        if call_id in self._non_acd:
            self._end_non_acd(call_id)
            return self._flush()
        caller = self.calls.get(call_id)
        if caller is None:
            return self._flush()
        if caller.state == CONNECTED:
            self._complete(caller, "TRANSFER", target=target)
        else:
            freed = self._detach(caller, "transferred")
            self._log(caller.queue.name, call_id, None, "TRANSFER", target=target,
                      holdtime=self.now - caller.arrival, talktime=0.0)
            self._free_all(freed)
        return self._flush()

    # ====================================================================================
    # Agent inputs
    # ====================================================================================
    def agent_login(
        self,
        agent_id: str,
        time: float,
        extension: str | None = None,
        *,
        skills: dict[str, int] | None = None,
        ready: bool = True,
        reason: str | None = None,
    ) -> list[Decision]:
        """Who (agent_id), what (skills, from the database) and where (extension).

        The agent starts available, or not ready with `reason` when `ready` is False. Logging
        in again while logged in moves the agent to the new extension / skills.
        """
        _check_skills(skills or {})
        self._advance(time)
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self._new_agent(agent_id, extension, skills or {})
        elif skills is not None:
            self._change_skills(agent, skills)
        if extension is not None:
            self._move(agent, extension)
        if agent.status != LOGGED_OUT:
            return self._flush()
        agent.login_time = self.now
        self._log(None, None, agent_id, "AGENTLOGIN", extension=agent.extension)
        status = AVAILABLE if ready else NOT_READY
        self._set(agent, status=status, reason=None if ready else (reason or "login"))
        self._free_all([agent])
        return self._flush()

    def agent_logout(self, agent_id: str, time: float) -> list[Decision]:
        """The agent leaves; a call ringing there goes back to the head of its queue."""
        agent = self._agent(agent_id)
        self._advance(time)
        if agent.status == LOGGED_OUT:
            return self._flush()
        self._unpool(agent)
        if agent.state == RINGING:
            self._withdraw(agent, "logout")
        if agent.state == WRAP_UP:
            self._end_wrapup(agent, free=False)
        self._log(None, None, agent_id, "AGENTLOGOFF",
                  logintime=self.now - (agent.login_time or self.now))
        self._set(agent, status=LOGGED_OUT, reason=None)
        self._check_empty(agent)
        return self._flush()

    def agent_not_ready(self, agent_id: str, time: float, reason: str | None = None
                        ) -> list[Decision]:
        """The agent takes a break (reason code); a call already ringing keeps ringing."""
        agent = self._logged_in(agent_id)
        self._advance(time)
        self._pause(agent, reason)
        return self._flush()

    def agent_ready(self, agent_id: str, time: float) -> list[Decision]:
        agent = self._logged_in(agent_id)
        self._advance(time)
        if agent.status == NOT_READY:
            self._log(None, None, agent_id, "UNPAUSE")
            self._set(agent, status=AVAILABLE, reason=None)
            self._free_all([agent])
        return self._flush()

    def wrapup_done(self, agent_id: str, time: float) -> list[Decision]:
        """The agent ends after-call work (manual wrap-up, or earlier than the timer)."""
        agent = self._agent(agent_id)
        self._advance(time)
        if agent.state == WRAP_UP:
            self._end_wrapup(agent)
        return self._flush()

    def agent_busy(self, agent_id: str, call_id: str, time: float) -> list[Decision]:
        """The agent is on a call the ACD did not deliver (outbound, internal, direct)."""
        agent = self._agent(agent_id)
        self._advance(time)
        if agent.state == RINGING:
            self._withdraw(agent, "busy")
        if agent.state == WRAP_UP:
            self._end_wrapup(agent, free=False)
        self._unpool(agent)
        self._non_acd[call_id] = agent
        if agent.state == IDLE:
            self._set(agent, state=IN_CALL, call_id=call_id, acd=False)
        return self._flush()

    # ====================================================================================
    # Administration (live, while callers wait)
    # ====================================================================================
    def add_queue(self, config: QueueConfig, time: float) -> list[Decision]:
        if config.name in self.queues:
            raise AcdError(f"queue {config.name!r} already exists")
        self._check_targets(config)
        self._advance(time)
        queue = self.queues[config.name] = QueueState(config)
        self.stats.set_service_level(config.name, config.sl_seconds)
        for skill in config.skills:
            self._queues_by_skill.setdefault(skill, set()).add(config.name)
        self._remap(self._skill_candidates(config), [queue])
        self._log(config.name, None, None, "ADMIN", change="add_queue")
        return self._flush()

    def update_queue(self, name: str, time: float, /, **changes: Any) -> list[Decision]:
        """Change any QueueConfig field(s) live, e.g. strategy="hunt" or penalty_steps=...;
        waiting callers keep their place and are matched again under the new rules."""
        queue = self._queue(name)
        if "name" in changes and changes["name"] != name:
            raise AcdError("a queue cannot be renamed; add a new one and remove this one")
        try:
            config = replace(queue.config, **changes)
        except TypeError as exc:
            raise AcdError(f"bad queue setting: {exc}") from None
        self._check_targets(config)
        self._advance(time)
        old = queue.config
        for skill in old.skills:
            self._queues_by_skill.get(skill, set()).discard(name)
        for skill in config.skills:
            self._queues_by_skill.setdefault(skill, set()).add(name)
        candidates = self._skill_candidates(config) | {m.agent for m in queue.members.values()}
        queue.config = config
        self.stats.set_service_level(name, config.sl_seconds)
        if config.strategy != old.strategy:
            queue.rebuild_pools()
            queue.pointer = -1
        if config.skills != old.skills:
            self._remap(candidates, [queue])
        self._log(name, None, None, "ADMIN", change="update_queue", fields=sorted(changes))
        self._rematch(queue)
        self._check_queue_empty(queue)
        return self._flush()

    def set_strategy(self, name: str, strategy: str, time: float) -> list[Decision]:
        return self.update_queue(name, time, strategy=strategy)

    def remove_queue(self, name: str, time: float) -> list[Decision]:
        """Remove a queue: its waiting callers exit ("queue_removed"); calls in progress go on."""
        queue = self._queue(name)
        self._advance(time)
        freed: list[Agent] = []
        for caller in [c for c in self.calls.values() if c.queue is queue and c.state != CONNECTED]:
            position = queue.position(caller) if caller.state == WAITING else 1
            waited = self.now - caller.arrival
            freed += self._detach(caller, "queue_removed")
            self._refuse(caller, queue, "queue_removed", position=position, waittime=waited)
        members = [m.agent for m in queue.members.values()] + freed
        for agent in members:
            self._unpool(agent)
        for member in list(queue.members.values()):
            self._drop_member(member)
        for skill in queue.config.skills:
            self._queues_by_skill.get(skill, set()).discard(name)
        for agent in queue.explicit:
            if agent in self.agents:
                self.agents[agent].explicit_in.discard(name)
        del self.queues[name]
        for number in [d for d, q in self.dnis.items() if q == name]:
            del self.dnis[number]
        self._free_all(members)
        self._log(name, None, None, "ADMIN", change="remove_queue")
        return self._flush()

    def add_agent(self, agent_id: str, time: float, extension: str | None = None,
                  skills: dict[str, int] | None = None) -> list[Decision]:
        """Declare an agent (logged out) so memberships can be set before the first login."""
        if agent_id in self.agents:
            raise AcdError(f"agent {agent_id!r} already exists")
        _check_skills(skills or {})
        self._advance(time)
        self._new_agent(agent_id, extension, dict(skills or {}))
        return self._flush()

    def update_agent(self, agent_id: str, time: float, *, extension: str | None = _KEEP,
                     skills: dict[str, int] | None = _KEEP) -> list[Decision]:
        agent = self._agent(agent_id)
        if skills is not _KEEP:
            _check_skills(skills or {})
        self._advance(time)
        if extension is not _KEEP:
            self._move(agent, extension)
        if skills is not _KEEP:
            self._change_skills(agent, dict(skills or {}))
        return self._flush()

    def set_skill(self, agent_id: str, skill: str, level: int, time: float) -> list[Decision]:
        agent = self._agent(agent_id)
        return self.update_agent(agent_id, time, skills={**agent.skills, skill: int(level)})

    def remove_skill(self, agent_id: str, skill: str, time: float) -> list[Decision]:
        agent = self._agent(agent_id)
        skills = {k: v for k, v in agent.skills.items() if k != skill}
        return self.update_agent(agent_id, time, skills=skills)

    def remove_agent(self, agent_id: str, time: float) -> list[Decision]:
        """Log the agent out and forget it; a call in progress finishes without wrap-up."""
        self.agent_logout(agent_id, time)
        agent = self.agents.pop(agent_id)
        self._move(agent, None)
        for member in list(agent.members.values()):
            self._drop_member(member)
        for name in agent.explicit_in:
            self.queues[name].explicit.pop(agent_id, None)
        for skill in agent.skills:
            self._agents_by_skill.get(skill, set()).discard(agent_id)
        self._log(None, None, agent_id, "ADMIN", change="remove_agent")
        return self._flush()

    def add_member(self, queue: str, agent_id: str, time: float, penalty: int = 0,
                   weight: float = 1.0, position: int | None = None) -> list[Decision]:
        """Make an agent an explicit member (it must still meet the queue's skills)."""
        state, agent = self._queue(queue), self._agent(agent_id)
        config = MemberConfig(penalty, weight, position)
        self._advance(time)
        state.explicit[agent_id] = config
        agent.explicit_in.add(queue)
        old = agent.members.get(queue)
        if old is not None and position is not None:
            self._unpool(agent)
            self._drop_member(old)
        self._remap([agent], [state])
        self._log(queue, None, agent_id, "ADMIN", change="member", penalty=penalty)
        return self._flush()

    update_member = add_member

    def remove_member(self, queue: str, agent_id: str, time: float) -> list[Decision]:
        state, agent = self._queue(queue), self._agent(agent_id)
        if agent_id not in state.explicit:
            raise AcdError(f"agent {agent_id!r} is not an explicit member of {queue!r}")
        self._advance(time)
        del state.explicit[agent_id]
        agent.explicit_in.discard(queue)
        self._remap([agent], [state])
        self._log(queue, None, agent_id, "ADMIN", change="remove_member")
        self._check_queue_empty(state)
        return self._flush()

    def map_dnis(self, dnis: str, queue: str) -> None:
        """Calls to `dnis` join `queue` (whose config names the tenant)."""
        self._queue(queue)
        self.dnis[dnis] = queue

    def unmap_dnis(self, dnis: str) -> None:
        self.dnis.pop(dnis, None)

    # ====================================================================================
    # Views (for the API and wallboards)
    # ====================================================================================
    def agent_view(self, agent_id: str) -> dict[str, Any]:
        return self._agent(agent_id).view()

    def queue_view(self, name: str) -> dict[str, Any]:
        return self._queue(name).view(self.now)

    def agent_at(self, extension: str | None) -> str | None:
        """The agent at a device: the one logged in there, else the last one placed there."""
        ids = self._by_extension.get(extension or "")
        if not ids:
            return None
        for agent_id in reversed(ids):
            if self.agents[agent_id].status != LOGGED_OUT:
                return agent_id
        return ids[-1]

    def tenant_of(self, queue: str) -> str | None:
        return self._queue(queue).config.tenant

    # ====================================================================================
    # Matching
    # ====================================================================================
    def _join(self, caller: Caller, queue: QueueState) -> None:
        config = queue.config
        caller.visited.add(queue.name)
        if config.schedule is not None and not config.schedule.is_open(self.now):
            self._refuse(caller, queue, "closed")
            return
        if not config.join_empty and queue.empty():
            self._refuse(caller, queue, "empty")
            return
        if config.max_len is not None and queue.size >= config.max_len:
            self._refuse(caller, queue, "full")
            return
        caller.queue = queue
        caller.arrival = self.now
        caller.seq = next(self._caller_seq)
        caller.origpos = queue.ahead_of_tail(caller.priority)
        caller.timed_out = False
        caller.allowed, caller.step = config.relaxation(0.0)
        queue.size += 1
        self.calls[caller.call_id] = caller
        self._log(queue.name, caller.call_id, None, "ENTERQUEUE", callerid=caller.calling,
                  priority=caller.priority, dnis=caller.dnis)
        queue.push(caller)
        if config.max_wait is not None:
            caller.timers["maxwait"] = self._schedule(config.max_wait, "maxwait", caller)
        self._try_caller(caller)
        if caller.state == WAITING:
            self._arm(caller)
            if config.announce_position or config.music:
                self._emit(Announce(
                    caller.call_id, queue.name, "enter", caller.origpos,
                    queue.aht * caller.origpos / max(1, queue.available), config.music,
                ))

    def _arm(self, caller: Caller) -> None:
        """Timers of a waiting caller: next penalty relaxation and periodic announcement."""
        config = caller.queue.config
        if caller.step < len(config.penalty_steps) and "relax" not in caller.timers:
            after = config.penalty_steps[caller.step][0]
            caller.timers["relax"] = self._schedule(after, "relax", caller, caller.arrival)
        if config.announce_every is not None and "announce" not in caller.timers:
            caller.timers["announce"] = self._schedule(config.announce_every, "announce", caller)

    def _catch_up(self, caller: Caller) -> None:
        """Apply penalty steps that came due while the caller was ringing (timers paused)."""
        steps = caller.queue.config.penalty_steps
        while caller.step < len(steps) and caller.arrival + steps[caller.step][0] <= self.now:
            caller.allowed = max(caller.allowed, steps[caller.step][1])
            caller.step += 1

    def _try_caller(self, caller: Caller) -> None:
        """Offer a waiting caller to the best idle agent its wait allows, if there is one."""
        queue = caller.queue
        allowed = caller.allowed
        if queue.config.strategy == "ring-all":
            agents = [
                agent
                for penalty in queue.penalties if penalty <= allowed
                for agent in queue.pools[penalty].agents()
            ]
            if agents:
                self._offer(caller, agents)
            return
        for penalty in queue.penalties:
            if penalty > allowed:
                return
            agent = queue.pools[penalty].best(queue.pointer, self.rng)
            if agent is not None:
                self._offer(caller, [agent])
                return

    def _best_caller_for(self, agent: Agent) -> Caller | None:
        """The caller a free agent should take: highest queue weight, then priority, then the
        longest waiting, among callers whose wait allows this agent's penalty."""
        best, best_key = None, None
        for member in agent.members.values():
            queue = member.queue
            if not queue.n_waiting:
                continue
            weight = queue.config.weight
            for level in queue.levels:
                caller = queue.head(level)
                if caller is None:
                    continue
                if member.penalty <= caller.allowed:
                    key = (-weight, -level, caller.arrival, caller.seq)
                    if best_key is None or key < best_key:
                        best, best_key = caller, key
                    break
        return best

    def _offer(self, caller: Caller, agents: list[Agent]) -> None:
        queue = caller.queue
        config = queue.config
        queue.pull(caller)
        self._cancel(caller, "relax")
        self._cancel(caller, "announce")
        caller.state = OFFERED
        caller.ringing = agents
        caller.offer_time = self.now
        for agent in agents:
            self._unpool(agent)
            self._set(agent, state=RINGING, call_id=caller.call_id)
        if config.strategy == "hunt":
            queue.pointer = agents[0].members[queue.name].order
        if config.ring_timeout is not None:
            caller.timers["ring"] = self._schedule(config.ring_timeout, "ring", caller)
        if len(agents) == 1:
            agent = agents[0]
            self._emit(Offer(caller.call_id, agent.agent_id, agent.extension, queue.name,
                             config.ring_timeout))
        else:
            self._emit(RingAll(caller.call_id, _pairs(agents), queue.name, config.ring_timeout))

    def _free_all(self, agents: list[Agent]) -> None:
        """Agents that may just have become routable take a waiting caller or join their pools."""
        for agent in agents:
            if not agent.routable or agent.pooled or agent.agent_id not in self.agents:
                continue
            caller = self._best_caller_for(agent)
            if caller is not None:
                self._offer(caller, [agent])
            else:
                for member in agent.members.values():
                    member.queue.pool_add(agent, member)
                agent.pooled = True

    def _unpool(self, agent: Agent) -> None:
        if agent.pooled:
            for member in agent.members.values():
                member.queue.pool_discard(agent, member)
            agent.pooled = False

    def _rematch(self, queue: QueueState) -> None:
        """Match waiting callers again after a rule change (their penalty steps restart from
        the new rules at their current wait)."""
        for caller in queue.in_order():
            self._cancel(caller, "relax")
            caller.allowed, caller.step = queue.config.relaxation(self.now - caller.arrival)
            self._arm(caller)
        for caller in queue.in_order():
            if not queue.penalties or not any(len(p) for p in queue.pools.values()):
                return
            if caller.state == WAITING:
                self._try_caller(caller)

    # ====================================================================================
    # Leaving the queue
    # ====================================================================================
    def _requeue(self, caller: Caller) -> None:
        """Back to the head of its line (ring-no-answer, reject, agent logout)."""
        if caller.timed_out:
            self._exit(caller, "timeout")
            return
        caller.queue.push(caller, head=True)
        self._catch_up(caller)
        self._try_caller(caller)
        if caller.state == WAITING:
            self._arm(caller)

    def _detach(self, caller: Caller, why: str) -> list[Agent]:
        """Take a caller out of its queue; returns agents that were ringing for it."""
        queue = caller.queue
        for timer in caller.timers.values():
            timer.cancelled = True
        caller.timers.clear()
        freed: list[Agent] = []
        if caller.state == WAITING:
            queue.pull(caller)
        elif caller.state == OFFERED:
            freed = caller.ringing
            caller.ringing = []
            self._emit(StopRinging(caller.call_id, _pairs(freed), why))
            for agent in freed:
                self._set(agent, state=IDLE, call_id=None)
        caller.state = None
        queue.size -= 1
        self.calls.pop(caller.call_id, None)
        return freed

    def _exit(self, caller: Caller, reason: str) -> None:
        queue = caller.queue
        position = queue.position(caller) if caller.state == WAITING else 1
        waited = self.now - caller.arrival
        freed = self._detach(caller, reason)
        self._refuse(caller, queue, reason, position=position, waittime=waited)
        self._free_all(freed)

    def _refuse(self, caller: Caller, queue: QueueState, reason: str, **data: Any) -> None:
        """Overflow to the queue's target for `reason`, or exit."""
        target = queue.config.overflow.get("empty" if reason == "leave_empty" else reason)
        if target is None or (target.kind == "queue" and target.value in caller.visited):
            self._log(queue.name, caller.call_id, None, _EXIT_EVENTS.get(reason, "EXIT"),
                      origposition=caller.origpos, **data)
            self._emit(Exit(caller.call_id, queue.name, reason))
            return
        self._log(queue.name, caller.call_id, None, "OVERFLOW", reason=reason,
                  target=f"{target.kind}:{target.value}", **data)
        self._emit(Overflow(caller.call_id, queue.name, reason, target))
        if target.kind == "queue":
            if target.value in self.queues:
                self._join(caller, self.queues[target.value])
            else:
                self._emit(Exit(caller.call_id, target.value, "unknown_queue"))

    def _check_empty(self, agent: Agent) -> None:
        for member in list(agent.members.values()):
            self._check_queue_empty(member.queue)

    def _check_queue_empty(self, queue: QueueState) -> None:
        if queue.config.leave_when_empty and queue.n_waiting and queue.empty():
            for caller in queue.in_order():
                self._exit(caller, "leave_empty")

    # ====================================================================================
    # Timers
    # ====================================================================================
    def _on_ring_timeout(self, caller: Caller) -> None:
        """Ring-no-answer: the caller goes back to the head; the agents go not ready (rona)."""
        caller.timers.pop("ring", None)
        agents, caller.ringing = caller.ringing, []
        queue = caller.queue
        self._emit(StopRinging(caller.call_id, _pairs(agents), "timeout"))
        for agent in agents:
            self._log(queue.name, caller.call_id, agent.agent_id, "RINGNOANSWER",
                      ringtime=self.now - caller.offer_time)
            self._set(agent, state=IDLE, call_id=None)
        caller.state = None
        self._requeue(caller)
        for agent in agents:
            if queue.config.autopause and agent.status == AVAILABLE:
                self._pause(agent, "rona")
        self._free_all(agents)

    def _on_max_wait(self, caller: Caller) -> None:
        caller.timers.pop("maxwait", None)
        if caller.state == WAITING:
            self._exit(caller, "timeout")
        elif caller.state == OFFERED:
            caller.timed_out = True

    def _on_relax(self, caller: Caller) -> None:
        caller.timers.pop("relax", None)
        steps = caller.queue.config.penalty_steps
        if caller.step < len(steps):
            reached = steps[caller.step][0]
            while caller.step < len(steps) and steps[caller.step][0] <= reached:
                caller.allowed = max(caller.allowed, steps[caller.step][1])
                caller.step += 1
        if caller.state == WAITING:
            self._try_caller(caller)
            if caller.state == WAITING:
                self._arm(caller)

    def _on_announce(self, caller: Caller) -> None:
        caller.timers.pop("announce", None)
        if caller.state != WAITING:
            return
        queue = caller.queue
        position = queue.position(caller)
        self._emit(Announce(caller.call_id, queue.name, "position", position,
                            queue.aht * position / max(1, queue.available), queue.config.music))
        self._arm(caller)

    def _on_wrapup(self, agent: Agent) -> None:
        agent.wrap_timer = None
        if agent.state == WRAP_UP:
            self._end_wrapup(agent)

    # ====================================================================================
    # Agent bookkeeping
    # ====================================================================================
    def _complete(self, caller: Caller, event: str, **extra: Any) -> None:
        """An answered ACD call is over: log it, count talk time, start wrap-up."""
        if caller.hold_start is not None:
            caller.hold_total += self.now - caller.hold_start
            caller.hold_start = None
        agent, queue = caller.agent, caller.queue
        talk = max(0.0, self.now - caller.answer_time - caller.hold_total)
        self._log(queue.name, caller.call_id, agent.agent_id, event, **extra,
                  holdtime=caller.answer_time - caller.arrival, talktime=talk,
                  holdseconds=caller.hold_total)
        queue.aht += 0.05 * (talk + caller.hold_total - queue.aht)
        agent.talk_time += talk
        self.calls.pop(caller.call_id, None)
        caller.state = None
        if agent.call_id != caller.call_id:
            return
        wrap = queue.config.wrapup_seconds
        if agent.status == LOGGED_OUT or agent.agent_id not in self.agents or wrap == 0:
            self._set(agent, state=IDLE, call_id=None)
            self._free_all([agent])
            return
        agent.wrap_start, agent.wrap_queue, agent.wrap_call = self.now, queue.name, caller.call_id
        self._set(agent, state=WRAP_UP, call_id=None)
        if wrap is not None:
            agent.wrap_timer = self._schedule(wrap, "wrapup", agent)

    def _end_non_acd(self, call_id: str) -> None:
        agent = self._non_acd.pop(call_id)
        if agent.state == IN_CALL and agent.call_id == call_id:
            self._set(agent, state=IDLE, call_id=None)
            self._free_all([agent])

    def _end_wrapup(self, agent: Agent, free: bool = True) -> None:
        if agent.wrap_timer is not None:
            agent.wrap_timer.cancelled = True
            agent.wrap_timer = None
        self._log(agent.wrap_queue, agent.wrap_call, agent.agent_id, "ACW",
                  seconds=self.now - agent.wrap_start)
        self._set(agent, state=IDLE, call_id=None)
        if free:
            self._free_all([agent])

    def _withdraw(self, agent: Agent, why: str) -> None:
        """Stop ringing one agent; when nobody else rings, the caller goes back to the head."""
        caller = self.calls.get(agent.call_id or "")
        self._set(agent, state=IDLE, call_id=None)
        if caller is None or agent not in caller.ringing:
            return
        caller.ringing = [a for a in caller.ringing if a is not agent]
        self._emit(StopRinging(caller.call_id, _pairs([agent]), why))
        if not caller.ringing:
            self._cancel(caller, "ring")
            caller.state = None
            self._requeue(caller)

    def _pause(self, agent: Agent, reason: str | None) -> None:
        self._unpool(agent)
        self._log(None, None, agent.agent_id, "PAUSE", reason=reason)
        self._set(agent, status=NOT_READY, reason=reason)
        self._check_empty(agent)

    def _set(self, agent: Agent, *, status: str | None = None, state: str | None = None,
             reason: str | None = _KEEP, call_id: str | None = _KEEP, acd: bool = True) -> None:
        """Change status and/or state, keep per-queue counts, report the new AgentState."""
        was_in, was_av = agent.status != LOGGED_OUT, agent.status == AVAILABLE
        if status is not None:
            agent.status = status
        if reason is not _KEEP:
            agent.reason = reason
        if state is not None:
            if state == IDLE and agent.state != IDLE:
                agent.idle_since = self.now
            agent.state = state
            agent.acd = acd
        if call_id is not _KEEP:
            agent.call_id = call_id
        is_in, is_av = agent.status != LOGGED_OUT, agent.status == AVAILABLE
        if (was_in, was_av) != (is_in, is_av):
            for member in agent.members.values():
                member.queue.logged_in += is_in - was_in
                member.queue.available += is_av - was_av
        self._emit(AgentState(self.now, agent.agent_id, agent.status, agent.state, agent.reason,
                              agent.call_id, agent.acd))

    def _move(self, agent: Agent, extension: str | None) -> None:
        if agent.extension is not None:
            ids = self._by_extension.get(agent.extension, [])
            if agent.agent_id in ids:
                ids.remove(agent.agent_id)
        agent.extension = extension
        if extension is not None:
            self._by_extension.setdefault(extension, []).append(agent.agent_id)

    def _new_agent(self, agent_id: str, extension: str | None, skills: dict[str, int]) -> Agent:
        agent = self.agents[agent_id] = Agent(agent_id, None, {})
        self._move(agent, extension)
        agent.idle_since = self.now
        self._change_skills(agent, skills)
        return agent

    def _change_skills(self, agent: Agent, skills: dict[str, int]) -> None:
        _check_skills(skills)
        names = set(agent.skills) | set(skills)
        for skill in agent.skills:
            self._agents_by_skill.get(skill, set()).discard(agent.agent_id)
        for skill in skills:
            self._agents_by_skill.setdefault(skill, set()).add(agent.agent_id)
        agent.skills = dict(skills)
        queues = {q for s in names for q in self._queues_by_skill.get(s, ())} | agent.explicit_in
        self._remap([agent], [self.queues[q] for q in sorted(queues)])

    def _skill_candidates(self, config: QueueConfig) -> set[Agent]:
        if not config.skills:
            return set()
        ids = min((self._agents_by_skill.get(s, set()) for s in config.skills), key=len)
        return {self.agents[i] for i in ids}

    def _remap(self, agents: Any, queues: list[QueueState]) -> None:
        """Recompute the memberships of `agents` in `queues` after a skill/member/queue change."""
        for agent in sorted(agents, key=lambda a: a.agent_id):
            was_pooled = agent.pooled
            self._unpool(agent)
            for queue in queues:
                self._refresh_member(agent, queue)
            if was_pooled or agent.routable:
                self._free_all([agent])

    def _refresh_member(self, agent: Agent, queue: QueueState) -> None:
        explicit = queue.explicit.get(agent.agent_id)
        penalty = queue.config.penalty_for(agent.skills, explicit)
        member = agent.members.get(queue.name)
        if penalty is None:
            if member is not None:
                self._drop_member(member)
            return
        weight = explicit.weight if explicit is not None else 1.0
        if member is None:
            position = explicit.position if explicit and explicit.position is not None else None
            order = (_AUTO_POSITION if position is None else position) * (1 << 20)
            member = Member(queue, agent, penalty, weight, order + queue.next_order)
            queue.next_order += 1
            agent.members[queue.name] = member
            queue.members[agent.agent_id] = member
            queue.logged_in += agent.status != LOGGED_OUT
            queue.available += agent.status == AVAILABLE
        member.penalty, member.weight = penalty, weight

    def _drop_member(self, member: Member) -> None:
        agent, queue = member.agent, member.queue
        agent.members.pop(queue.name, None)
        queue.members.pop(agent.agent_id, None)
        queue.logged_in -= agent.status != LOGGED_OUT
        queue.available -= agent.status == AVAILABLE

    def _check_targets(self, config: QueueConfig) -> None:
        for target in config.overflow.values():
            if target.kind == "queue" and target.value == config.name:
                raise AcdError(f"queue {config.name!r} cannot overflow to itself")

    def _logged_in(self, agent_id: str) -> Agent:
        agent = self._agent(agent_id)
        if agent.status == LOGGED_OUT:
            raise AcdError(f"agent {agent_id!r} is not logged in")
        return agent

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise AcdError(f"unknown agent {agent_id!r}")
        return agent

    def _queue(self, name: str) -> QueueState:
        queue = self.queues.get(name)
        if queue is None:
            raise AcdError(f"unknown queue {name!r}")
        return queue


def _check_skills(skills: dict[str, int]) -> None:
    if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in skills.values()):
        raise AcdError("skill levels must be integers >= 0")


def _pairs(agents: list[Agent]) -> tuple[tuple[str, str | None], ...]:
    return tuple((agent.agent_id, agent.extension) for agent in agents)
