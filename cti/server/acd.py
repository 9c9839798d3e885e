"""The ACD engine run live: inputs from switch events and the API, decisions executed.

cti.acd.Engine is pure; this runner owns one engine per tenant, built from the tenant's queues,
members and numbers in db/, feeds it (a call queued at a queue number arrives; an offered agent
answers; calls end; agents log on, pause, resume), executes what it decides (deflect the queued
call to the chosen agent's extension, pull it back on ring timeout, clear refused callers,
write queue-log rows) and keeps the engine's timers on the reactor.

Two ways into a queue: a call waiting at a queue device (QUEUED) is deflected to the chosen
agent; a call at a pilot number the link registered for routing (`route_devices`) arrives as a
RouteRequest and is answered with RouteSelect (RouteEnd hands it back to the switch when the
caller must leave). A routed call nobody answered is deflected straight to the next agent, or
back to its pilot, where the switch asks again.

Ring-all: on a link that alerts several devices at once (`parallel_alerting`) one deflect or
RouteSelect rings every chosen agent; the switch clears the others when one answers, and one
deflect from any of them takes an unanswered call back; a telephone that stops alerting on its
own (rejects the call) is the engine's agent_rejected while the others ring on, and when it was
the last the caller is the queue's again at once. On any other link the chosen agents ring one
after another, each for an equal share of the queue's ring timeout.

Callers leaving for voice mail, an announcement or a number are deflected (or route-selected)
to the number of the queue's overflow target. What a caller waiting at a queue device hears
(music, place and expected wait) is played over the queue's connection by the switch's voice
unit, where the link has one (docs/csta-wire.md, "Voice unit").

Every tenant a configured link serves has its engine loaded when the server starts (`start`),
so a call to a queue device or a pilot is queued, logged, announced and overflowed before any
agent has logged in; while the database is away (or the tenant is not in it yet) the load is
retried every LOAD_RETRY_SECONDS. Callers already waiting at a queue device when an engine loads
(a switch snapshot, a call that arrived during the load) join the queue then.

Administration changes reach the engine through `reload`: the tenant's configuration is read
from db/ again and the difference applied through the engine's admin inputs, so waiting callers
keep their place. The API calls it after each change; `start_polling` calls it when the audit
log shows a change made elsewhere (`cti admin`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from twisted.internet import defer, task
from twisted.logger import Logger

from cti import events as ev
from cti.acd.config import AcdError, MemberConfig, QueueConfig
from cti.acd.decisions import (
    AgentState,
    Announce,
    Exit,
    Offer,
    Overflow,
    QueueLogEvent,
    RingAll,
    StopRinging,
)
from cti.acd.engine import Engine
from cti.events import QUEUED_STATE
from cti.server.acdconfig import queue_config
from db import agents as db_agents
from db import audit as db_audit
from db import calls as db_calls
from db import queues as db_queues
from db import tenants as db_tenants
from drivers.base import LinkDown, voice_unit

log = Logger(namespace="cti.server.acd")


class TenantAcd:
    """One tenant's engine and what the runner remembers about its calls."""

    def __init__(self, tenant: str, record: Any) -> None:
        self.tenant = tenant
        self.record = record
        self.engine = Engine(seed=None)
        self.queue_devices: dict[str, str] = {}
        """call ID -> the queue device the call waits at (where a deflect starts from)."""
        self.offered: dict[str, Ringing] = {}
        """call ID -> the agents (and extensions) the ACD rings with it."""
        self.direct: dict[str, str] = {}
        """call ID -> agent ID, for calls the ACD did not deliver (the agent is busy on them)."""
        self.queue_ids: dict[str, int] = {}
        self.agent_ids: dict[str, int] = {}
        self.routes: dict[str, tuple[str, str]] = {}
        """call ID -> (link, routing cross-ref) of the open RouteRequest it waits on."""
        self.pilots: dict[str, str] = {}
        """call ID -> the pilot (route device) a routed call came in on, to go back to."""
        self.audit_seen = 0
        """The newest audit entry of the tenant the engine reflects."""
        self.lock = defer.DeferredLock()
        """Serialises reloads: each one reads the database, then applies the difference."""
        self.pruned_at = 0.0
        """When the engine's statistics last dropped their old intervals."""


