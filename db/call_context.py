"""A live call's context: attached data, notes, the customer its screen-pop found, and its
numbers (a switch's snapshot lists a call's devices, not its calling and called numbers).

The server keeps these in memory while the call lives and writes each change through to here,
so a restarted server gives them back to the calls its links' snapshots rebuild (the switch
keeps call IDs, not what the agents typed). A context is found by any of its call's IDs on its
link: transfer and conference give a call new IDs, and the first agent's notes must reach the
next one. The server's memory is the truth while it runs, so a save replaces what is stored
(merging the rows of calls a transfer joined) rather than adding to it.

Rows of ended calls stay until the disposition is written or the retention time has passed
(`expire_contexts`); only live ones (`ended_at` NULL) are restored.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from db import models as m
from db.records import Tenant
from db.types import utcnow

MAX_ID = 64


@dataclass(frozen=True, slots=True)
class ContextNote:
    time: float
    """Seconds since the epoch, as the call model keeps it."""
    author: str | None
    text: str


@dataclass(frozen=True, slots=True)
class CallContext:
    link: str
    call_id: str
    """The call's current ID."""
    call_ids: tuple[str, ...] = ()
    """Every ID the call had (the current one included); a stored context answers to each."""
    customer_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notes: tuple[ContextNote, ...] = ()
    calling: str | None = None
    """The call's numbers as the switch reported them; a snapshot carries none, so a call it
    rebuilds takes them from here."""
    called: str | None = None
    ani: str | None = None
    dnis: str | None = None
    ended_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.call_ids, self.call_id)))


def save_context(conn: Connection, tenant: Tenant, context: CallContext) -> int:
    """Store the call's whole context in place of what is stored for any of its IDs; the
    rows of several calls a transfer or conference joined become one. Returns the row's id.

    A customer that is not the tenant's (deleted meanwhile, or another tenant's) is not
    stored. Raises ValueError for data that is not a JSON object or IDs that do not fit.
    """
    ids = _checked_ids(context.link, context.ids)
    data, notes = _checked_content(context)
    found = sorted(_live_rows(conn, tenant, context.link, ids))
    values = {
        "call_id": context.call_id,
        "customer_id": _tenant_customer(conn, tenant, context.customer_id),
        "data": data,
        "notes": notes,
        **_numbers(context),
        "ended_at": context.ended_at,
        "updated_at": utcnow(),
    }
    if found:
        row_id, merged = found[0], found[1:]
        conn.execute(update(m.CallContext).where(m.CallContext.id == row_id).values(values))
        if merged:
            conn.execute(delete(m.CallContextId).where(m.CallContextId.context_id.in_(merged)))
            conn.execute(delete(m.CallContext).where(m.CallContext.id.in_(merged)))
        known = set(conn.execute(select(m.CallContextId.call_id)
                                 .where(m.CallContextId.context_id == row_id)).scalars())
    else:
        row_id = conn.execute(insert(m.CallContext).values(
            tenant_id=tenant.id, link=context.link, **values)).inserted_primary_key[0]
        known = set()
    missing = [call_id for call_id in ids if call_id not in known]
    if missing:
        conn.execute(insert(m.CallContextId), [
            {"context_id": row_id, "call_id": call_id, "tenant_id": tenant.id,
             "link": context.link} for call_id in missing])
    return row_id


def load_contexts(conn: Connection, tenant: Tenant, link: str,
                  call_ids: Iterable[str]) -> list[CallContext]:
    """The live contexts stored for any of these calls of the link, each once."""
    ids = [call_id for call_id in dict.fromkeys(call_ids) if call_id and len(call_id) <= MAX_ID]
    if not ids:
        return []
    found = _live_rows(conn, tenant, link, ids)
    if not found:
        return []
    rows = conn.execute(select(m.CallContext).where(m.CallContext.id.in_(found))
                        .order_by(m.CallContext.id)).all()
    aliases: dict[int, list[str]] = {}
    for context_id, call_id in conn.execute(
            select(m.CallContextId.context_id, m.CallContextId.call_id)
            .where(m.CallContextId.context_id.in_(found))):
        aliases.setdefault(context_id, []).append(call_id)
    return [_context(row, aliases.get(row.id, [])) for row in rows]


def end_context(conn: Connection, tenant: Tenant, link: str, call_ids: Iterable[str],
                at: datetime) -> int:
    """Mark the live contexts of this finished call ended; returns how many."""
    found = _live_rows(conn, tenant, link, _checked_ids(link, call_ids))
    if not found:
        return 0
    return conn.execute(update(m.CallContext).where(m.CallContext.id.in_(found))
                        .values(ended_at=at, updated_at=utcnow())).rowcount


