"""The JSON shapes of docs/api.md for the database's records (customers, interactions, tickets)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cti.events import iso_time


def customer_dict(customer: Any) -> dict[str, Any]:
    address = None
    if customer.addresses:
        a = customer.addresses[0]
        address = ", ".join(p for p in (a.street, a.postal_code, a.city, a.region, a.country) if p)
    return {
        "id": customer.id,
        "name": customer.name,
        "company": customer.company,
        "phones": [p.number for p in customer.phones],
        "emails": [customer.email] if customer.email else [],
        "address": address,
        "vip": customer.vip,
        "fields": dict(customer.custom or {}),
        "notes": customer.notes,
    }


def interaction_dict(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "customer_id": item.customer_id,
        "call_id": item.call_id,
        "agent_id": item.agent_number,
        "time": _iso_dt(item.started_at),
        "ended": _iso_dt(item.ended_at),
        "channel": item.channel,
        "disposition": item.disposition,
        "notes": item.notes,
    }


def ticket_dict(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "customer_id": item.customer_id,
        "type": item.type,
        "subject": item.subject,
        "body": item.body,
        "status": item.status,
        "created": _iso_dt(item.created_at),
        "updated": _iso_dt(item.updated_at),
    }


def _iso_dt(value: datetime | None) -> str | None:
    if value is None:
        return None
    return iso_time(value.timestamp())