class Ringing:
    """The agents one call rings: all at once on the switch (`parallel`), or in turn, where
    `at` is the extension that holds the call now and `turn` the timer passing it on."""

    def __init__(self, agents: list[tuple[str, str]], parallel: bool) -> None:
        self.agents = dict(agents)
        """agent ID -> extension, in the order the engine chose them."""
        self.parallel = parallel
        self.at = agents[0][1]
        self.turn: Any = None
        self.left: set[str] = set()
        """Extensions that stopped alerting on their own (a rejecting telephone): nothing to
        stop there, nor to take the call back from."""

    def agent_at(self, device: str | None) -> str | None:
        return next((a for a, ext in self.agents.items() if ext == device), None)

    def source(self) -> str:
        """An extension the call alerts at now: where a deflect takes it from."""
        if self.parallel and self.at not in self.agents.values():
            return next(iter(self.agents.values()), self.at)
        return self.at

    def stop_turns(self) -> None:
        if self.turn is not None and self.turn.active():
            self.turn.cancel()
        self.turn = None


class Snapshot:
    """What db/ says the tenant's ACD is: agents, queues and numbers, read in one transaction."""

    def __init__(self, agents: list[Any], queues: list[Any], numbers: list[Any],
                 schedules: list[Any], audit_seen: int) -> None:
        self.agents = agents
        self.queues = queues
        self.numbers = numbers
        self.schedules = {schedule.name: schedule for schedule in schedules}
        self.audit_seen = audit_seen


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
        self._poller: task.LoopingCall | None = None
        self._silent_links: set[str] = set()
        """Links whose failure to play announcements has been logged (once each)."""
        self._retries: dict[str, Any] = {}
        """tenant code -> the timer of its next attempt to load the engine at start."""
        self._stopped = False
        self._load_errors: dict[str, str] = {}
        self.load_retry_seconds = LOAD_RETRY_SECONDS

    # -- set-up -------------------------------------------------------------------------------

    def tenant(self, tenant_record: Any) -> defer.Deferred[TenantAcd]:
        """The tenant's engine, loaded from the database on first use (once)."""
        code = tenant_record.code
        if code in self.tenants:
            return defer.succeed(self.tenants[code])
        loading = self._loading.get(code)
        if loading is None:
            loading = self._loading[code] = self.db.run(_read, tenant_record)
            loading.addCallback(lambda snapshot: self._build(tenant_record, snapshot))

            def loaded(acd: TenantAcd) -> TenantAcd:
                self.tenants[code] = acd
                del self._loading[code]
                if not self._stopped:
                    self._adopt(acd)
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

    def _build(self, tenant_record: Any, snapshot: Snapshot) -> TenantAcd:
        acd = TenantAcd(tenant_record.code, tenant_record)
        self._apply(acd, snapshot)
        return acd

    def start(self, reload_seconds: float) -> None:
        """Load the engine of every tenant a link serves now, rather than at its first agent
        login or route request (callers to a queue device before then would not be queued),
        then watch the audit log every `reload_seconds`."""
        self._stopped = False
        for code in sorted({link.config.tenant for link in self.links.links.values()}):
            self._preload(code, 1)
        self.start_polling(reload_seconds)

    def _preload(self, code: str, attempt: int) -> None:
        self._retries.pop(code, None)
        if self._stopped or code in self.tenants:
            return
        d = self.db.run(db_tenants.get_tenant, code)
        d.addCallback(self.tenant)
        d.addCallbacks(self._preloaded, self._preload_failed, callbackArgs=(attempt,),
                       errbackArgs=(code, attempt))

    def _preloaded(self, acd: TenantAcd, attempt: int) -> None:
        self._load_errors.pop(acd.tenant, None)
        engine = acd.engine
        log.info("ACD of {tenant} loaded: {queues} queue(s), {numbers} number(s){after}",
                 tenant=acd.tenant, queues=len(engine.queues), numbers=len(engine.dnis),
                 after=f" after {attempt} attempts" if attempt > 1 else "")

    def _preload_failed(self, failure: Any, code: str, attempt: int) -> None:
        """The database is away, or the tenant not in it yet: try again later. Said once,
        and again each time the reason changes."""
        if self._stopped:
            return
        error = (failure.getErrorMessage().splitlines() or [failure.type.__name__])[0]
        if attempt == 1 or self._load_errors.get(code) != error:
            log.warn("ACD of {tenant} not loaded ({error}): its callers are not queued until "
                     "it is; retrying every {delay} s", tenant=code, error=error,
                     delay=self.load_retry_seconds)
        self._load_errors[code] = error
        self._retries[code] = self.reactor.callLater(self.load_retry_seconds, self._preload,
                                                     code, attempt + 1)

    def _adopt(self, acd: TenantAcd, calls: Iterable[Any] | None = None) -> None:
        """Callers already waiting at one of the tenant's queue devices (all live calls, or
        `calls`) join its queue: calls up before the engine loaded or the link's snapshot."""
        pilots = self.links.route_devices_of(acd.tenant)
        for call in list(self.calls.calls() if calls is None else calls):
            if call is None or self.links.tenant_of(call.link) != acd.tenant:
                continue
            for device, connection in list(call.connections.items()):
                if connection.state == QUEUED_STATE and device not in pilots:
                    self._queued(acd, call.call_id, device, call.ani or call.calling)

    # -- live administration ------------------------------------------------------------------

    def reload(self, code: str) -> defer.Deferred[None]:
        """Bring the running engine of tenant `code` in line with db/ (a no-op for a tenant
        not loaded: it will load the current state on first use; a tenant loading now is
        reloaded once loaded, its load may have read before the change). Waiting callers keep
        their place; the next decision follows the new configuration."""
        acd = self.tenants.get(code)
        if acd is None:
            loading = self._loading.get(code)
            if loading is None:
                return defer.succeed(None)
            loaded: defer.Deferred[None] = defer.Deferred()

            def then(outcome: Any) -> Any:
                loaded.callback(None)
                return outcome

            loading.addBoth(then)
            return loaded.addCallback(lambda _: self.reload(code))

        def locked() -> Any:
            d = self.db.run(_read, acd.record)
            d.addCallback(lambda snapshot: self._apply(acd, snapshot))
            return d

        return acd.lock.run(locked)

    def start_polling(self, interval: float) -> None:
        """Watch the audit log every `interval` seconds: a change written by `cti admin` (or any
        other process) to a loaded tenant reloads that tenant's engine."""
        if interval <= 0 or self._poller is not None:
            return
        self._poller = task.LoopingCall(self._poll)
        self._poller.clock = self.reactor
        self._poller.start(interval, now=False).addErrback(
            lambda f: log.failure("audit poll stopped", f))

    def _poll(self) -> Any:
        loaded = {acd.record.id: acd for acd in self.tenants.values()}
        if not loaded:
            return None
        d = self.db.run(db_audit.latest_id, sorted(loaded))

        def compare(newest: dict[int, int]) -> Any:
            changed = [acd.tenant for tenant_id, acd in loaded.items()
                       if newest.get(tenant_id, 0) > acd.audit_seen]
            return defer.gatherResults([self.reload(code) for code in changed])

        d.addCallback(compare)
        d.addErrback(lambda f: log.warn("audit poll failed: {error}", error=f.getErrorMessage()))
        return d

    def _apply(self, acd: TenantAcd, snapshot: Snapshot) -> None:
        """Add, change and remove agents, queues, members and numbers so the engine matches
        the snapshot; each change goes through the engine's admin inputs and its decisions
        are carried out like any other."""
        engine = acd.engine
        code = acd.tenant
        acd.audit_seen = max(acd.audit_seen, snapshot.audit_seen)
        stored_agents = {a.number: a for a in snapshot.agents}
        for number, agent in stored_agents.items():
            skills = agent.skill_levels()
            acd.agent_ids[number] = agent.id
            current = engine.agents.get(number)
            if current is None:
                self._run(acd, lambda e, now, a=agent, k=skills: e.add_agent(
                    a.number, now, a.extension, k))
            elif dict(current.skills) != skills:
                self._run(acd, lambda e, now, n=number, k=skills: e.update_agent(
                    n, now, skills=k))
            elif current.status == "logged_out" and current.extension != agent.extension:
                self._run(acd, lambda e, now, a=agent: e.update_agent(
                    a.number, now, extension=a.extension))
        wanted = {}
        for queue in snapshot.queues:
            try:
                wanted[queue.name] = queue_config(queue, code, snapshot.schedules)
            except AcdError as exc:
                log.warn("ACD of {tenant}: queue {queue} not applied: {error}", tenant=code,
                         queue=queue.name, error=exc)
            acd.queue_ids[queue.name] = queue.id
        for name, config in wanted.items():
            state = engine.queues.get(name)
            if state is None:
                self._run(acd, lambda e, now, c=config: e.add_queue(c, now))
            elif state.config != config:
                changes = {f: getattr(config, f) for f in _CONFIG_FIELDS
                           if getattr(config, f) != getattr(state.config, f)}
                self._run(acd, lambda e, now, n=name, c=changes: e.update_queue(n, now, **c))
        for queue in snapshot.queues:
            state = engine.queues.get(queue.name)
            if state is None:
                continue
            members = {m.agent_number: MemberConfig(m.penalty, float(m.weight), m.position or None)
                       for m in queue.members if m.agent_number in engine.agents}
            for number, member in members.items():
                if state.explicit.get(number) != member:
                    self._run(acd, lambda e, now, q=queue.name, n=number, c=member: e.add_member(
                        q, n, now, c.penalty, c.weight, c.position))
            for number in [n for n in state.explicit if n not in members]:
                self._run(acd, lambda e, now, q=queue.name, n=number: e.remove_member(q, n, now))
        numbers = {r.number: r.queue for r in snapshot.numbers
                   if r.queue and r.queue in engine.queues}
        for number, queue_name in numbers.items():
            if engine.dnis.get(number) != queue_name:
                engine.map_dnis(number, queue_name)
        for number in [n for n in engine.dnis if n not in numbers]:
            engine.unmap_dnis(number)
        for name in [n for n in engine.queues if n not in wanted]:
            acd.queue_ids.pop(name, None)
            self._run(acd, lambda e, now, n=name: e.remove_queue(n, now))
        for number in [n for n in engine.agents if n not in stored_agents]:
            acd.agent_ids.pop(number, None)
            self._run(acd, lambda e, now, n=number: e.remove_agent(n, now))

    # -- inputs from the API ------------------------------------------------------------------

    def login(self, acd: TenantAcd, agent_id: str, extension: str,
              skills: dict[str, int]) -> None:
        self._run(acd, lambda e, now: e.agent_login(agent_id, now, extension, skills=skills,
                                                     ready=False, reason="login"))

    def busy(self, acd: TenantAcd, agent_id: str, call_id: str) -> None:
        """The agent is on a call the ACD did not see begin (up before the login); it ends
        the agent's busy time as any direct call does."""
        if call_id not in acd.engine.calls and call_id not in acd.direct:
            acd.direct[call_id] = agent_id
            self._run(acd, lambda e, now: e.agent_busy(agent_id, call_id, now))

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
        if event.event in (ev.ROUTE_REQUEST, ev.ROUTE_END):
            self._on_route_event(tenant, event)
            return
        acd = self.tenants.get(tenant)
        if acd is not None and event.event in (ev.SNAPSHOT_DEVICE, ev.SNAPSHOT_CALL):
            ids = [p.call_id for p in event.parties] if event.event == ev.SNAPSHOT_DEVICE \
                else [event.call_id]
            self._adopt(acd, [self.calls.live(call_id) for call_id in ids])
            return
        if acd is None or not event.call_id:
            return
        call_id = event.call_id
        if event.event == ev.QUEUED and event.device in acd.engine.dnis \
                and event.device not in self.links.route_devices_of(tenant):
            call = self.calls.live(call_id)
            calling = (call.ani or call.calling) if call is not None else event.calling
            self._queued(acd, call_id, event.device or "", calling)
        elif event.event == ev.CONNECTION_CLEARED and self._ring_refused(acd, event):
            return
        elif event.event == ev.ESTABLISHED and call_id in acd.offered:
            agent_id = acd.offered[call_id].agent_at(event.device)
            if agent_id is not None:
                acd.offered.pop(call_id).stop_turns()
                acd.queue_devices.pop(call_id, None)
                acd.pilots.pop(call_id, None)
                self._run(acd, lambda e, now: e.agent_answered(call_id, agent_id, now))
        else:
            self._acd_call(acd, event)
            self._direct_call(acd, event)

    def _ring_refused(self, acd: TenantAcd, event: ev.Event) -> bool:
        """One telephone of a parallel ring-all stopped alerting on its own (rejected, or the
        switch gave up on it) while the others ring on: its agent rejected the call, as the
        engine counts it. Not when another answered (cause `callPickup`) or the call moved
        (`redirected`): those legs the switch clears itself (docs/csta-wire.md)."""
        ringing = acd.offered.get(event.call_id or "")
        if ringing is None or not ringing.parallel or event.cause in _NOT_REFUSED:
            return False
        agent_id = ringing.agent_at(event.device)
        if agent_id is None:
            return False
        ringing.left.add(ringing.agents.pop(agent_id))
        call_id = event.call_id or ""
        log.info("ACD: {device} stopped ringing with call {call} ({cause}): agent {agent} "
                 "rejected it", device=event.device, call=call_id, cause=event.cause,
                 agent=agent_id)
        self._run(acd, lambda e, now: e.agent_rejected(call_id, agent_id, now))
        return True

    def _queued(self, acd: TenantAcd, call_id: str, device: str, calling: str | None) -> None:
        """A call waits at queue device `device`: its caller joins the number's queue."""
        if device not in acd.engine.dnis or call_id in acd.engine.calls:
            return
        acd.queue_devices[call_id] = device
        self._run(acd, lambda e, now: e.caller_arrived(call_id, now, dnis=device,
                                                        calling=calling))

    # -- routing on pilots (CSTA routing services) ---------------------------------------------

    def _on_route_event(self, tenant: str, event: ev.Event) -> None:
        acd = self.tenants.get(tenant)
        if acd is None:
            if event.event == ev.ROUTE_REQUEST:
                d = self.db.run(db_tenants.get_tenant, tenant)
                d.addCallback(self.tenant)
                d.addCallback(lambda loaded: self._route_event(loaded, event))
                d.addErrback(lambda f: self._refuse_route(event, f.getErrorMessage()))
            return
        self._route_event(acd, event)

    def _route_event(self, acd: TenantAcd, event: ev.Event) -> None:
        """A RouteRequest makes the call a caller of the pilot's queue (or, for a call coming
        back after ring-no-answer, reopens its route); a RouteEnd from the switch on a route
        still open means the caller is gone (or the switch gave up waiting)."""
        xref = event.cross_ref or ""
        if event.event == ev.ROUTE_END:
            for call_id, (link, open_xref) in list(acd.routes.items()):
                if open_xref == xref and link == event.link:
                    del acd.routes[call_id]
                    acd.pilots.pop(call_id, None)
                    self._run(acd, lambda e, now, c=call_id: e.caller_abandoned(c, now))
            return
        call_id, pilot = event.call_id, event.device
        if not call_id or not pilot:
            self._refuse_route(event, "RouteRequest without a call or a pilot")
            return
        acd.routes[call_id] = (event.link or "", xref)
        acd.pilots[call_id] = pilot
        if call_id not in acd.engine.calls:
            call = self.calls.live(call_id)
            calling = (call.ani or call.calling) if call is not None else event.calling
            self._run(acd, lambda e, now: e.caller_arrived(call_id, now, dnis=pilot,
                                                            calling=calling))

    def _refuse_route(self, event: ev.Event, why: str) -> None:
        log.warn("ACD: route request {xref} at {pilot} handed back: {why}",
                 xref=event.cross_ref, pilot=event.device, why=why)
        link = self.links.links.get(event.link or "")
        if link is not None and event.cross_ref:
            link.driver.route_end(event.cross_ref).addErrback(lambda f: None)

    def _route_driver(self, acd: TenantAcd, call_id: str) -> tuple[Any, str] | None:
        """(driver, cross-ref) of the call's open route request, closing it here."""
        opened = acd.routes.pop(call_id, None)
        if opened is None:
            return None
        link = self.links.links.get(opened[0])
        if link is None:
            return None
        return link.driver, opened[1]

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
                ringing = acd.offered.pop(call_id, None)
                if ringing is not None:
                    ringing.stop_turns()
                acd.queue_devices.pop(call_id, None)
                acd.pilots.pop(call_id, None)
                acd.routes.pop(call_id, None)
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
        return event.device not in self._agent_devices(acd) and event.device not in (
            acd.queue_devices.get(call_id), acd.pilots.get(call_id))

    # -- decisions ----------------------------------------------------------------------------

    def _run(self, acd: TenantAcd, step: Callable[[Engine, float], list[Any]]) -> None:
        now = self.reactor.seconds()
        try:
            decisions = step(acd.engine, now)
        except AcdError as exc:
            log.warn("ACD of {tenant} refused: {error}", tenant=acd.tenant, error=exc)
            decisions = []
        self._execute(acd, decisions)
        self._schedule(acd)
        if now - acd.pruned_at >= STATS_PRUNE_SECONDS:
            acd.pruned_at = now
            acd.engine.stats.prune(now - STATS_KEEP_SECONDS)

    def calls_ended(self, tenant: str, call_ids: Iterable[str]) -> None:
        """Calls the model ended with no clearing event reaching the ACD (a snapshot after a
        link drop, the sweep of calls nothing reports on): their agents and lines are freed."""
        acd = self.tenants.get(tenant)
        if acd is None:
            return
        for call_id in call_ids:
            ringing = acd.offered.pop(call_id, None)
            if ringing is not None:
                ringing.stop_turns()
            for table in (acd.queue_devices, acd.pilots, acd.routes):
                table.pop(call_id, None)
            if call_id in acd.engine.calls or acd.direct.pop(call_id, None) is not None:
                self._run(acd, lambda e, now, c=call_id: e.call_ended(c, now))

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
        self._stopped = True
        for retry in self._retries.values():
            if retry.active():
                retry.cancel()
        self._retries.clear()
        if self._poller is not None and self._poller.running:
            self._poller.stop()
        self._poller = None
        for pending in self._wakeups.values():
            if pending.active():
                pending.cancel()
        self._wakeups.clear()
        for acd in self.tenants.values():
            for ringing in acd.offered.values():
                ringing.stop_turns()

    def _execute(self, acd: TenantAcd, decisions: list[Any]) -> None:
        changed_queues: set[str] = set()
        self._taken_back: dict[str, str] = {}
        for decision in decisions:
            if isinstance(decision, AgentState):
                self.on_agent_state(acd.tenant, decision)
            elif isinstance(decision, Offer):
                self._ring(acd, decision.call_id, [(decision.agent_id, decision.extension)],
                           decision.ring_timeout)
                changed_queues.add(decision.queue)
            elif isinstance(decision, RingAll):
                self._ring(acd, decision.call_id, list(decision.agents), decision.ring_timeout)
                changed_queues.add(decision.queue)
            elif isinstance(decision, StopRinging):
                self._stop_ringing(acd, decision)
            elif isinstance(decision, Overflow):
                self._overflow(acd, decision)
                changed_queues.add(decision.queue)
            elif isinstance(decision, Announce):
                self._announce(acd, decision)
            elif isinstance(decision, Exit):
                self._clear(acd, decision)
                if decision.queue:
                    changed_queues.add(decision.queue)
            elif isinstance(decision, QueueLogEvent):
                self._record(acd, decision)
                if decision.queue:
                    changed_queues.add(decision.queue)
        for call_id, extension in self._taken_back.items():
            self._send(acd, call_id, extension, acd.pilots[call_id], "taking back")
        self._taken_back = {}
        for queue in changed_queues:
            self.on_queue_change(acd.tenant, queue)

    def _overflow(self, acd: TenantAcd, decision: Overflow) -> None:
        """Send the caller to the target's number: a voice-mail pilot or mailbox, an
        announcement device or any number, by RouteSelect while it waits at its pilot, else by
        deflecting it. A queue target has been joined by the engine already."""
        call_id, target = decision.call_id, decision.target
        if target.kind == "queue":
            return
        if call_id in acd.pilots:
            acd.pilots.pop(call_id)
            self._select(acd, call_id, target.value)
        else:
            self._deflect(acd, call_id, target.value)
            acd.queue_devices.pop(call_id, None)
        log.info("ACD: caller {call} leaves queue {queue} ({reason}) for {kind} {number}",
                 call=call_id, queue=decision.queue, reason=decision.reason, kind=target.kind,
                 number=target.value)

    def _announce(self, acd: TenantAcd, decision: Announce) -> None:
        """Play the engine's announcement to a caller waiting at a queue device (the queue's
        connection is where the switch's voice unit reaches the caller); message IDs as in
        docs/csta-wire.md, "Voice unit". A caller waiting at a pilot number is the switch's
        to entertain: the server has no connection of its own to play over there."""
        device = acd.queue_devices.get(decision.call_id)
        if device is None:
            return
        queue = acd.engine.queues.get(decision.queue)
        spoken = decision.kind == "position" or (
            decision.kind == "enter" and queue is not None and queue.config.announce_position)
        messages = [f"music:{decision.music}"] if decision.music and decision.kind != "position" \
            else []
        if spoken and decision.position is not None:
            messages.append(position_message(decision.position, decision.expected_wait))
        for message in messages:
            self._play(acd, decision.call_id, device, message)

    def _play(self, acd: TenantAcd, call_id: str, device: str, message: str) -> None:
        driver = self._driver_of(acd, device)
        if driver is None:
            return
        unit = voice_unit(driver)
        if unit is None:
            self._voice_unit_failed(driver, "the link has no voice-unit commands")
            return
        unit.play_message(call_id, device, message).addErrback(self._play_failed, driver)

    def _play_failed(self, failure: Any, driver: Any) -> None:
        """A caller gone meanwhile (or a link down) is no reason to stop announcing."""
        if failure.check(LinkDown) or getattr(failure.value, "code", None) in _CALLER_GONE:
            log.debug("ACD: announcement not played: {error}", error=failure.getErrorMessage())
            return
        self._voice_unit_failed(driver, failure.getErrorMessage())

    def _voice_unit_failed(self, driver: Any, why: str) -> None:
        """Waiting callers go without announcements on this link: said once per link (a link
        that is down says nothing here; everything else it was asked fails too)."""
        name = getattr(driver, "name", None) or repr(driver)
        if name in self._silent_links:
            return
        self._silent_links.add(name)
        log.warn("ACD: link {link} cannot play announcements to waiting callers ({why}); "
                 "they wait without them, and further failures are not logged", link=name,
                 why=why)

    def _ring(self, acd: TenantAcd, call_id: str, agents: list[tuple[str, str | None]],
              ring_timeout: float | None) -> None:
        """Ring the chosen agents: one request for all of them where the link alerts several
        devices at once, else the first now and the others in turn."""
        chosen = [(agent_id, ext) for agent_id, ext in agents if ext]
        if not chosen:
            return
        extensions = [ext for _, ext in chosen]
        driver = self._carrier(acd, call_id)
        parallel = len(chosen) > 1 and driver is not None \
            and getattr(driver, "parallel_alerting", False) \
            and all(self._driver_of(acd, ext) is driver for ext in extensions)
        ringing = acd.offered[call_id] = Ringing(chosen, parallel)
        first, also = extensions[0], tuple(extensions[1:]) if parallel else ()
        if call_id in acd.pilots:
            self._select(acd, call_id, first, also)
        else:
            self._deflect(acd, call_id, first, also)
        if len(chosen) > 1 and not parallel:
            share = (ring_timeout or _TURN_WITHOUT_TIMEOUT) / len(chosen)
            log.info("ACD: link of {device} cannot alert several devices at once: call {call} "
                     "rings {count} agents in turn, {share:.1f} s each", device=first,
                     call=call_id, count=len(chosen), share=share)
            ringing.turn = self.reactor.callLater(share, self._next_turn, acd, call_id, share)

    def _next_turn(self, acd: TenantAcd, call_id: str, share: float) -> None:
        """Ring-all in turn: pass the call from the agent it rings to the next one."""
        ringing = acd.offered.get(call_id)
        if ringing is None:
            return
        ringing.turn = None
        order = list(ringing.agents.values())
        later = order[order.index(ringing.at) + 1:] if ringing.at in order else order
        if not later:
            return
        previous, ringing.at = ringing.at, later[0]
        self._send(acd, call_id, previous, ringing.at, "passing on")
        if len(later) > 1:
            ringing.turn = self.reactor.callLater(share, self._next_turn, acd, call_id, share)

    def _carrier(self, acd: TenantAcd, call_id: str) -> Any:
        """The driver that will carry the next request about the call, or None."""
        opened = acd.routes.get(call_id)
        if opened is not None:
            link = self.links.links.get(opened[0])
            return link.driver if link is not None else None
        source = self._taken_back.get(call_id) or acd.queue_devices.get(call_id)
        ringing = acd.offered.get(call_id)
        if source is None and ringing is not None:
            source = ringing.source()
        return self._driver_of(acd, source) if source else None

    def _driver_of(self, acd: TenantAcd, device: str) -> Any:
        try:
            return self.links.driver_for(acd.tenant, device)
        except Exception:
            return None

    def _select(self, acd: TenantAcd, call_id: str, destination: str,
                also: tuple[str, ...] = ()) -> None:
        """Send a routed call on: RouteSelect while it waits at its pilot, else deflect it
        from the phone that rang without answer (straight to the next agent, or back to the
        pilot, which asks again)."""
        route = self._route_driver(acd, call_id)
        if route is not None:
            driver, xref = route
            d = driver.route_select(xref, destination, also) if also \
                else driver.route_select(xref, destination)
            d.addErrback(
                lambda f: log.warn("ACD: RouteSelect {call} -> {dst} failed: {error}",
                                   call=call_id, dst=destination, error=f.getErrorMessage()))
            return
        previous = self._taken_back.pop(call_id, None)
        if previous is not None:
            self._send(acd, call_id, previous, destination, "moving", also)
        else:
            log.warn("ACD: routed call {call} is neither at its pilot nor ringing", call=call_id)

    def _send(self, acd: TenantAcd, call_id: str, source: str, destination: str,
              what: str, also: tuple[str, ...] = ()) -> None:
        """Deflect the call from `source` (also ringing devices: the switch takes them all)
        to `destination` and, on a link alerting several at once, `also`."""
        try:
            driver = self.links.driver_for(acd.tenant, source)
        except Exception as exc:
            log.warn("ACD: cannot reach the switch of {device}: {error}", device=source, error=exc)
            return
        d = driver.deflect_call(call_id, source, destination, also) if also \
            else driver.deflect_call(call_id, source, destination)
        d.addErrback(
            lambda f: log.warn("ACD: {what} call {call} {src}->{dst} failed: {error}", what=what,
                               call=call_id, src=source, dst=destination,
                               error=f.getErrorMessage()))

    def _deflect(self, acd: TenantAcd, call_id: str, destination: str,
                 also: tuple[str, ...] = ()) -> None:
        source = acd.queue_devices.get(call_id)
        if source is None:
            ringing = acd.offered.get(call_id)
            source = ringing.source() if ringing else None
        if source is None:
            log.warn("ACD: no device to deflect call {call} from", call=call_id)
            return
        self._send(acd, call_id, source, destination, "deflect", also)

    def _stop_ringing(self, acd: TenantAcd, decision: StopRinging) -> None:
        """Agents stop ringing. Answered elsewhere: the switch has cleared them already. Some
        of several: only theirs stop (ClearConnection; in turn: the call passes on if it was
        theirs). All: the call is taken back once, from any device it still alerts at."""
        call_id = decision.call_id
        ringing = acd.offered.get(call_id)
        if ringing is None:
            return
        source, order = ringing.source(), list(ringing.agents.values())
        stopped = [ringing.agents.pop(agent_id) for agent_id, _ in decision.agents
                   if agent_id in ringing.agents]
        if ringing.agents:
            if decision.reason != "answered_elsewhere":
                for extension in stopped:
                    self._let_go(acd, call_id, ringing, extension, order)
            return
        del acd.offered[call_id]
        ringing.stop_turns()
        if decision.reason == "answered_elsewhere":
            return
        if not stopped and ringing.left:
            log.info("ACD: call {call} alerts nowhere any more: nothing to take back",
                     call=call_id)
            return
        if call_id in acd.pilots:
            self._taken_back[call_id] = source
            return
        queue_device = acd.queue_devices.get(call_id)
        if queue_device is not None:
            self._send(acd, call_id, source, queue_device, "taking back")
            caller = acd.engine.calls.get(call_id)
            music = caller.queue.config.music if caller is not None and caller.queue else None
            if music:
                self._play(acd, call_id, queue_device, f"music:{music}")

    def _let_go(self, acd: TenantAcd, call_id: str, ringing: Ringing, extension: str,
                order: list[str]) -> None:
        """One agent of several stops ringing while the others go on (`order`: every
        extension the call rang or rings, as chosen)."""
        if ringing.parallel:
            driver = self._driver_of(acd, extension)
            if driver is not None:
                driver.clear_connection(call_id, extension).addErrback(
                    lambda f: log.warn("ACD: stopping call {call} at {ext} failed: {error}",
                                       call=call_id, ext=extension, error=f.getErrorMessage()))
        elif ringing.at == extension:
            left = set(ringing.agents.values())
            later = [ext for ext in order[order.index(extension) + 1:] if ext in left]
            following = (later or [ext for ext in order if ext in left])[0]
            ringing.at = following
            self._send(acd, call_id, extension, following, "passing on")

    def _clear(self, acd: TenantAcd, decision: Exit) -> None:
        acd.pilots.pop(decision.call_id, None)
        route = self._route_driver(acd, decision.call_id)
        if route is not None:
            driver, xref = route
            log.info("ACD: caller {call} leaves queue {queue} ({reason}): route ended",
                     call=decision.call_id, queue=decision.queue, reason=decision.reason)
            driver.route_end(xref).addErrback(lambda f: None)
            return
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