def delete_ended_context(conn: Connection, tenant: Tenant, link: str,
                         call_ids: Iterable[str]) -> int:
    """Delete the ended contexts of these IDs (the call's disposition is written); a live call
    that happens to carry one of the IDs keeps its context. Returns how many went."""
    ids = _checked_ids(link, call_ids)
    found = conn.execute(
        select(m.CallContextId.context_id).join(
            m.CallContext, m.CallContext.id == m.CallContextId.context_id)
        .where(m.CallContextId.tenant_id == tenant.id, m.CallContextId.link == link,
               m.CallContextId.call_id.in_(ids), m.CallContext.ended_at.is_not(None))
    ).scalars().unique().all()
    return _delete(conn, found)


EXPIRE_CHUNK = 500


def expire_contexts(conn: Connection, tenant: Tenant, ended_before: datetime,
                    stale_before: datetime, limit: int = EXPIRE_CHUNK) -> int:
    """Delete the tenant's contexts of calls that ended before `ended_before`, and those not
    touched since `stale_before` (calls that ended while no server was watching). Returns how
    many went: at most `limit`, so call again while it returns `limit`.

    Bounded because a server finds every row older than the retention on its first write:
    one transaction deleting 28,000 of them (their IDs bound one by one) held the only SQLite
    writer, and the GIL beside the screen-pop lookups, for half a second."""
    found = conn.execute(
        select(m.CallContext.id).where(
            m.CallContext.tenant_id == tenant.id,
            or_(m.CallContext.ended_at < ended_before, m.CallContext.updated_at < stale_before))
        .limit(limit)
    ).scalars().all()
    return _delete(conn, list(found))


def _delete(conn: Connection, context_ids: list[int]) -> int:
    if not context_ids:
        return 0
    conn.execute(delete(m.CallContextId).where(m.CallContextId.context_id.in_(context_ids)))
    return conn.execute(delete(m.CallContext).where(m.CallContext.id.in_(context_ids))).rowcount


def _live_rows(conn: Connection, tenant: Tenant, link: str, ids: list[str]) -> set[int]:
    return set(conn.execute(
        select(m.CallContextId.context_id).join(
            m.CallContext, m.CallContext.id == m.CallContextId.context_id)
        .where(m.CallContextId.tenant_id == tenant.id, m.CallContextId.link == link,
               m.CallContextId.call_id.in_(ids), m.CallContext.ended_at.is_(None))
    ).scalars())


def _tenant_customer(conn: Connection, tenant: Tenant, customer_id: int | None) -> int | None:
    if customer_id is None:
        return None
    return conn.execute(select(m.Customer.id).where(
        m.Customer.id == customer_id, m.Customer.tenant_id == tenant.id)).scalar_one_or_none()


def _checked_ids(link: str, call_ids: Iterable[str]) -> list[str]:
    if not isinstance(link, str) or len(link) > MAX_ID:
        raise ValueError(f"link name must be a string of at most {MAX_ID} characters")
    ids = list(dict.fromkeys(call_ids))
    if not ids:
        raise ValueError("a call context needs at least one call ID")
    bad = [call_id for call_id in ids
           if not isinstance(call_id, str) or not call_id or len(call_id) > MAX_ID]
    if bad:
        raise ValueError(f"bad call ID {bad[0]!r} (1 to {MAX_ID} characters)")
    return ids


def _checked_content(context: CallContext) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if not isinstance(context.data, dict) or not all(isinstance(k, str) for k in context.data):
        raise ValueError("attached data must be a JSON object with string keys")
    notes = [{"time": float(n.time), "author": n.author, "text": str(n.text)}
             for n in context.notes]
    try:
        json.dumps([context.data, notes], allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"call context of {context.call_id!r} is not JSON: {exc}") from None
    return context.data, notes


NUMBERS = ("calling", "called", "ani", "dnis")


def _numbers(context: CallContext) -> dict[str, str | None]:
    """The context's numbers as stored: one that is not a string of at most MAX_ID characters
    (no switch reports such a number) is left out rather than refusing the data and notes."""
    out: dict[str, str | None] = {}
    for name in NUMBERS:
        number = getattr(context, name)
        out[name] = number if isinstance(number, str) and 0 < len(number) <= MAX_ID else None
    return out


def _context(row: Any, call_ids: list[str]) -> CallContext:
    return CallContext(
        link=row.link, call_id=row.call_id,
        call_ids=tuple(sorted(call_ids, key=lambda c: (c == row.call_id, c))),
        customer_id=row.customer_id, data=dict(row.data or {}),
        notes=tuple(ContextNote(float(n["time"]), n.get("author"), n["text"])
                    for n in row.notes or ()),
        calling=row.calling, called=row.called, ani=row.ani, dnis=row.dnis,
        ended_at=row.ended_at, updated_at=row.updated_at,
    )
