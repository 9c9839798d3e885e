"""Administration through the API: write through db/ (audited under the administrator's login)
and apply the change to the tenant's running ACD at once.

The database stays the one source of truth: every change is a db/ repository call, then
AcdRunner.reload brings the live engine in line with what is stored, exactly as the audit-log
poll does for changes made by `cti admin` in another process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from sqlalchemy.exc import IntegrityError
from twisted.internet import defer

from cti.acd.config import AcdError
from cti.api.auth import Session
from cti.api.errors import BadRequest, Conflict, NotFound
from cti.server.acdconfig import OPTION_KEYS, checked_options, queue_config
from db import agents as db_agents
from db import queues as db_queues
from db.errors import NotFound as DbNotFound

QUEUE_COLUMNS = {
    "max_length": "max_length", "max_wait": "max_wait_seconds", "wrapup": "wrapup_seconds",
    "service_level": "service_level_seconds", "ring_timeout": "ring_timeout_seconds",
    "priority": "priority", "overflow_number": "overflow_target",
    "closed_number": "closed_target", "join_empty": "join_empty",
    "leave_when_empty": "leave_when_empty", "announce_position": "announce_position",
}
"""API field -> db column of a queue; OPTION_KEYS go to the queue's options."""


class Admin:
    def __init__(self, database: Any, tenant: Callable[[str], Any], acd: Any) -> None:
        self.db = database
        self.tenant = tenant
        self.acd = acd

    @defer.inlineCallbacks
    def _change(self, session: Session, work: Callable[..., Any]) -> Any:
        """Run `work(conn, tenant, actor)` in one transaction, then apply it to the live ACD."""
        tenant = yield self.tenant(session.tenant)
        try:
            result = yield self.db.run(work, tenant, session.user)
        except DbNotFound as exc:
            raise NotFound(str(exc)) from None
        except (ValueError, AcdError) as exc:
            raise BadRequest(str(exc)) from None
        except _Duplicate as exc:
            raise Conflict(str(exc)) from None
        except IntegrityError:
            raise Conflict("already exists") from None
        yield self.acd.reload(session.tenant)
        return result

    @defer.inlineCallbacks
    def _read(self, session: Session, work: Callable[..., Any]) -> Any:
        tenant = yield self.tenant(session.tenant)
        try:
            return (yield self.db.run(work, tenant))
        except DbNotFound as exc:
            raise NotFound(str(exc)) from None

    # -- agents and skills --------------------------------------------------------------------

    def list_agents(self, session: Session) -> Any:
        return self._read(session, lambda conn, t: [
            _agent(a) for a in db_agents.list_agents(conn, t)])

    def create_agent(self, session: Session, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            if _exists(lambda: db_agents.get_agent_by_number(conn, tenant, body["number"])):
                raise _Duplicate(f"agent {body['number']!r} already exists")
            return _agent(db_agents.create_agent(
                conn, tenant, body["number"], body["password"], name=body.get("name"),
                role=body.get("role", "agent"), extension=body.get("extension"),
                skills=body.get("skills") or {}, wrapup_seconds=body.get("wrapup"), actor=actor))

        return self._change(session, work)

    def update_agent(self, session: Session, number: str, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            fields = {k: body[k] for k in ("name", "extension") if k in body}
            if "wrapup" in body:
                fields["wrapup_seconds"] = body["wrapup"]
            agent = db_agents.update_agent(conn, tenant, number, password=body.get("password"),
                                           actor=actor, **fields)
            if "skills" in body:
                db_agents.set_agent_skills(conn, tenant, agent.id, body["skills"] or {},
                                           actor=actor)
            return _agent(db_agents.get_agent(conn, tenant, agent.id))

        return self._change(session, work)

    def delete_agent(self, session: Session, number: str) -> Any:
        return self._change(session, lambda conn, t, actor: db_agents.delete_agent(
            conn, t, number, actor=actor))

    def list_skills(self, session: Session) -> Any:
        return self._read(session, lambda conn, t: [
            {"skill": name} for name in db_agents.list_skills(conn, t)])

    def create_skill(self, session: Session, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            if body["skill"] in db_agents.list_skills(conn, tenant):
                raise _Duplicate(f"skill {body['skill']!r} already exists")
            db_agents.create_skill(conn, tenant, body["skill"], actor=actor)
            return {"skill": body["skill"]}

        return self._change(session, work)

    def delete_skill(self, session: Session, name: str) -> Any:
        return self._change(session, lambda conn, t, actor: db_agents.delete_skill(
            conn, t, name, actor=actor))

    # -- queues and members -------------------------------------------------------------------

    def list_queues(self, session: Session) -> Any:
        return self._read(session, lambda conn, t: [
            _queue(q) for q in db_queues.list_queues(conn, t)])

    def create_queue(self, session: Session, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            if _exists(lambda: db_queues.get_queue(conn, tenant, body["name"])):
                raise _Duplicate(f"queue {body['name']!r} already exists")
            columns, options, refs = _queue_fields(body)
            queue = db_queues.create_queue(
                conn, tenant, body["name"], body.get("strategy", "longest-idle"),
                options={k: v for k, v in options.items() if v is not None}, skills=body.get("skills") or {}, actor=actor,
                **{k: v for k, v in refs.items() if v}, **columns)
            queue_config(queue, tenant.code)
            return _queue(queue)

        return self._change(session, work)

    def update_queue(self, session: Session, name: str, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            columns, options, refs = _queue_fields(body)
            queue = db_queues.update_queue(conn, tenant, name, strategy=body.get("strategy"),
                                           options=options, actor=actor, **refs, **columns)
            if "skills" in body:
                db_queues.set_queue_skills(conn, tenant, name, body["skills"] or {}, actor=actor)
                queue = db_queues.get_queue(conn, tenant, name)
            queue_config(queue, tenant.code)
            return _queue(queue)

        return self._change(session, work)

    def delete_queue(self, session: Session, name: str) -> Any:
        return self._change(session, lambda conn, t, actor: db_queues.delete_queue(
            conn, t, name, actor=actor))

    def list_members(self, session: Session, queue: str) -> Any:
        return self._read(session, lambda conn, t: [
            _member(m) for m in db_queues.get_queue(conn, t, queue).members])

    def add_member(self, session: Session, queue: str, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            agent = db_agents.get_agent_by_number(conn, tenant, body["agent"])
            members = db_queues.get_queue(conn, tenant, queue).members
            if any(m.agent_id == agent.id for m in members):
                raise _Duplicate(f"agent {body['agent']} is already a member of {queue}")
            _check_member(body)
            db_queues.add_queue_member(conn, tenant, queue, agent.id,
                                       penalty=body.get("penalty", 0),
                                       weight=body.get("weight", 1),
                                       position=body.get("position", 0), actor=actor)
            return _member_of(conn, tenant, queue, agent.id)

        return self._change(session, work)

    def update_member(self, session: Session, queue: str, number: str,
                      body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            agent = db_agents.get_agent_by_number(conn, tenant, number)
            _check_member(body)
            db_queues.update_queue_member(conn, tenant, queue, agent.id,
                                          penalty=body.get("penalty"),
                                          weight=body.get("weight"),
                                          position=body.get("position"), actor=actor)
            return _member_of(conn, tenant, queue, agent.id)

        return self._change(session, work)

    def remove_member(self, session: Session, queue: str, number: str) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> None:
            agent = db_agents.get_agent_by_number(conn, tenant, number)
            _member_of(conn, tenant, queue, agent.id)
            db_queues.remove_queue_member(conn, tenant, queue, agent.id, actor=actor)

        return self._change(session, work)

    # -- numbers ------------------------------------------------------------------------------

    def list_numbers(self, session: Session) -> Any:
        return self._read(session, lambda conn, t: [
            {"number": r.number, "queue": r.queue, "ivr": r.ivr}
            for r in db_queues.list_numbers(conn, t)])

    def create_number(self, session: Session, body: dict[str, Any]) -> Any:
        def work(conn: Any, tenant: Any, actor: str) -> dict[str, Any]:
            canonical = tenant.dial_plan.canonical(body["number"])
            if canonical and db_queues.route_number(conn, canonical, tenant.dial_plan):
                raise _Duplicate(f"number {body['number']} is already routed")
            stored = db_queues.create_number(conn, tenant, body["number"],
                                             queue=body.get("queue"), ivr=body.get("ivr"),
                                             description=body.get("description"), actor=actor)
            return {"number": stored, "queue": body.get("queue"), "ivr": body.get("ivr")}

        return self._change(session, work)

    def delete_number(self, session: Session, number: str) -> Any:
        return self._change(session, lambda conn, t, actor: db_queues.delete_number(
            conn, t, number, actor=actor))


class _Duplicate(Exception):
    """A row the administrator asked for exists already (409, not 500)."""


def _exists(lookup: Callable[[], Any]) -> bool:
    try:
        lookup()
    except DbNotFound:
        return False
    return True


def _check_member(body: dict[str, Any]) -> None:
    if body.get("penalty", 0) < 0 or body.get("position", 0) < 0:
        raise ValueError("penalty and position must be >= 0")
    if body.get("weight", 1) <= 0:
        raise ValueError("weight must be > 0")


def _member_of(conn: Any, tenant: Any, queue: str, agent_id: int) -> dict[str, Any]:
    for member in db_queues.get_queue(conn, tenant, queue).members:
        if member.agent_id == agent_id:
            return _member(member)
    raise DbNotFound(f"agent {agent_id} is not a member of queue {queue!r}")


def _queue_fields(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    columns = {column: body[field] for field, column in QUEUE_COLUMNS.items() if field in body}
    for column in ("wrapup_seconds", "service_level_seconds", "ring_timeout_seconds"):
        if columns.get(column, 0) is None or columns.get(column, 0) < 0:
            raise ValueError(f"{column.removesuffix('_seconds')} must be a number >= 0")
    options = checked_options({key: body[key] for key in OPTION_KEYS if key in body})
    refs = {key: body[key] for key in ("overflow_queue", "schedule") if key in body}
    return columns, options, refs


def _agent(agent: Any) -> dict[str, Any]:
    return {"number": agent.number, "name": agent.name, "role": agent.role,
            "extension": agent.extension, "wrapup": agent.wrapup_seconds,
            "skills": agent.skill_levels()}


def _member(member: Any) -> dict[str, Any]:
    return {"agent": member.agent_number, "penalty": member.penalty, "weight": member.weight,
            "position": member.position}


def _queue(queue: Any) -> dict[str, Any]:
    row = asdict(queue)
    for key in ("id", "tenant_id"):
        row.pop(key)
    row["members"] = [_member(m) for m in queue.members]
    row["skills"] = {s.skill: s.min_level for s in queue.skills}
    return row
