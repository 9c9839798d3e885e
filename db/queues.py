"""Hunt groups and queues, their members and required skills, schedules, and numbers (DNIS).

The ACD reads its configuration through list_queues() and route_number(); administration writes
it through the create/add functions, each of which is audited.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.orm import aliased

from cti.numbers import DialPlan, normalize_device
from db import models as m
from db.agents import ensure_skill
from db.audit import audit
from db.errors import NotFound
from db.records import Queue, QueueMember, QueueSkill, Route, Schedule, ScheduleHours, Tenant
from db.tenants import get_tenant_by_id

QUEUE_SETTINGS = (
    "priority",
    "max_length",
    "max_wait_seconds",
    "wrapup_seconds",
    "service_level_seconds",
    "ring_timeout_seconds",
    "overflow_target",
    "join_empty",
    "leave_when_empty",
    "announce_position",
    "announce_hold_time",
    "closed_target",
)


def create_queue(
    conn: Connection,
    tenant: Tenant,
    name: str,
    strategy: str = "longest-idle",
    *,
    overflow_queue: str | None = None,
    schedule: str | None = None,
    skills: Mapping[str, int] | None = None,
    options: dict[str, Any] | None = None,
    actor: str = "system",
    **settings: Any,
) -> Queue:
    """A queue; `settings` are the named columns (QUEUE_SETTINGS), `options` free-form extras
    (periodic announcements, music class, ...)."""
    if strategy not in m.STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(m.STRATEGIES)})")
    unknown = set(settings) - set(QUEUE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown queue settings: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(settings, tenant_id=tenant.id, name=name, strategy=strategy,
                                  options=options or {})
    if overflow_queue is not None:
        values["overflow_queue_id"] = _queue_id(conn, tenant, overflow_queue)
    if schedule is not None:
        values["schedule_id"] = _schedule_id(conn, tenant, schedule)
    queue_id = conn.execute(insert(m.Queue).values(values)).inserted_primary_key[0]
    audit(conn, tenant.id, actor, "create", "queue", queue_id,
          {k: v for k, v in values.items() if k != "tenant_id"})
    if skills:
        set_queue_skills(conn, tenant, name, skills, actor=actor)
    return get_queue(conn, tenant, name)


def add_queue_member(
    conn: Connection,
    tenant: Tenant,
    queue: str,
    agent_id: int,
    *,
    penalty: int = 0,
    position: int = 0,
    weight: int = 1,
    actor: str = "system",
) -> None:
    queue_id = _queue_id(conn, tenant, queue)
    found = conn.execute(
        select(m.Agent.id).where(m.Agent.tenant_id == tenant.id, m.Agent.id == agent_id)
    ).first()
    if found is None:
        raise NotFound(f"no agent {agent_id} in tenant {tenant.code!r}")
    conn.execute(
        insert(m.QueueMember).values(
            tenant_id=tenant.id, queue_id=queue_id, agent_id=agent_id, penalty=penalty,
            position=position, weight=weight,
        )
    )
    audit(conn, tenant.id, actor, "create", "queue_member", f"{queue_id}/{agent_id}",
          {"queue": queue, "agent_id": agent_id, "penalty": penalty})


def remove_queue_member(
    conn: Connection, tenant: Tenant, queue: str, agent_id: int, *, actor: str = "system"
) -> None:
    queue_id = _queue_id(conn, tenant, queue)
    conn.execute(
        delete(m.QueueMember).where(
            m.QueueMember.tenant_id == tenant.id,
            m.QueueMember.queue_id == queue_id,
            m.QueueMember.agent_id == agent_id,
        )
    )
    audit(conn, tenant.id, actor, "delete", "queue_member", f"{queue_id}/{agent_id}", {})


def set_queue_skills(
    conn: Connection, tenant: Tenant, queue: str, skills: Mapping[str, int], *, actor: str = "system"
) -> None:
    """Replace the skills the queue's callers need (name -> minimum level)."""
    queue_id = _queue_id(conn, tenant, queue)
    conn.execute(
        delete(m.QueueSkill).where(
            m.QueueSkill.tenant_id == tenant.id, m.QueueSkill.queue_id == queue_id
        )
    )
    rows = [
        dict(tenant_id=tenant.id, queue_id=queue_id, skill_id=ensure_skill(conn, tenant, name),
             min_level=int(level))
        for name, level in skills.items()
    ]
    if rows:
        conn.execute(insert(m.QueueSkill), rows)
    audit(conn, tenant.id, actor, "update", "queue", queue_id, {"skills": dict(skills)})