def position_message(position: int, expected_wait: float | None) -> str:
    """The message ID telling a waiting caller their place (and expected wait, in seconds)."""
    message = f"queue-position:{position}"
    if expected_wait is not None:
        message += f";expected-wait:{round(expected_wait)}"
    return message


_CALLER_GONE = frozenset({"invalidCallID", "invalidConnectionID", "invalidObjectState"})
"""Switch refusals of a PlayMessage that concern the call (it left or moved), not the link."""

LOAD_RETRY_SECONDS = 5.0
"""How often the server tries again to load a tenant's ACD the database could not give it."""

_TURN_WITHOUT_TIMEOUT = 30.0
"""Ring-all in turn on a queue without ring timeout: the agents share this many seconds."""

_NOT_REFUSED = frozenset({"callPickup", "redirected"})
"""Causes of a ConnectionCleared at a ring-all leg that the switch clears itself: another leg
answered, or the call moved on."""

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


_CONFIG_FIELDS = tuple(f for f in QueueConfig.__dataclass_fields__ if f != "name")


def _read(conn: Any, tenant_record: Any) -> Snapshot:
    """The tenant's ACD as stored, and the newest audit entry it includes (read first, so a
    change committed meanwhile is seen again by the next poll rather than missed)."""
    seen = db_audit.latest_id(conn, [tenant_record.id]).get(tenant_record.id, 0)
    return Snapshot(db_agents.list_agents(conn, tenant_record),
                    db_queues.list_queues(conn, tenant_record),
                    db_queues.list_numbers(conn, tenant_record),
                    db_queues.list_schedules(conn, tenant_record), seen)

STATS_KEEP_SECONDS = 86_400.0
"""The live statistics keep a day of intervals in memory; the queue log in the database keeps
every event, so reports over longer spans read it there."""

STATS_PRUNE_SECONDS = 900.0
"""How often (at most) a tenant's statistics drop the intervals older than that day."""
