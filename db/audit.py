"""The audit log: every administrative change, who made it and what it changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select

from db import models as m
from db.records import AuditEntry


def audit(
    conn: Connection,
    tenant_id: int | None,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    changes: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(m.AuditEntry).values(
            tenant_id=tenant_id,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            changes=changes or {},
        )
    )


def list_audit(conn: Connection, tenant_id: int, limit: int = 100) -> list[AuditEntry]:
    rows = conn.execute(
        select(m.AuditEntry)
        .where(m.AuditEntry.tenant_id == tenant_id)
        .order_by(m.AuditEntry.id.desc())
        .limit(limit)
    )
    return [
        AuditEntry(r.at, r.actor, r.action, r.entity, r.entity_id, r.changes) for r in rows
    ]


def latest_id(conn: Connection, tenant_ids: list[int] | None = None) -> dict[int, int]:
    """The newest audit entry id per tenant (all tenants, or those named): a cheap way for a
    running server to notice that someone changed the administration under it."""
    query = select(m.AuditEntry.tenant_id, func.max(m.AuditEntry.id)).where(
        m.AuditEntry.tenant_id.is_not(None)).group_by(m.AuditEntry.tenant_id)
    if tenant_ids is not None:
        query = query.where(m.AuditEntry.tenant_id.in_(tenant_ids))
    return {tenant_id: newest for tenant_id, newest in conn.execute(query)}