def get_queue(conn: Connection, tenant: Tenant, name: str) -> Queue:
    queues = _load_queues(conn, tenant, m.Queue.name == name)
    if not queues:
        raise NotFound(f"no queue {name!r} in tenant {tenant.code!r}")
    return queues[0]


def list_queues(conn: Connection, tenant: Tenant) -> list[Queue]:
    """Every queue of the tenant with its members (by penalty, position) and required skills."""
    return _load_queues(conn, tenant)


def create_schedule(
    conn: Connection,
    tenant: Tenant,
    name: str,
    hours: Iterable[tuple[int, time, time]],
    holidays: Iterable[date | tuple[date, str]] = (),
    *,
    time_zone: str | None = None,
    actor: str = "system",
) -> Schedule:
    """Opening hours as (weekday 0=Monday, opens, closes) and closed days."""
    if time_zone is not None:
        ZoneInfo(time_zone)
    schedule_id = conn.execute(
        insert(m.Schedule).values(tenant_id=tenant.id, name=name, time_zone=time_zone)
    ).inserted_primary_key[0]
    hour_rows = [
        dict(tenant_id=tenant.id, schedule_id=schedule_id, weekday=day, opens=opens, closes=closes)
        for day, opens, closes in hours
    ]
    if hour_rows:
        conn.execute(insert(m.ScheduleHours), hour_rows)
    holiday_rows = []
    for item in holidays:
        day, label = item if isinstance(item, tuple) else (item, None)
        holiday_rows.append(dict(tenant_id=tenant.id, schedule_id=schedule_id, day=day, name=label))
    if holiday_rows:
        conn.execute(insert(m.ScheduleHoliday), holiday_rows)
    audit(conn, tenant.id, actor, "create", "schedule", schedule_id, {"name": name})
    return get_schedule(conn, tenant, name)


def get_schedule(conn: Connection, tenant: Tenant, name: str) -> Schedule:
    row = conn.execute(
        select(m.Schedule).where(m.Schedule.tenant_id == tenant.id, m.Schedule.name == name)
    ).first()
    if row is None:
        raise NotFound(f"no schedule {name!r} in tenant {tenant.code!r}")
    hours = conn.execute(
        select(m.ScheduleHours.weekday, m.ScheduleHours.opens, m.ScheduleHours.closes)
        .where(m.ScheduleHours.tenant_id == tenant.id, m.ScheduleHours.schedule_id == row.id)
        .order_by(m.ScheduleHours.weekday, m.ScheduleHours.opens)
    ).all()
    holidays = conn.execute(
        select(m.ScheduleHoliday.day)
        .where(m.ScheduleHoliday.tenant_id == tenant.id, m.ScheduleHoliday.schedule_id == row.id)
        .order_by(m.ScheduleHoliday.day)
    ).scalars()
    return Schedule(
        row.id, tenant.id, row.name, row.time_zone or tenant.time_zone,
        tuple(ScheduleHours(*h) for h in hours), tuple(holidays),
    )


def is_open(schedule: Schedule, when: datetime) -> bool:
    """Whether the schedule is open at `when` (aware), judged in the schedule's local time."""
    local = when.astimezone(ZoneInfo(schedule.time_zone))
    if local.date() in schedule.holidays:
        return False
    moment = local.time().replace(tzinfo=None)
    return any(
        h.weekday == local.weekday() and h.opens <= moment < h.closes for h in schedule.hours
    )


def create_number(
    conn: Connection,
    tenant: Tenant,
    number: str,
    *,
    queue: str | None = None,
    ivr: str | None = None,
    description: str | None = None,
    actor: str = "system",
) -> str:
    """Route the dialled number `number` to a queue or an IVR menu of the tenant; returns the
    stored (canonical) form."""
    if (queue is None) == (ivr is None):
        raise ValueError("a number leads to exactly one of a queue or an IVR menu")
    stored = tenant.dial_plan.canonical(number)
    if stored is None:
        raise ValueError(f"not a phone number: {number!r}")
    queue_id = _queue_id(conn, tenant, queue) if queue is not None else None
    conn.execute(
        insert(m.Number).values(
            tenant_id=tenant.id, number=stored, queue_id=queue_id, ivr=ivr, description=description
        )
    )
    audit(conn, tenant.id, actor, "create", "number", stored, {"queue": queue, "ivr": ivr})
    return stored


