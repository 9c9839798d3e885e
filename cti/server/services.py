"""What the API does: sessions, calls, agents, queues, customers, and the events going out.

The HTTP handlers call these methods; switch events come in through `on_event`. This is the one
place that decides what a caller may see and do (role and tenant), turns requests into driver
commands, and turns events into model updates, agent states, screen-pops and stream messages.
The model, the agent board and the ACD stay pure; the database runs on its thread pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from twisted.internet import defer, task
from twisted.logger import Logger

from cti import events as ev
from cti.acd.decisions import AgentState
from cti.api.auth import Session, SessionStore
from cti.api.errors import BadRequest, Conflict, NotFound, Unauthorized, Unavailable
from cti.api.stream import Audience, EventHub
from cti.events import iso_time
from cti.numbers import normalize_device
from cti.server.acd import AcdRunner
from cti.server.admin import Admin
from cti.server.agents import AgentBoard, AgentStateError, AgentView
from cti.server.calls import CallContexts, CallSource
from cti.server.config import ServerConfig
from cti.server.crm import Crm
from cti.server.database import Database
from cti.server.linkset import LinkSet
from cti.server.screenpop import ScreenPops
from db import agents as db_agents
from db import calls as db_calls
from db import customers as db_customers
from db import queues as db_queues
from db import tenants as db_tenants
from db.call_context import CallContext
from db.errors import AuthenticationFailed
from db.errors import NotFound as DbNotFound
from db.records import CallRecord as DbCallRecord
from db.records import Tenant

log = Logger(namespace="cti.server")

AGENT_STATE_FLUSH_SECONDS = 0.25
SWEEP_SECONDS = 30.0
"""How often calls no event will end are looked for (LinkCalls.sweep): a quiet link sends no
event to settle a call its last monitored agent left, and the server runs for weeks."""
IDLE_CALL_SECONDS = 3600.0
"""A call no monitored device is on, without an event for this long, is over."""


class Services:
    def __init__(
        self,
        *,
        reactor: Any,
        config: ServerConfig,
        sessions: SessionStore,
        hub: EventHub,
        database: Database,
        calls: CallSource,
        agents: AgentBoard,
        links: LinkSet,
        openapi: Callable[[], dict[str, Any]],
    ) -> None:
        self.reactor = reactor
        self.config = config
        self.sessions = sessions
        self.hub = hub
        self.db = database
        self.calls = calls
        self.agents = agents
        self.links = links
        self._openapi = openapi
        self._tenants: dict[str, Tenant] = {}
        self._grace: dict[tuple[str, str], Any] = {}
        self._stopped = False
        self._queue_sent: dict[tuple[str, str], float] = {}
        self._queue_pending: dict[tuple[str, str], Any] = {}
        self._agent_rows: list[tuple[Any, ...]] = []
        self._agent_flush: Any = None
        self._sweep_timer: Any = None
        self.pops = ScreenPops(self)
        self.contexts = CallContexts(database, reactor, calls.find, self.pops.customer_of,
                                     self._context_restored)
        self.crm = Crm(database, self.tenant, lambda s, call_id: self._call(s, call_id, True))
        self.acd = AcdRunner(reactor, database, links, calls, self._acd_agent_state,
                             self._queue_changed)
        self.admin = Admin(database, self.tenant, self.acd)

    # -- time ---------------------------------------------------------------------------------

    def now(self) -> float:
        return self.reactor.seconds()

    # -- sessions -----------------------------------------------------------------------------

    @defer.inlineCallbacks
    def login(self, user: str, password: str, extension: str | None, tenant: str | None,
              acd: bool = True, client: str = "") -> Any:
        try:
            result = yield self.db.run(db_agents.authenticate, user, password, tenant)
        except AuthenticationFailed as exc:
            log.warn("login failed for {user} from {client}: {why}", user=user, client=client,
                     why=str(exc))
            yield task.deferLater(self.reactor, self.config.login_failure_delay, lambda: None)
            raise Unauthorized(str(exc)) from None
        self._tenants[result.tenant.code] = result.tenant
        agent = result.agent
        seat = None
        if extension:
            seat = normalize_device(extension)
            if seat is None:
                raise BadRequest(f"bad extension {extension!r}")
            if not self.links.serves(result.tenant.code, seat):
                raise BadRequest(f"extension {seat} is not a device of tenant {result.tenant.code}")
        elif agent is not None:
            seat = agent.extension
        seated = bool(agent is not None and seat and acd)
        if seated:
            holder = self.agents.at_extension(result.tenant.code, seat)
            if holder is not None and holder.agent_id != agent.number:
                raise Conflict(f"extension {seat} is taken by agent {holder.agent_id}")
            queues = yield self._queues_of(result.tenant, agent.number)
            tenant_acd = yield self.acd.tenant(result.tenant)
        session = self.sessions.create(
            user=result.user.login,
            role=result.user.role,
            tenant=result.tenant.code,
            agent_id=agent.number if agent else None,
            extension=seat,
            user_id=result.user.id,
            name=result.user.name,
            acd=seated,
            extra={"agent_db_id": agent.id if agent else None},
        )
        log.info("{user} ({role}) logged in to {tenant} at {extension}", user=session.user,
                 role=session.role, tenant=session.tenant, extension=seat or "-")
        if seated:
            present = self._connections_at(session.tenant, seat)
            try:
                view = self.agents.log_on(
                    session.tenant, agent.number, seat, self.now(), name=agent.name,
                    skills=agent.skill_levels(), queues=queues,
                    wrapup_seconds=agent.wrapup_seconds, calls=present,
                )
            except AgentStateError as exc:
                self.sessions.revoke(session.token)
                raise Conflict(str(exc)) from None
            self._publish_agent(view)
            self.acd.login(tenant_acd, agent.number, seat, agent.skill_levels())
            for call_id, state in present.items():
                if state in (ev.CONNECTED, ev.HOLD, ev.INITIATED):
                    self.acd.busy(tenant_acd, agent.number, call_id)
        return session.to_dict()

    def session_info(self, session: Session) -> dict[str, Any]:
        return session.to_dict()

    def logout(self, session: Session) -> None:
        self.sessions.revoke(session.token)
        if session.acd and session.agent_id and not self.sessions.for_agent(session.tenant,
                                                                            session.agent_id):
            view = self.agents.log_off(session.tenant, session.agent_id, self.now())
            if view is not None:
                self._publish_agent(view)
            self._acd_status(session.tenant, session.agent_id, "logged_out", None)
        self._cancel_grace(session)
        self.hub.close_session(session.token)
        log.info("{user} logged out", user=session.user)
        return None

    def openapi_document(self) -> dict[str, Any]:
        return self._openapi()

    def hello(self, session: Session) -> dict[str, Any]:
        agent = self.agents.get(session.tenant, session.agent_id) if session.agent_id else None
        return {
            "session": session.to_dict(),
            "calls": [self.call_dict(call) for call in self._visible_calls(session)],
            "agent": agent.to_dict() if agent else None,
        }

    # -- presence (desktop connections) -------------------------------------------------------

    def stream_connected(self, session: Session) -> None:
        self._cancel_grace(session)

    def stream_disconnected(self, session: Session) -> None:
        """Start the grace period: no reconnect within it -> not_ready (disconnected)."""
        if self._stopped or not (session.agent_id and session.acd):
            return
        if self.hub.streams_of(session.tenant, session.agent_id):
            return
        key = (session.tenant, session.agent_id)
        if key not in self._grace:
            self._grace[key] = self.reactor.callLater(
                self.config.disconnect_grace, self._grace_over, session)

    def _cancel_grace(self, session: Session) -> None:
        if session.agent_id:
            pending = self._grace.pop((session.tenant, session.agent_id), None)
            if pending is not None and pending.active():
                pending.cancel()

    def _grace_over(self, session: Session) -> None:
        self._grace.pop((session.tenant, session.agent_id), None)
        agent = self.agents.get(session.tenant, session.agent_id)
        if agent is None or agent.status in ("logged_out",):
            return
        if self.hub.streams_of(session.tenant, session.agent_id):
            return
        log.warn("agent {agent}'s desktop did not come back: not ready (disconnected)",
                 agent=session.agent_id)
        view = self.agents.set_status(session.tenant, session.agent_id, "not_ready",
                                      "disconnected", self.now())
        self._publish_agent(view)
        self._acd_status(session.tenant, session.agent_id, "not_ready", "disconnected")

    def stop(self) -> None:
        """Cancel every timer and schedule no new one: the streams the hub closes after this
        disconnect later, on a server already gone (and a restarted one must not be touched)."""
        self._stopped = True
        for pending in [*self._grace.values(), *self._queue_pending.values()]:
            if pending.active():
                pending.cancel()
        self._grace.clear()
        self._queue_pending.clear()
        if self._sweep_timer is not None and self._sweep_timer.active():
            self._sweep_timer.cancel()
        self._sweep_timer = None
        self._flush_agent_states()
        self.contexts.stop()
        self.acd.stop()

    # -- calls --------------------------------------------------------------------------------

    def call_dict(self, call: Any) -> dict[str, Any]:
        out = call.to_dict()
        out.setdefault("customer_id", self.pops.customer_of(call))
        out.setdefault("notes", [])
        return out

    def _visible_calls(self, session: Session) -> list[Any]:
        return [call for call in self.calls.calls() if self._may_see(session, call)]

    def _connections_at(self, tenant: str, device: str) -> dict[str, str]:
        """call ID: connection state of the tenant's live calls at `device`."""
        return {call.call_id: call.connections[device].state for call in self.calls.calls()
                if device in call.connections and self.links.tenant_of(call.link) == tenant}

    def _may_see(self, session: Session, call: Any, ever: bool = False) -> bool:
        if self.links.tenant_of(call.link) != session.tenant:
            return False
        if session.is_supervisor:
            return True
        devices = call.parties if ever else call.connections
        return session.extension is not None and session.extension in devices

    def _call(self, session: Session, call_id: str, ended_ok: bool = False) -> Any:
        """The live call (or a finished one when ended_ok), if the caller may see it; else 404."""
        call = self.calls.live(call_id)
        if call is None and ended_ok:
            call = self.calls.ended(call_id)
        if call is None or not self._may_see(session, call, ever=ended_ok):
            raise NotFound(f"no call {call_id}")
        return call

    def list_calls(self, session: Session) -> list[dict[str, Any]]:
        return [self.call_dict(call) for call in self._visible_calls(session)]

    def get_call(self, session: Session, call_id: str) -> dict[str, Any]:
        return self.call_dict(self._call(session, call_id, ended_ok=True))

    def _acting_device(self, session: Session, requested: str | None) -> str:
        if requested:
            device = normalize_device(requested)
            if device is None:
                raise BadRequest(f"bad device {requested!r}")
            if device != session.extension:
                session.require("supervisor")
            if not self.links.serves(session.tenant, device):
                raise NotFound(f"no device {device}")
            return device
        if session.extension is None:
            raise BadRequest("no device: log in with an extension or give \"device\"")
        return session.extension

    @defer.inlineCallbacks
    def make_call(self, session: Session, to: str, from_: str | None) -> Any:
        device = self._acting_device(session, from_)
        called = _number(to, "to")
        driver = self.links.driver_for(session.tenant, device)
        call_id = yield driver.make_call(device, called)
        return {"call_id": str(call_id) if call_id is not None else None}

    @defer.inlineCallbacks
    def call_action(self, session: Session, call_id: str, action: str,
                    body: dict[str, Any]) -> Any:
        call = self._call(session, call_id)
        device = self._acting_device(session, body.get("device"))
        driver = self.links.driver_for(session.tenant, device)
        cid = call.call_id
        if action == "monitor":
            return (yield self._monitor(session, call, body))
        if device not in call.connections:
            raise Conflict(f"device {device} is not on call {cid}")
        if action in ("transfer", "conference", "alternate", "reconnect"):
            other = self._call(session, body["consult_call_id"])
            if device not in other.connections:
                raise Conflict(f"device {device} is not on call {other.call_id}")
            held, active = self._held_and_active(device, call, other)
            command = {
                "transfer": driver.transfer_call, "conference": driver.conference_call,
                "alternate": driver.alternate_call, "reconnect": driver.reconnect_call,
            }[action]
            result = yield command(held, active, device)
            if action in ("transfer", "conference"):
                return {"call_id": str(result) if result else active}
            return {}
        if action == "answer":
            yield driver.answer_call(cid, device)
        elif action == "hangup":
            yield driver.clear_connection(cid, device)
        elif action == "hold":
            yield driver.hold_call(cid, device)
        elif action == "retrieve":
            yield driver.retrieve_call(cid, device)
        elif action == "consult":
            new_id = yield driver.consultation_call(cid, device, _number(body["to"], "to"))
            self.pops.consulting(str(new_id), cid)
            return {"call_id": str(new_id)}
        elif action == "deflect":
            yield driver.deflect_call(cid, device, _number(body["to"], "to"))
        elif action == "single-step-transfer":
            new_id = yield driver.single_step_transfer(cid, device, _number(body["to"], "to"))
            return {"call_id": str(new_id) if new_id else cid}
        elif action == "dtmf":
            digits = body["digits"]
            if not all(ch in "0123456789*#ABCDabcd" for ch in digits):
                raise BadRequest("digits may hold 0-9, *, # and A-D only")
            yield driver.generate_digits(cid, device, digits)
        else:
            raise NotFound(f"no action {action!r}")
        return {}

    @staticmethod
    def _held_and_active(device: str, first: Any, second: Any) -> tuple[str, str]:
        """(held call, active call) at `device`, whichever order the client named them in."""
        if _state(second, device) == ev.HOLD and _state(first, device) != ev.HOLD:
            return second.call_id, first.call_id
        return first.call_id, second.call_id

    @defer.inlineCallbacks
    def _monitor(self, session: Session, call: Any, body: dict[str, Any]) -> Any:
        joining = self._acting_device(session, body.get("from"))
        target = body.get("device")
        agent_device = normalize_device(target) if target else next(
            (d for d in call.connections if self.agents.at_extension(session.tenant, d)), None)
        if agent_device is None or agent_device not in call.connections:
            raise Conflict(f"no agent device to monitor on call {call.call_id}")
        mode = {"listen": "silent", "whisper": "whisper", "barge": "active"}[body["mode"]]
        driver = self.links.driver_for(session.tenant, agent_device)
        new_id = yield driver.single_step_conference(call.call_id, agent_device, joining, mode)
        return {"call_id": str(new_id) if new_id else call.call_id}

    def merge_call_data(self, session: Session, call_id: str,
                        data: dict[str, Any]) -> dict[str, Any]:
        call = self._call(session, call_id)
        try:
            self.calls.attach_data(call.call_id, data)
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
        self.contexts.save(session.tenant, call)
        self._publish_call("updated", call)
        return self.call_dict(call)

    def add_call_note(self, session: Session, call_id: str, text: str) -> dict[str, Any]:
        call = self._call(session, call_id)
        try:
            self.calls.add_note(call.call_id, self.now(), session.user, text)
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        self.contexts.save(session.tenant, call)
        self._publish_call("updated", call)
        return self.call_dict(call)

    @defer.inlineCallbacks
    def dispose_call(self, session: Session, call_id: str, code: str,
                     notes: str | None, customer_id: int | None = None) -> Any:
        """Store the call's outcome as an interaction with its times, on its customer.

        The customer is the one the request names (a caller the agent saved as a new customer
        during the call), else the one the screen-pop found, else the first the tenant's dial
        plan finds for the far party's number (an outbound call is never popped; a customer
        saved with the caller's number after the pop is found that way too).
        """
        call = self._call(session, call_id, ended_ok=True)
        if code not in dict(self.config.dispositions):
            raise BadRequest(f"unknown disposition {code!r}")
        tenant = yield self._tenant(session)
        named = customer_id
        if customer_id is None:
            customer_id = self.pops.customer_of(call)
        far = self._far_number(session.tenant, call) if customer_id is None else None
        text = "\n".join(
            [f"{n.author}: {n.text}" for n in getattr(call, "notes", ())] + ([notes] if notes else [])
        ) or None
        started = datetime.fromtimestamp(call.started, UTC)

        def work(conn: Any) -> tuple[Any, Any]:
            chosen = customer_id
            if chosen is None and far is not None:
                found = db_customers.find_customers_by_phone(conn, tenant, far)
                chosen = found[0].id if found else None
            return chosen, db_customers.add_interaction(
                conn, tenant, chosen, agent_id=session.extra.get("agent_db_id"),
                call_id=call.call_id, started_at=started,
                ended_at=_dt(getattr(call, "ended", None)), disposition=code, notes=text)

        try:
            customer_id, interaction_id = yield self.db.run(work)
        except DbNotFound as exc:
            if named is not None:
                raise NotFound(f"customer_id: {exc}") from None
            raise NotFound(str(exc)) from None
        if getattr(call, "ended", None) is not None:
            self.contexts.disposed(session.tenant, call)
        return {
            "id": interaction_id, "customer_id": customer_id, "call_id": call.call_id,
            "agent_id": session.agent_id, "time": iso_time(call.started),
            "disposition": code, "notes": text,
        }

    def _far_number(self, tenant: str, call: Any) -> str | None:
        """The number of the party outside the tenant's switch: whom an extension dialled,
        else who called. None for a call between two of the tenant's devices."""
        calling = call.calling or call.ani
        if calling is not None and self.links.serves(tenant, calling):
            called = call.called or call.dnis
            return None if called is None or self.links.serves(tenant, called) else called
        return call.ani or calling

    # -- agents -------------------------------------------------------------------------------

    @defer.inlineCallbacks
    def list_agents(self, session: Session) -> Any:
        if not session.is_supervisor:
            view = self.agents.get(session.tenant, session.agent_id) if session.agent_id else None
            return [view.to_dict()] if view else []
        tenant = yield self._tenant(session)
        stored = yield self.db.run(db_agents.list_agents, tenant)
        live = {a.agent_id: a for a in self.agents.of_tenant(session.tenant)}
        out = []
        for agent in stored:
            view = live.pop(agent.number, None) or AgentView(
                session.tenant, agent.number, name=agent.name, extension=agent.extension,
                skills=agent.skill_levels())
            out.append(view.to_dict())
        out.extend(view.to_dict() for view in live.values())
        return out

    def my_agent(self, session: Session) -> dict[str, Any]:
        if not session.agent_id:
            raise NotFound("you are not an agent")
        view = self.agents.get(session.tenant, session.agent_id)
        if view is None:
            return AgentView(session.tenant, session.agent_id, name=session.name,
                             extension=session.extension).to_dict()
        return view.to_dict()

    def set_agent_state(self, session: Session, agent_id: str | None, state: str,
                        reason: str | None) -> dict[str, Any]:
        target = agent_id or session.agent_id
        if target is None:
            raise NotFound("you are not an agent")
        if target != session.agent_id:
            session.require("supervisor")
            if self.agents.get(session.tenant, target) is None:
                raise NotFound(f"no agent {target} logged on")
        if state == "not_ready" and reason and reason not in dict(self.config.reasons) \
                and reason != "disconnected":
            raise BadRequest(f"unknown reason {reason!r} (see GET /api/v1/reasons)")
        try:
            view = self.agents.set_status(session.tenant, target, state, reason, self.now())
        except AgentStateError as exc:
            raise Conflict(str(exc)) from None
        self._publish_agent(view)
        self._acd_status(session.tenant, target, state, reason)
        return view.to_dict()

    def _acd_status(self, tenant: str, agent_id: str, status: str, reason: str | None) -> None:
        acd = self.acd.tenants.get(tenant)
        if acd is not None and agent_id in acd.engine.agents:
            self.acd.set_status(acd, agent_id, status, reason)

    def _acd_agent_state(self, tenant: str, decision: AgentState) -> None:
        view = self.agents.apply_acd(tenant, decision.agent_id, decision.status, decision.state,
                                     decision.reason, self.now())
        if view is not None:
            self._publish_agent(view)

    def _queue_changed(self, tenant: str, queue: str) -> None:
        """Publish queue_stats for `queue`, at most once a second (docs/api.md)."""
        key = (tenant, queue)
        if self._stopped or key in self._queue_pending:
            return
        wait = self._queue_sent.get(key, -1e9) + 1.0 - self.now()
        if wait > 0:
            self._queue_pending[key] = self.reactor.callLater(wait, self._send_queue, key)
        else:
            self._send_queue(key)

    def _send_queue(self, key: tuple[str, str]) -> None:
        self._queue_pending.pop(key, None)
        self._queue_sent[key] = self.now()
        tenant, queue = key
        view = self.acd.queue_views(tenant).get(queue)
        if view is None:
            return
        board = self.agents.of_tenant(tenant)
        message = {"event": "queue_stats", **_queue_object(queue, view, board, view["strategy"],
                                                           view["stats"].get("sl_seconds"))}
        self.hub.publish(message, Audience(tenant, supervisors_only=True))
        members = frozenset(a.agent_id for a in board if queue in a.queues)
        if members:
            message = {k: v for k, v in message.items() if k != "callers"}
            self.hub.publish(message, Audience(tenant, agents=members, personal=True))

    def reasons(self, session: Session) -> list[dict[str, str]]:
        return [{"code": c, "label": label} for c, label in self.config.reasons]

    def dispositions(self, session: Session) -> list[dict[str, str]]:
        return [{"code": c, "label": label} for c, label in self.config.dispositions]

    @defer.inlineCallbacks
    def directory(self, session: Session) -> Any:
        tenant = yield self._tenant(session)
        stored = yield self.db.run(db_agents.list_agents, tenant)
        entries: list[dict[str, str]] = []
        seats = {a.agent_id: a.extension for a in self.agents.of_tenant(session.tenant)}
        for agent in stored:
            number = seats.get(agent.number) or agent.extension
            if number:
                entries.append({"name": agent.name, "number": number, "kind": "agent"})
        taken = {e["number"] for e in entries}
        for device in self.links.devices_of(session.tenant):
            if device not in taken:
                entries.append({"name": f"Extension {device}", "number": device,
                                "kind": "extension"})
        for name, number in self.config.speed_dials:
            entries.append({"name": name, "number": number, "kind": "speed_dial"})
        return entries

    # -- queues -------------------------------------------------------------------------------

    @defer.inlineCallbacks
    def list_queues(self, session: Session) -> Any:
        tenant = yield self._tenant(session)
        stored = yield self.db.run(db_queues.list_queues, tenant)
        mine = None
        if not session.is_supervisor:
            mine = {q.name for q in stored
                    if any(m.agent_number == session.agent_id for m in q.members)}
        board = self.agents.of_tenant(session.tenant)
        yield self.acd.tenant(tenant)
        views = self.acd.queue_views(session.tenant)
        out = []
        for queue in stored:
            if mine is not None and queue.name not in mine:
                continue
            entry = _queue_object(queue.name, views.get(queue.name), board, queue.strategy,
                                  queue.service_level_seconds)
            if mine is not None:
                entry.pop("callers")
            out.append(entry)
        return out

    def _queues_of(self, tenant: Tenant, agent_number: str) -> Any:
        def work(conn: Any) -> list[str]:
            return [q.name for q in db_queues.list_queues(conn, tenant)
                    if any(m.agent_number == agent_number for m in q.members)]

        return self.db.run(work)

    # -- switch events in ---------------------------------------------------------------------

    def on_event(self, link: str, event: ev.Event) -> None:
        """One normalised event from a link: model, agents, stream, screen-pop, records."""
        tenant = self.links.tenant_of(link)
        if event.link is None:
            event.link = link
        self._schedule_sweep()
        before = self.calls.live(event.call_id) if event.call_id else None
        devices_before = set(before.connections) if before is not None else set()
        olds = [self.calls.live(old) for old in event.old_call_ids]
        previous = [
            (set(call.connections), self.pops.customer_of(call) is not None)
            for call in {id(c): c for c in (before, *olds) if c is not None}.values()
        ]
        try:
            finished = self.calls.apply(event)
        except Exception:
            log.failure("call model refused {event}", event=event.event)
            finished = []
        after = self.calls.live(event.call_id) if event.call_id else None
        devices = devices_before | ({event.device} if event.device else set())
        if after is not None:
            devices |= set(after.connections)
        for old in olds:
            if old is not None:
                devices |= set(old.connections)
        devices.discard(None)
        audience = Audience(tenant, frozenset(devices))
        if event.event not in (ev.LINK_UP, ev.LINK_DOWN, ev.SNAPSHOT_DEVICE):
            self.hub.publish(event.to_dict(), audience)
        else:
            self.hub.publish(event.to_dict(), Audience(tenant, supervisors_only=True))
        if after is not None:
            self._publish_call("created" if before is None else "updated", after)
        if event.old_call_ids:
            self.pops.merged(event.old_call_ids)
        self._finished(tenant, link, finished)
        if event.old_call_ids and after is not None:
            self.contexts.save(tenant, after)
        elif event.event in (ev.SNAPSHOT_DEVICE, ev.SNAPSHOT_CALL) and self.calls.created:
            self.contexts.restore(tenant, link, [call.call_id for call in self.calls.created])
        for view in self.agents.on_event(tenant, event, self.now()):
            self._publish_agent(view)
        self._agents_off(tenant, finished)
        self.acd.on_event(tenant, event)
        if event.event == ev.DELIVERED:
            self.pops.delivered(tenant, event)
        elif event.event in (ev.TRANSFERRED, ev.CONFERENCED):
            self.pops.moved(tenant, event, previous)

    def _finished(self, tenant: str, link: str, records: list[Any]) -> None:
        """Calls ended: desktops hear of it, records are stored, and what was kept per call
        goes (or, for a later disposition, stays beside the call's history record)."""
        self.pops.ended(records)
        for record in records:
            self._publish_call("ended", record)
            self._store_call(tenant, link, record)
            self.contexts.end(tenant, record)

    def _agents_off(self, tenant: str, records: list[Any]) -> None:
        """Agents still on an ended call (no clearing event said so) are off it."""
        if records:
            ids = [call_id for record in records for call_id in record.call_ids]
            for view in self.agents.calls_ended(tenant, ids, self.now()):
                self._publish_agent(view)
            self.acd.calls_ended(tenant, ids)

    def sweep_calls(self) -> None:
        """End the calls no event will end any more, as if cleared; then look again later."""
        if self._sweep_timer is not None and self._sweep_timer.active():
            self._sweep_timer.cancel()
        self._sweep_timer = None
        for record in self.calls.sweep(self.now(), IDLE_CALL_SECONDS):
            link = record.link or ""
            tenant = self.links.tenant_of(link)
            self._finished(tenant, link, [record])
            self._agents_off(tenant, [record])
        self._schedule_sweep()

    def _schedule_sweep(self) -> None:
        if not self._stopped and self._sweep_timer is None:
            self._sweep_timer = self.reactor.callLater(SWEEP_SECONDS, self.sweep_calls)

    @defer.inlineCallbacks
    def _store_call(self, tenant_code: str, link: str, call: Any) -> Any:
        """The finished call as a call record row (keyed so a replay stores it once)."""
        inside = self.links.serves
        calling_in = bool(call.calling) and inside(tenant_code, call.calling)
        called_in = bool(call.called) and inside(tenant_code, call.called)
        direction = {(True, True): "internal", (True, False): "out",
                     (False, True): "in"}.get((calling_in, called_in))
        answered = call.answered
        try:
            tenant = yield self.tenant(tenant_code)
            yield self.db.record_call(DbCallRecord(
                source=self.links.scheme_of(link), started_at=_dt(call.started),
                tenant_id=tenant.id, link=link, call_id=call.call_id,
                answered_at=_dt(answered), ended_at=_dt(call.ended),
                extension=call.answered_by, calling=call.calling, called=call.called,
                number=call.ani if direction != "out" else call.dnis or call.called,
                direction=direction,
                ring_seconds=round(answered - call.started) if answered else None,
                duration_seconds=round(call.ended - (answered or call.started)),
                record_key=f"{link}:{call.call_id}:{call.started:.3f}"[:64],
            ))
        except Exception as exc:
            log.warn("call record of {call} not stored: {error}", call=call.call_id, error=exc)

    def _context_restored(self, tenant: str, contexts: list[CallContext]) -> None:
        """Stored contexts read back for calls a snapshot rebuilt (after a server restart):
        data, notes and customer go back on the live calls, and their desktops hear of it."""
        for context in contexts:
            call = self.calls.restore_context(context)
            if call is None:
                continue
            if context.customer_id is not None and self.pops.customer_of(call) is None:
                # The call's own IDs only: a stored ID the rebuilt call does not carry would
                # never be cleared with it.
                self.pops.remember(context.customer_id, *call.aliases, call.call_id)
            self._publish_call("updated", call)

    # -- publishing ---------------------------------------------------------------------------

    def _publish_agent(self, view: AgentView) -> None:
        self._store_agent_state(view)
        self.hub.publish(
            {"event": "agent_state", **view.to_dict()},
            Audience(view.tenant, frozenset({view.extension} if view.extension else ()),
                     frozenset({view.agent_id})),
        )

    def _store_agent_state(self, view: AgentView) -> None:
        """A row per change for the agent reports (status/state, as the board shows it).

        Rows are gathered for AGENT_STATE_FLUSH_SECONDS and written in one transaction: one
        transaction per change (two per call) kept the database threads, and so the GIL and
        the screen-pop lookups beside them, busy at a high call rate."""
        acd = self.acd.tenants.get(view.tenant)
        agent_db_id = acd.agent_ids.get(view.agent_id) if acd is not None else None
        if agent_db_id is None:
            return
        state = view.status if view.state in ("idle", "logged_out") else view.state
        self._agent_rows.append((acd.record, agent_db_id, state, _dt(self.now()), view.reason,
                                 view.extension))
        if self._agent_flush is None:
            self._agent_flush = self.reactor.callLater(AGENT_STATE_FLUSH_SECONDS,
                                                       self._flush_agent_states)

    def _flush_agent_states(self) -> None:
        if self._agent_flush is not None and self._agent_flush.active():
            self._agent_flush.cancel()
        self._agent_flush = None
        rows, self._agent_rows = self._agent_rows, []
        if not rows:
            return

        def work(conn: Any) -> None:
            for tenant, agent_db_id, state, at, reason, extension in rows:
                db_calls.record_agent_state(conn, tenant, agent_db_id, state, at,
                                            reason=reason, extension=extension)

        self.db.run(work).addErrback(lambda f: log.warn(
            "{count} agent state rows lost: {error}", count=len(rows),
            error=f.getErrorMessage()))

    def _publish_call(self, kind: str, call: Any) -> None:
        devices = set(getattr(call, "connections", ()) or getattr(call, "parties", ()))
        self.hub.publish(
            {"event": "call", "kind": kind, "call": self.call_dict(call)},
            Audience(self.links.tenant_of(call.link), frozenset(devices)),
        )

    # -- helpers ------------------------------------------------------------------------------

    @defer.inlineCallbacks
    def _tenant(self, session: Session) -> Any:
        return (yield self.tenant(session.tenant))

    @defer.inlineCallbacks
    def tenant(self, code: str) -> Any:
        if code not in self._tenants:
            try:
                self._tenants[code] = yield self.db.run(db_tenants.get_tenant, code)
            except DbNotFound:
                raise Unavailable(f"tenant {code!r} is not in the database") from None
        return self._tenants[code]


