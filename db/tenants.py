"""Tenants: the client companies of the platform, each with the dial plan of its callers."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select

from cti.numbers import DialPlan
from db import models as m
from db.audit import audit
from db.errors import NotFound
from db.records import Tenant


def create_tenant(
    conn: Connection,
    code: str,
    name: str,
    *,
    dial_plan: DialPlan | None = None,
    time_zone: str = "UTC",
    actor: str = "system",
) -> Tenant:
    plan = dial_plan or DialPlan()
    tenant_id = conn.execute(
        insert(m.Tenant).values(
            code=code,
            name=name,
            country_code=plan.country_code,
            trunk_prefix=plan.trunk_prefix,
            international_prefix=plan.international_prefix,
            national_length=plan.national_length,
            outside_prefix=plan.outside_prefix,
            time_zone=time_zone,
        )
    ).inserted_primary_key[0]
    audit(conn, tenant_id, actor, "create", "tenant", tenant_id, {"code": code, "name": name})
    return Tenant(tenant_id, code, name, plan, time_zone)


def delete_tenant(conn: Connection, code: str, *, actor: str = "system") -> None:
    """Remove a tenant and everything it owns (the foreign keys cascade)."""
    tenant = get_tenant(conn, code)
    conn.execute(delete(m.Tenant).where(m.Tenant.id == tenant.id))
    audit(conn, None, actor, "delete", "tenant", tenant.id, {"code": code})


def get_tenant(conn: Connection, code: str) -> Tenant:
    row = conn.execute(select(m.Tenant).where(m.Tenant.code == code)).first()
    if row is None:
        raise NotFound(f"no tenant {code!r}")
    return _tenant(row)


def get_tenant_by_id(conn: Connection, tenant_id: int) -> Tenant:
    row = conn.execute(select(m.Tenant).where(m.Tenant.id == tenant_id)).first()
    if row is None:
        raise NotFound(f"no tenant with id {tenant_id}")
    return _tenant(row)


def list_tenants(conn: Connection) -> list[Tenant]:
    return [_tenant(row) for row in conn.execute(select(m.Tenant).order_by(m.Tenant.code))]


def _tenant(row) -> Tenant:
    plan = DialPlan(
        country_code=row.country_code,
        trunk_prefix=row.trunk_prefix,
        international_prefix=row.international_prefix,
        national_length=row.national_length,
        outside_prefix=row.outside_prefix,
    )
    return Tenant(row.id, row.code, row.name, plan, row.time_zone)