def route_number(conn: Connection, dnis: str, dial_plan: DialPlan | None = None) -> Route | None:
    """Which tenant and queue/IVR a dialled number belongs to (None if nobody's).

    The DNIS is tried as the switch gave it and, with `dial_plan` (the link's), in canonical
    form, so a trunk delivering national or international spellings finds the same number.
    """
    candidates = {normalize_device(dnis)}
    if dial_plan is not None:
        candidates.add(dial_plan.canonical(dnis))
    candidates.discard(None)
    if not candidates:
        return None
    row = conn.execute(
        select(m.Number.number, m.Number.tenant_id, m.Number.queue_id, m.Number.ivr, m.Queue.name)
        .outerjoin(m.Queue, m.Queue.id == m.Number.queue_id)
        .where(m.Number.number.in_(sorted(candidates)))
        .limit(1)
    ).first()
    if row is None:
        return None
    tenant = get_tenant_by_id(conn, row.tenant_id)
    return Route(row.number, tenant, row.name, row.queue_id, row.ivr)


def list_numbers(conn: Connection, tenant: Tenant) -> list[Route]:
    rows = conn.execute(
        select(m.Number.number, m.Number.queue_id, m.Number.ivr, m.Queue.name)
        .outerjoin(m.Queue, m.Queue.id == m.Number.queue_id)
        .where(m.Number.tenant_id == tenant.id)
        .order_by(m.Number.number)
    )
    return [Route(r.number, tenant, r.name, r.queue_id, r.ivr) for r in rows]


_KEEP: Any = object()


def update_queue(
    conn: Connection,
    tenant: Tenant,
    name: str,
    *,
    strategy: str | None = None,
    overflow_queue: str | None = _KEEP,
    schedule: str | None = _KEEP,
    options: dict[str, Any] | None = None,
    actor: str = "system",
    **settings: Any,
) -> Queue:
    """Change the named settings of a queue; `options` keys are merged (a None value removes
    the key); `overflow_queue` / `schedule` None clear them."""
    queue = get_queue(conn, tenant, name)
    unknown = set(settings) - set(QUEUE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown queue settings: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = dict(settings)
    if strategy is not None:
        if strategy not in m.STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r} (one of {', '.join(m.STRATEGIES)})")
        values["strategy"] = strategy
    if overflow_queue is not _KEEP:
        values["overflow_queue_id"] = (None if overflow_queue is None
                                       else _queue_id(conn, tenant, overflow_queue))
    if schedule is not _KEEP:
        values["schedule_id"] = None if schedule is None else _schedule_id(conn, tenant, schedule)
    if options:
        merged = dict(queue.options)
        for key, value in options.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        values["options"] = merged
    if values:
        conn.execute(update(m.Queue).where(m.Queue.id == queue.id).values(values))
    audit(conn, tenant.id, actor, "update", "queue", queue.id, {"name": name, **values})
    return get_queue(conn, tenant, name)


def delete_queue(conn: Connection, tenant: Tenant, name: str, *, actor: str = "system") -> None:
    """Remove a queue; its numbers stay (leading nowhere) and its history rows go with it."""
    queue_id = _queue_id(conn, tenant, name)
    conn.execute(delete(m.Queue).where(m.Queue.id == queue_id))
    audit(conn, tenant.id, actor, "delete", "queue", queue_id, {"name": name})


def update_queue_member(
    conn: Connection,
    tenant: Tenant,
    queue: str,
    agent_id: int,
    *,
    penalty: int | None = None,
    position: int | None = None,
    weight: int | None = None,
    actor: str = "system",
) -> None:
    queue_id = _queue_id(conn, tenant, queue)
    values = {k: v for k, v in (("penalty", penalty), ("position", position),
                                ("weight", weight)) if v is not None}
    changed = conn.execute(
        update(m.QueueMember).where(
            m.QueueMember.tenant_id == tenant.id, m.QueueMember.queue_id == queue_id,
            m.QueueMember.agent_id == agent_id,
        ).values(values or {"penalty": m.QueueMember.penalty})
    ).rowcount
    if not changed:
        raise NotFound(f"agent {agent_id} is not a member of queue {queue!r}")
    audit(conn, tenant.id, actor, "update", "queue_member", f"{queue_id}/{agent_id}",
          {"queue": queue, "agent_id": agent_id, **values})


