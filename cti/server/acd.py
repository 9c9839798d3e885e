"""The ACD engine run live: inputs from switch events and the API, decisions executed.

cti.acd.Engine is pure; this runner owns one engine per tenant, built from the tenant's queues,
members and numbers in db/, feeds it (a call queued at a queue number arrives; an offered agent
answers; calls end; agents log on, pause, resume), executes what it decides (deflect the queued
call to the chosen agent's extension, pull it back on ring timeout, clear refused callers,
write queue-log rows) and keeps the engine's timers on the reactor.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from twisted.internet import defer
from twisted.logger import Logger

from cti import events as ev
from cti.acd.config import AcdError, QueueConfig
from cti.acd.decisions import (
    AgentState,
    Exit,
    Offer,
    Overflow,
    QueueLogEvent,
    RingAll,
    StopRinging,
)
from cti.acd.engine import Engine
from db import agents as db_agents
from db import calls as db_calls
from db import queues as db_queues

log = Logger(namespace="cti.server.acd")


class TenantAcd:
    """One tenant's engine and what the runner remembers about its calls."""

    def __init__(self, tenant: str, record: Any) -> None:
        self.tenant = tenant
        self.record = record
        self.engine = Engine(seed=None)
        self.queue_devices: dict[str, str] = {}
        """call ID -> the queue device the call waits at (where a deflect starts from)."""
        self.offered: dict[str, tuple[str, str]] = {}
        """call ID -> (agent ID, extension) the call is ringing at."""
        self.direct: dict[str, str] = {}
        """call ID -> agent ID, for calls the ACD did not deliver (the agent is busy on them)."""
        self.queue_ids: dict[str, int] = {}
        self.agent_ids: dict[str, int] = {}