def _queue_object(name: str, view: dict[str, Any] | None, board: list[AgentView],
                  strategy: str, sl_seconds: float | None) -> dict[str, Any]:
    """The queue object of docs/api.md from the ACD's view and the agents on the board."""
    view = view or {}
    on = [a for a in board if name in a.queues and a.status != "logged_out"]
    stats = dict(view.get("stats") or {})
    callers = [
        {"call_id": c["call_id"], "calling": c.get("calling"), "waited": round(c["waited"], 3),
         "position": index + 1, "priority": c.get("priority", 0)}
        for index, c in enumerate(view.get("callers", ()))
    ]
    return {
        "queue": name,
        "name": name,
        "strategy": strategy,
        "waiting": view.get("waiting", 0),
        "longest_wait": round(view.get("longest_wait", 0.0), 3),
        "agents_ready": sum(1 for a in on if a.status == "ready" and a.state == "idle"),
        "agents_busy": sum(1 for a in on if a.state in ("ringing", "in_call")),
        "agents_logged_on": len(on),
        "callers": callers,
        "stats": {
            "offered": stats.get("offered", 0), "answered": stats.get("answered", 0),
            "abandoned": stats.get("abandoned", 0), "asa": stats.get("asa"),
            "aht": stats.get("aht"), "service_level": stats.get("service_level"),
            "service_level_2": stats.get("service_level_2"), "occupancy": None,
            "sl_seconds": sl_seconds,
        },
    }


def _number(text: str, field: str) -> str:
    number = normalize_device(text)
    if number is None:
        raise BadRequest(f"{field}: {text!r} is not a dialable number")
    return number


def _state(call: Any, device: str) -> str | None:
    conn = call.connections.get(device)
    return getattr(conn, "state", conn)


def _dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)