def delete_number(conn: Connection, tenant: Tenant, number: str, *, actor: str = "system") -> None:
    stored = tenant.dial_plan.canonical(number) or number
    gone = conn.execute(
        delete(m.Number).where(m.Number.tenant_id == tenant.id, m.Number.number == stored)
    ).rowcount
    if not gone:
        raise NotFound(f"no number {number!r} in tenant {tenant.code!r}")
    audit(conn, tenant.id, actor, "delete", "number", stored, {})


def list_schedules(conn: Connection, tenant: Tenant) -> list[Schedule]:
    names = conn.execute(
        select(m.Schedule.name).where(m.Schedule.tenant_id == tenant.id).order_by(m.Schedule.name)
    ).scalars().all()
    return [get_schedule(conn, tenant, name) for name in names]


def delete_schedule(conn: Connection, tenant: Tenant, name: str, *, actor: str = "system") -> None:
    schedule_id = _schedule_id(conn, tenant, name)
    conn.execute(delete(m.Schedule).where(m.Schedule.id == schedule_id))
    audit(conn, tenant.id, actor, "delete", "schedule", schedule_id, {"name": name})


def _queue_id(conn: Connection, tenant: Tenant, name: str) -> int:
    found = conn.execute(
        select(m.Queue.id).where(m.Queue.tenant_id == tenant.id, m.Queue.name == name)
    ).scalar()
    if found is None:
        raise NotFound(f"no queue {name!r} in tenant {tenant.code!r}")
    return found


def _schedule_id(conn: Connection, tenant: Tenant, name: str) -> int:
    found = conn.execute(
        select(m.Schedule.id).where(m.Schedule.tenant_id == tenant.id, m.Schedule.name == name)
    ).scalar()
    if found is None:
        raise NotFound(f"no schedule {name!r} in tenant {tenant.code!r}")
    return found


def _load_queues(conn: Connection, tenant: Tenant, *conditions) -> list[Queue]:
    overflow = aliased(m.Queue)
    rows = conn.execute(
        select(m.Queue, overflow.name.label("overflow_name"), m.Schedule.name.label("schedule_name"))
        .outerjoin(overflow, overflow.id == m.Queue.overflow_queue_id)
        .outerjoin(m.Schedule, m.Schedule.id == m.Queue.schedule_id)
        .where(m.Queue.tenant_id == tenant.id, *conditions)
        .order_by(m.Queue.name)
    ).all()
    ids = [r.id for r in rows]
    members: dict[int, list[QueueMember]] = defaultdict(list)
    skills: dict[int, list[QueueSkill]] = defaultdict(list)
    if ids:
        for r in conn.execute(
            select(m.QueueMember, m.Agent.number)
            .join(m.Agent, m.Agent.id == m.QueueMember.agent_id)
            .where(m.QueueMember.tenant_id == tenant.id, m.QueueMember.queue_id.in_(ids))
            .order_by(m.QueueMember.penalty, m.QueueMember.position, m.Agent.number)
        ):
            members[r.queue_id].append(
                QueueMember(r.agent_id, r.number, r.penalty, r.position, r.weight)
            )
        for r in conn.execute(
            select(m.QueueSkill.queue_id, m.Skill.name, m.QueueSkill.min_level)
            .join(m.Skill, m.Skill.id == m.QueueSkill.skill_id)
            .where(m.QueueSkill.tenant_id == tenant.id, m.QueueSkill.queue_id.in_(ids))
            .order_by(m.Skill.name)
        ):
            skills[r.queue_id].append(QueueSkill(r.name, r.min_level))
    return [
        Queue(
            id=r.id, tenant_id=tenant.id, name=r.name, strategy=r.strategy, priority=r.priority,
            max_length=r.max_length, max_wait_seconds=r.max_wait_seconds,
            wrapup_seconds=r.wrapup_seconds, service_level_seconds=r.service_level_seconds,
            ring_timeout_seconds=r.ring_timeout_seconds, overflow_queue=r.overflow_name,
            overflow_target=r.overflow_target, join_empty=r.join_empty,
            leave_when_empty=r.leave_when_empty, announce_position=r.announce_position,
            announce_hold_time=r.announce_hold_time, schedule=r.schedule_name,
            closed_target=r.closed_target, options=dict(r.options or {}),
            members=tuple(members.get(r.id, ())), skills=tuple(skills.get(r.id, ())),
        )
        for r in rows
    ]