class AcdRunner:
    def __init__(self, reactor: Any, database: Any, links: Any, calls: Any,
                 on_agent_state: Callable[[str, AgentState], None],
                 on_queue_change: Callable[[str, str], None]) -> None:
        self.reactor = reactor
        self.db = database
        self.links = links
        self.calls = calls
        self.on_agent_state = on_agent_state
        self.on_queue_change = on_queue_change
        self.tenants: dict[str, TenantAcd] = {}
        self._loading: dict[str, defer.Deferred[TenantAcd]] = {}
        self._wakeups: dict[str, Any] = {}

    # -- set-up -------------------------------------------------------------------------------

    def tenant(self, tenant_record: Any) -> defer.Deferred[TenantAcd]:
        """The tenant's engine, loaded from the database on first use (once)."""
        code = tenant_record.code
        if code in self.tenants:
            return defer.succeed(self.tenants[code])
        loading = self._loading.get(code)
        if loading is None:
            loading = self._loading[code] = self.db.run(self._load, tenant_record)

            def loaded(acd: TenantAcd) -> TenantAcd:
                self.tenants[code] = acd
                del self._loading[code]
                return acd

            def failed(failure: Any) -> Any:
                del self._loading[code]
                return failure

            loading.addCallbacks(loaded, failed)
        result: defer.Deferred[TenantAcd] = defer.Deferred()

        def relay(outcome: Any) -> Any:
            if isinstance(outcome, TenantAcd):
                result.callback(outcome)
            else:
                result.errback(outcome)
            return outcome

        loading.addBoth(relay)
        return result

    def _load(self, conn: Any, tenant_record: Any) -> TenantAcd:
        acd = TenantAcd(tenant_record.code, tenant_record)
        engine = acd.engine
        now = self.reactor.seconds()
        for agent in db_agents.list_agents(conn, tenant_record):
            engine.add_agent(agent.number, now, agent.extension, agent.skill_levels())
            acd.agent_ids[agent.number] = agent.id
        for queue in db_queues.list_queues(conn, tenant_record):
            acd.queue_ids[queue.name] = queue.id
            engine.add_queue(QueueConfig(
                name=queue.name, strategy=queue.strategy, tenant=tenant_record.code,
                skills={s.skill: s.min_level for s in queue.skills},
                ring_timeout=float(queue.ring_timeout_seconds) or None,
                wrapup_seconds=float(queue.wrapup_seconds),
                max_len=queue.max_length, max_wait=queue.max_wait_seconds,
                join_empty=queue.join_empty, leave_when_empty=queue.leave_when_empty,
                sl_seconds=float(queue.service_level_seconds),
            ), now)
            for member in queue.members:
                engine.add_member(queue.name, member.agent_number, now, member.penalty,
                                  float(member.weight), member.position or None)
        for route in db_queues.list_numbers(conn, tenant_record):
            if route.queue:
                engine.map_dnis(route.number, route.queue)
        return acd

    # -- inputs from the API ------------------------------------------------------------------

    def login(self, acd: TenantAcd, agent_id: str, extension: str,
              skills: dict[str, int]) -> None:
        self._run(acd, lambda e, now: e.agent_login(agent_id, now, extension, skills=skills,
                                                     ready=False, reason="login"))

    def set_status(self, acd: TenantAcd, agent_id: str, status: str, reason: str | None) -> None:
        def step(engine: Engine, now: float) -> list[Any]:
            if status == "ready":
                return engine.agent_ready(agent_id, now)
            if status == "not_ready":
                return engine.agent_not_ready(agent_id, now, reason)
            if status == "wrap_up_done":
                return engine.wrapup_done(agent_id, now)
            if status == "logged_out":
                return engine.agent_logout(agent_id, now)
            return []

        self._run(acd, step)

    def queue_views(self, tenant: str) -> dict[str, dict[str, Any]]:
        acd = self.tenants.get(tenant)
        if acd is None:
            return {}
        engine = acd.engine
        out = {}
        for name in engine.queues:
            view = engine.queue_view(name)
            view["stats"] = engine.stats.queue(name).as_dict()
            out[name] = view
        return out

    # -- inputs from the switch ---------------------------------------------------------------

    def on_event(self, tenant: str, event: ev.Event) -> None:
        acd = self.tenants.get(tenant)
        if acd is None or not event.call_id:
            return
        call_id = event.call_id
        if event.event == ev.QUEUED and event.device in acd.engine.dnis:
            if call_id not in acd.engine.calls:
                call = self.calls.live(call_id)
                calling = (call.ani or call.calling) if call is not None else event.calling
                acd.queue_devices[call_id] = event.device
                self._run(acd, lambda e, now: e.caller_arrived(call_id, now, dnis=event.device,
                                                                calling=calling))
        elif event.event == ev.ESTABLISHED and call_id in acd.offered:
            agent_id, extension = acd.offered[call_id]
            if event.device == extension:
                del acd.offered[call_id]
                acd.queue_devices.pop(call_id, None)
                self._run(acd, lambda e, now: e.agent_answered(call_id, agent_id, now))
        else:
            self._acd_call(acd, event)
            self._direct_call(acd, event)

    def _acd_call(self, acd: TenantAcd, event: ev.Event) -> None:
        """Hold, transfer and the end of calls the ACD delivered (or still has queued)."""
        call_id = event.call_id
        if event.event == ev.HELD:
            self._run(acd, lambda e, now: e.call_held(call_id, now))
        elif event.event == ev.RETRIEVED:
            self._run(acd, lambda e, now: e.call_retrieved(call_id, now))
        elif event.event in (ev.TRANSFERRED, ev.CONFERENCED):
            for old in event.old_call_ids:
                if old in acd.engine.calls:
                    self._run(acd, lambda e, now, old=old: e.call_transferred(old, now))
        elif event.event in (ev.CALL_CLEARED, ev.CONNECTION_CLEARED):
            if call_id in acd.engine.calls and (
                    event.event == ev.CALL_CLEARED or self._agent_left(acd, call_id, event)):
                by = "caller" if event.device not in self._agent_devices(acd) else "agent"
                acd.offered.pop(call_id, None)
                acd.queue_devices.pop(call_id, None)
                self._run(acd, lambda e, now: e.call_ended(call_id, now, by=by))

    def _direct_call(self, acd: TenantAcd, event: ev.Event) -> None:
        """Calls the ACD did not deliver keep their agent busy (no offers) until they end."""
        call_id = event.call_id
        engine = acd.engine
        if event.event in _BUSY_EVENTS and call_id not in engine.calls \
                and call_id not in acd.offered and call_id not in acd.direct:
            agent_id = engine.agent_at(event.device)
            if agent_id is not None and engine.agents[agent_id].status != "logged_out":
                acd.direct[call_id] = agent_id
                self._run(acd, lambda e, now: e.agent_busy(agent_id, call_id, now))
        elif event.event in (ev.CONNECTION_CLEARED, ev.CALL_CLEARED) and call_id in acd.direct:
            agent = engine.agents.get(acd.direct[call_id])
            if event.event == ev.CALL_CLEARED or (agent and agent.extension == event.device):
                del acd.direct[call_id]
                self._run(acd, lambda e, now: e.call_ended(call_id, now))
        elif event.event in (ev.TRANSFERRED, ev.CONFERENCED):
            for old in event.old_call_ids:
                if old in acd.direct and old != call_id:
                    del acd.direct[old]
                    self._run(acd, lambda e, now, old=old: e.call_transferred(old, now))

    def _agent_devices(self, acd: TenantAcd) -> set[str]:
        return {a.extension for a in acd.engine.agents.values() if a.extension}

    def _agent_left(self, acd: TenantAcd, call_id: str, event: ev.Event) -> bool:
        caller = acd.engine.calls.get(call_id)
        if caller is None:
            return False
        agent = getattr(caller, "agent", None)
        if agent is not None and agent.extension == event.device:
            return True
        return event.device not in self._agent_devices(acd) and event.device != \
            acd.queue_devices.get(call_id)

    # -- decisions ----------------------------------------------------------------------------

    def _run(self, acd: TenantAcd, step: Callable[[Engine, float], list[Any]]) -> None:
        try:
            decisions = step(acd.engine, self.reactor.seconds())
        except AcdError as exc:
            log.warn("ACD of {tenant} refused: {error}", tenant=acd.tenant, error=exc)
            decisions = []
        self._execute(acd, decisions)
        self._schedule(acd)

    def _schedule(self, acd: TenantAcd) -> None:
        pending = self._wakeups.pop(acd.tenant, None)
        if pending is not None and pending.active():
            pending.cancel()
        wakeup = acd.engine.next_wakeup()
        if wakeup is not None:
            delay = max(0.0, wakeup - self.reactor.seconds())
            self._wakeups[acd.tenant] = self.reactor.callLater(
                delay, self._run, acd, lambda e, now: e.tick(now))

    def stop(self) -> None:
        for pending in self._wakeups.values():
            if pending.active():
                pending.cancel()
        self._wakeups.clear()

    def _execute(self, acd: TenantAcd, decisions: list[Any]) -> None:
        changed_queues: set[str] = set()
        for decision in decisions:
            if isinstance(decision, AgentState):
                self.on_agent_state(acd.tenant, decision)
            elif isinstance(decision, Offer):
                self._offer(acd, decision.call_id, decision.agent_id, decision.extension)
                changed_queues.add(decision.queue)
            elif isinstance(decision, RingAll):
                if decision.agents:
                    agent_id, extension = decision.agents[0]
                    self._offer(acd, decision.call_id, agent_id, extension)
                changed_queues.add(decision.queue)
            elif isinstance(decision, StopRinging):
                self._stop_ringing(acd, decision)
            elif isinstance(decision, Overflow):
                if decision.target.kind == "number":
                    self._deflect(acd, decision.call_id, decision.target.value)
                changed_queues.add(decision.queue)
            elif isinstance(decision, Exit):
                self._clear(acd, decision)
                if decision.queue:
                    changed_queues.add(decision.queue)
            elif isinstance(decision, QueueLogEvent):
                self._record(acd, decision)
                if decision.queue:
                    changed_queues.add(decision.queue)
        for queue in changed_queues:
            self.on_queue_change(acd.tenant, queue)

    def _offer(self, acd: TenantAcd, call_id: str, agent_id: str, extension: str | None) -> None:
        if not extension:
            return
        acd.offered[call_id] = (agent_id, extension)
        self._deflect(acd, call_id, extension)

    def _deflect(self, acd: TenantAcd, call_id: str, destination: str) -> None:
        source = acd.queue_devices.get(call_id)
        if source is None:
            ringing = acd.offered.get(call_id)
            source = ringing[1] if ringing else None
        if source is None:
            log.warn("ACD: no device to deflect call {call} from", call=call_id)
            return
        try:
            driver = self.links.driver_for(acd.tenant, source)
        except Exception as exc:
            log.warn("ACD: cannot reach the switch of {device}: {error}", device=source, error=exc)
            return
        d = driver.deflect_call(call_id, source, destination)
        d.addErrback(lambda f: log.warn("ACD: deflect {call} {src}->{dst} failed: {error}",
                                        call=call_id, src=source, dst=destination,
                                        error=f.getErrorMessage()))

    def _stop_ringing(self, acd: TenantAcd, decision: StopRinging) -> None:
        ringing = acd.offered.pop(decision.call_id, None)
        if ringing is None or decision.reason == "answered_elsewhere":
            return
        queue_device = acd.queue_devices.get(decision.call_id)
        if queue_device is None:
            return
        agent_id, extension = ringing
        try:
            driver = self.links.driver_for(acd.tenant, extension)
        except Exception:
            return
        d = driver.deflect_call(decision.call_id, extension, queue_device)
        d.addErrback(lambda f: log.warn("ACD: taking call {call} back from {ext} failed: {error}",
                                        call=decision.call_id, ext=extension,
                                        error=f.getErrorMessage()))

    def _clear(self, acd: TenantAcd, decision: Exit) -> None:
        device = acd.queue_devices.pop(decision.call_id, None)
        if device is None:
            return
        try:
            driver = self.links.driver_for(acd.tenant, device)
        except Exception:
            return
        log.info("ACD: caller {call} leaves queue {queue} ({reason})", call=decision.call_id,
                 queue=decision.queue, reason=decision.reason)
        driver.clear_call(decision.call_id).addErrback(lambda f: None)

    def _record(self, acd: TenantAcd, event: QueueLogEvent) -> None:
        data = {k: v for k, v in event.data.items() if isinstance(v, (str, int, float, bool))}
        wait = data.get("holdtime", data.get("waittime"))
        name = _QUEUE_EVENTS.get(event.event)
        if name is None:
            return
        d = self.db.run(
            db_calls.record_queue_event, acd.record, name,
            at=datetime.fromtimestamp(event.time, UTC),
            queue_id=acd.queue_ids.get(event.queue or ""), call_id=event.call_id,
            agent_id=acd.agent_ids.get(event.agent_id or ""),
            wait_seconds=float(wait) if isinstance(wait, (int, float)) else None,
            reason=str(data.get("reason")) if "reason" in data else None, data=data,
        )
        d.addErrback(lambda f: log.warn("queue log row lost: {error}", error=f.getErrorMessage()))


_BUSY_EVENTS = frozenset({ev.SERVICE_INITIATED, ev.ORIGINATED, ev.DELIVERED, ev.ESTABLISHED})

_QUEUE_EVENTS = {
    "ENTERQUEUE": "enter", "CONNECT": "connect", "ABANDON": "abandon",
    "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "exit-empty", "JOINEMPTY": "exit-empty",
    "EXITWITHKEY": "exit-key", "COMPLETECALLER": "complete-caller",
    "COMPLETEAGENT": "complete-agent", "TRANSFER": "transfer", "RINGNOANSWER": "ring-no-answer",
    "OVERFLOW": "overflow", "AGENTLOGIN": "agent-login", "AGENTLOGOFF": "agent-logoff",
    "PAUSE": "pause", "UNPAUSE": "unpause", "FULL": "timeout", "CLOSED": "timeout",
    "REJECT": "ring-no-answer",
}
"""The engine's queue_log names -> db/'s queue event names (ADMIN and ACW are not stored)."""
