"""What happened: call detail records, the agent state log and the queue event log.

These are written by the server (from the ACD's decisions and the drivers' events) and read by
reports. Call records are keyed by `record_key`, so storing the same record twice (a retry, a
spool replay after a partial write) stores it once.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError

from db import models as m
from db.records import AgentStateChange, CallRecord, QueueEvent, Tenant

# Built once: these run for every call and every agent state change, and the statements
# cost more to build than to execute. A call record is inserted first and looked for only if
# the insert fails, so a new record (nearly all of them) costs one round trip, not two.
_INSERT_CALL = insert(m.CallRecord)
_INSERT_AGENT_STATE = insert(m.AgentStateChange)
_INSERT_QUEUE_EVENT = insert(m.QueueEvent)


def record_call(conn: Connection, record: CallRecord) -> bool:
    """Store a call record; False (and nothing written) if its record_key is already stored."""
    if record.direction is not None and record.direction not in m.DIRECTIONS:
        raise ValueError(f"bad direction {record.direction!r} (one of {', '.join(m.DIRECTIONS)})")
    try:
        conn.execute(_INSERT_CALL, dataclasses.asdict(record))
    except IntegrityError:
        # Stored before (a retry, a replay, another server), or refused for another reason.
        if _call_exists(conn, record.record_key):
            return False
        raise
    return True


def list_calls(
    conn: Connection,
    tenant: Tenant,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> list[CallRecord]:
    query = select(m.CallRecord).where(m.CallRecord.tenant_id == tenant.id)
    if since is not None:
        query = query.where(m.CallRecord.started_at >= since)
    if until is not None:
        query = query.where(m.CallRecord.started_at < until)
    rows = conn.execute(query.order_by(m.CallRecord.started_at, m.CallRecord.id).limit(limit))
    names = [f.name for f in dataclasses.fields(CallRecord)]
    return [CallRecord(**{name: getattr(r, name) for name in names}) for r in rows]


def get_call(conn: Connection, record_key: str) -> CallRecord | None:
    row = conn.execute(select(m.CallRecord).where(m.CallRecord.record_key == record_key)).first()
    if row is None:
        return None
    return CallRecord(**{f.name: getattr(row, f.name) for f in dataclasses.fields(CallRecord)})


def record_agent_state(
    conn: Connection,
    tenant: Tenant,
    agent_id: int,
    state: str,
    at: datetime,
    *,
    reason: str | None = None,
    extension: str | None = None,
) -> None:
    conn.execute(_INSERT_AGENT_STATE, {
        "tenant_id": tenant.id, "agent_id": agent_id, "state": state, "at": at,
        "reason": reason, "extension": extension,
    })


def agent_states(
    conn: Connection, tenant: Tenant, agent_id: int | None = None, limit: int = 1000
) -> list[AgentStateChange]:
    query = select(m.AgentStateChange).where(m.AgentStateChange.tenant_id == tenant.id)
    if agent_id is not None:
        query = query.where(m.AgentStateChange.agent_id == agent_id)
    rows = conn.execute(query.order_by(m.AgentStateChange.at, m.AgentStateChange.id).limit(limit))
    return [AgentStateChange(r.agent_id, r.at, r.state, r.reason, r.extension) for r in rows]


def record_queue_event(
    conn: Connection,
    tenant: Tenant,
    event: str,
    at: datetime,
    *,
    queue_id: int | None = None,
    call_id: str | None = None,
    agent_id: int | None = None,
    wait_seconds: float | None = None,
    position: int | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """One line of the queue log (event names: db.models.QUEUE_EVENTS)."""
    if event not in m.QUEUE_EVENTS:
        raise ValueError(f"unknown queue event {event!r} (one of {', '.join(m.QUEUE_EVENTS)})")
    conn.execute(_INSERT_QUEUE_EVENT, {
        "tenant_id": tenant.id, "queue_id": queue_id, "call_id": call_id, "agent_id": agent_id,
        "at": at, "event": event, "wait_seconds": wait_seconds, "position": position,
        "reason": reason, "data": data or {},
    })


def queue_events(
    conn: Connection, tenant: Tenant, queue_id: int | None = None, limit: int = 1000
) -> list[QueueEvent]:
    query = select(m.QueueEvent).where(m.QueueEvent.tenant_id == tenant.id)
    if queue_id is not None:
        query = query.where(m.QueueEvent.queue_id == queue_id)
    rows = conn.execute(query.order_by(m.QueueEvent.at, m.QueueEvent.id).limit(limit))
    return [
        QueueEvent(r.queue_id, r.at, r.event, r.call_id, r.agent_id, r.wait_seconds, r.position,
                   r.reason, dict(r.data or {}))
        for r in rows
    ]


def _call_exists(conn: Connection, record_key: str) -> bool:
    return (
        conn.execute(
            select(m.CallRecord.id).where(m.CallRecord.record_key == record_key)
        ).first()
        is not None
    )
