"""Customers (the CRM side), their interactions and tickets, and the screen-pop lookup.

Phone numbers are stored once, in the canonical form the tenant's DialPlan gives (E.164 where
the number can be placed), and indexed by (tenant_id, number). A caller ID in any spelling the
dial plan understands (national with trunk prefix, international with access code, E.164) then
becomes the same key, so the screen-pop is one indexed equality lookup.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    Text,
    bindparam,
    func,
    insert,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)

from db import models as m
from db.audit import audit
from db.errors import NotFound
from db.records import (
    Address,
    Contact,
    Customer,
    Interaction,
    Phone,
    ScreenPop,
    Tenant,
    Ticket,
)
from db.types import UTCDateTime, utcnow

PhoneInput = str | tuple[str, str] | Phone
"""A number, a (kind, number) pair, or a Phone."""

# Numbers at least this long that the dial plan leaves without a country code are also tried
# as national numbers whose trunk prefix the switch dropped ("301234567" for "+49301234567").
_MIN_NATIONAL_DIGITS = 7


class InvalidPhone(ValueError):
    pass


def canonical_phone(tenant: Tenant, number: str) -> str:
    """The stored form of `number` for this tenant; InvalidPhone if it is not a phone number."""
    canonical = tenant.dial_plan.canonical(number)
    if not canonical:
        raise InvalidPhone(f"not a phone number: {number!r}")
    return canonical


def lookup_keys(tenant: Tenant, caller: str | None) -> list[str]:
    """The stored forms a caller ID can match, best first."""
    canonical = tenant.dial_plan.canonical(caller)
    if not canonical:
        return []
    keys = [canonical]
    if not canonical.startswith("+") and len(canonical) >= _MIN_NATIONAL_DIGITS:
        keys.append("+" + tenant.dial_plan.country_code + canonical)
    return keys


def create_customer(
    conn: Connection,
    tenant: Tenant,
    name: str,
    *,
    phones: Iterable[PhoneInput] = (),
    company: str | None = None,
    email: str | None = None,
    vip: bool = False,
    priority: int = 0,
    external_ref: str | None = None,
    notes: str | None = None,
    custom: Mapping[str, Any] | None = None,
    addresses: Iterable[Address] = (),
    contacts: Iterable[Contact] = (),
    actor: str | None = None,
) -> int:
    """Store a customer; phone numbers are canonicalised with the tenant's dial plan first, so
    a bad number raises InvalidPhone before anything is written."""
    if not name or not name.strip():
        raise ValueError("a customer needs a name")
    phone_rows = _phone_rows(tenant, phones)
    customer_id = conn.execute(
        insert(m.Customer).values(
            tenant_id=tenant.id, name=name.strip(), company=company, email=email, vip=vip,
            priority=priority, external_ref=external_ref, notes=notes, custom=dict(custom or {}),
        )
    ).inserted_primary_key[0]
    _insert_children(conn, tenant, customer_id, phone_rows, addresses, contacts)
    if actor is not None:
        audit(conn, tenant.id, actor, "create", "customer", customer_id, {"name": name})
    return customer_id


def update_customer(
    conn: Connection,
    tenant: Tenant,
    customer_id: int,
    *,
    phones: Iterable[PhoneInput] | None = None,
    addresses: Iterable[Address] | None = None,
    actor: str = "system",
    **fields: Any,
) -> None:
    """Change the named fields; `phones` or `addresses`, when given, replace the customer's
    numbers or addresses (an empty sequence removes them all)."""
    allowed = {"name", "company", "email", "vip", "priority", "external_ref", "notes", "custom"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown customer fields: {', '.join(sorted(unknown))}")
    phone_rows = _phone_rows(tenant, phones) if phones is not None else None
    changed = conn.execute(
        update(m.Customer)
        .where(m.Customer.tenant_id == tenant.id, m.Customer.id == customer_id)
        .values(updated_at=utcnow(), **fields)
    ).rowcount
    if not changed:
        raise NotFound(f"no customer {customer_id} in tenant {tenant.code!r}")
    if phone_rows is not None:
        conn.execute(
            m.CustomerPhone.__table__.delete().where(
                m.CustomerPhone.tenant_id == tenant.id,
                m.CustomerPhone.customer_id == customer_id,
            )
        )
        _insert_children(conn, tenant, customer_id, phone_rows, (), ())
    if addresses is not None:
        addresses = [_checked_address(a) for a in addresses]
        conn.execute(
            m.CustomerAddress.__table__.delete().where(
                m.CustomerAddress.tenant_id == tenant.id,
                m.CustomerAddress.customer_id == customer_id,
            )
        )
        _insert_children(conn, tenant, customer_id, (), addresses, ())
    changes: dict[str, Any] = {k: str(v) for k, v in fields.items()}
    if phone_rows is not None:
        changes["phones"] = [row["number"] for row in phone_rows]
    if addresses is not None:
        changes["addresses"] = [_fields(a) for a in addresses]
    audit(conn, tenant.id, actor, "update", "customer", customer_id, changes)


def get_customer(conn: Connection, tenant: Tenant, customer_id: int) -> Customer:
    customers = _load_customers(conn, tenant, [customer_id])
    if not customers:
        raise NotFound(f"no customer {customer_id} in tenant {tenant.code!r}")
    return customers[0]


def find_customers_by_phone(conn: Connection, tenant: Tenant, caller: str | None) -> list[Customer]:
    """Every customer of the tenant with this number, VIP and high priority first."""
    return _load_customers(conn, tenant, _match_ids(conn, tenant, caller, limit=50))


def search_customers(conn: Connection, tenant: Tenant, name_prefix: str, limit: int = 50) -> list[Customer]:
    ids = conn.execute(
        select(m.Customer.id)
        .where(m.Customer.tenant_id == tenant.id, m.Customer.name.startswith(name_prefix, autoescape=True))
        .order_by(m.Customer.name)
        .limit(limit)
    ).scalars().all()
    return _load_customers(conn, tenant, ids)


def screen_pop(
    conn: Connection,
    tenant: Tenant,
    caller: str | None,
    *,
    interactions: int = 5,
    tickets: int = 10,
) -> ScreenPop:
    """The caller's record, last interactions and open tickets, for the agent's screen.

    Two round trips of statements built once at import (this runs for every incoming call):
    the ids of the customers with the number (ranked here; a switchboard number may name
    thousands), then one UNION of the chosen one's record, phones, addresses, contacts, last
    interactions and open tickets, all read through indexes.
    """
    keys = lookup_keys(tenant, caller)
    if not keys:
        return ScreenPop(None, None)
    matches = _ranked(conn.execute(_MATCHES, {"tenant_id": tenant.id, "keys": keys}).all())
    if not matches:
        return ScreenPop(keys[0], None)
    rows = conn.execute(_POP, {
        "tenant_id": tenant.id, "customer_id": matches[0].id, "interactions": interactions,
        "tickets": tickets,
    }).all()
    chosen = next((r for r in rows if r.what == "m"), None)
    if chosen is None:  # deleted between the two statements
        return ScreenPop(keys[0], None)
    record = SimpleNamespace(
        id=chosen.id, name=chosen.s1, company=chosen.s2, email=chosen.s3,
        external_ref=chosen.s4, notes=chosen.s5, vip=chosen.n1, priority=chosen.n2,
        custom=_json_object(chosen.s6),
    )
    customer = _customers(conn, tenant, [record], rows)[0]
    history, open_ = _history(rows)
    history.sort(key=lambda i: (i.started_at, i.id), reverse=True)
    open_.sort(key=lambda t: (t.created_at, t.id), reverse=True)
    return ScreenPop(
        number=keys[0],
        customer=customer,
        interactions=tuple(history),
        tickets=tuple(open_),
        other_customer_ids=tuple(dict.fromkeys(r.id for r in matches if r.id != chosen.id)),
    )


def _json_object(value: Any) -> dict[str, Any]:
    """A JSON column read through a UNION arrives as text on some back ends."""
    if isinstance(value, str):
        value = json.loads(value) if value else {}
    return dict(value or {})


def add_interaction(
    conn: Connection,
    tenant: Tenant,
    customer_id: int | None,
    *,
    agent_id: int | None = None,
    call_id: str | None = None,
    channel: str = "call",
    direction: str | None = None,
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    disposition: str | None = None,
    notes: str | None = None,
) -> int:
    if customer_id is not None:
        _require_customer(conn, tenant, customer_id)
    if agent_id is not None:
        _require(conn, m.Agent, tenant, agent_id, "agent")
    return conn.execute(
        insert(m.Interaction).values(
            tenant_id=tenant.id, customer_id=customer_id, agent_id=agent_id, call_id=call_id,
            channel=channel, direction=direction, started_at=started_at or utcnow(),
            ended_at=ended_at, disposition=disposition, notes=notes,
        )
    ).inserted_primary_key[0]


def finish_interaction(
    conn: Connection,
    tenant: Tenant,
    interaction_id: int,
    *,
    ended_at: datetime | None = None,
    disposition: str | None = None,
    notes: str | None = None,
) -> None:
    values: dict[str, Any] = {"ended_at": ended_at or utcnow()}
    if disposition is not None:
        values["disposition"] = disposition
    if notes is not None:
        values["notes"] = notes
    changed = conn.execute(
        update(m.Interaction)
        .where(m.Interaction.tenant_id == tenant.id, m.Interaction.id == interaction_id)
        .values(values)
    ).rowcount
    if not changed:
        raise NotFound(f"no interaction {interaction_id} in tenant {tenant.code!r}")


def recent_interactions(
    conn: Connection, tenant: Tenant, customer_id: int, limit: int = 5
) -> list[Interaction]:
    rows = conn.execute(
        _INTERACTIONS, {"tenant_id": tenant.id, "customer_id": customer_id, "limit": limit}
    )
    return [
        Interaction(
            r.id, r.customer_id, r.agent_id, r.agent_number, r.call_id, r.channel, r.direction,
            r.started_at, r.ended_at, r.disposition, r.notes,
        )
        for r in rows
    ]


def create_ticket(
    conn: Connection,
    tenant: Tenant,
    customer_id: int | None,
    type: str,
    subject: str,
    *,
    body: str | None = None,
    priority: int = 0,
    agent_id: int | None = None,
    interaction_id: int | None = None,
) -> int:
    if type not in m.TICKET_TYPES:
        raise ValueError(f"unknown ticket type {type!r} (one of {', '.join(m.TICKET_TYPES)})")
    if customer_id is not None:
        _require_customer(conn, tenant, customer_id)
    if agent_id is not None:
        _require(conn, m.Agent, tenant, agent_id, "agent")
    if interaction_id is not None:
        _require(conn, m.Interaction, tenant, interaction_id, "interaction")
    return conn.execute(
        insert(m.Ticket).values(
            tenant_id=tenant.id, customer_id=customer_id, type=type, subject=subject, body=body,
            priority=priority, agent_id=agent_id, interaction_id=interaction_id,
        )
    ).inserted_primary_key[0]


def set_ticket_status(conn: Connection, tenant: Tenant, ticket_id: int, status: str) -> None:
    if status not in m.TICKET_STATUSES:
        raise ValueError(f"unknown ticket status {status!r} (one of {', '.join(m.TICKET_STATUSES)})")
    now = utcnow()
    changed = conn.execute(
        update(m.Ticket)
        .where(m.Ticket.tenant_id == tenant.id, m.Ticket.id == ticket_id)
        .values(status=status, updated_at=now, closed_at=now if status == "closed" else None)
    ).rowcount
    if not changed:
        raise NotFound(f"no ticket {ticket_id} in tenant {tenant.code!r}")


def set_ticket_body(conn: Connection, tenant: Tenant, ticket_id: int, body: str | None) -> None:
    """Replace a ticket's text (the agent rewrote the case description)."""
    changed = conn.execute(
        update(m.Ticket)
        .where(m.Ticket.tenant_id == tenant.id, m.Ticket.id == ticket_id)
        .values(body=body, updated_at=utcnow())
    ).rowcount
    if not changed:
        raise NotFound(f"no ticket {ticket_id} in tenant {tenant.code!r}")


def get_ticket(conn: Connection, tenant: Tenant, ticket_id: int) -> Ticket:
    row = conn.execute(
        select(m.Ticket).where(m.Ticket.tenant_id == tenant.id, m.Ticket.id == ticket_id)
    ).first()
    if row is None:
        raise NotFound(f"no ticket {ticket_id} in tenant {tenant.code!r}")
    return _ticket(row)


def open_tickets(conn: Connection, tenant: Tenant, customer_id: int, limit: int = 10) -> list[Ticket]:
    rows = conn.execute(
        _OPEN_TICKETS, {"tenant_id": tenant.id, "customer_id": customer_id, "limit": limit}
    )
    return [_ticket(r) for r in rows]


def list_tickets(conn: Connection, tenant: Tenant, customer_id: int) -> list[Ticket]:
    rows = conn.execute(
        select(m.Ticket)
        .where(m.Ticket.tenant_id == tenant.id, m.Ticket.customer_id == customer_id)
        .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc())
    )
    return [_ticket(r) for r in rows]


def count_customers(conn: Connection, tenant: Tenant) -> int:
    return conn.execute(
        select(func.count()).select_from(m.Customer).where(m.Customer.tenant_id == tenant.id)
    ).scalar_one()


def _ticket(r) -> Ticket:
    return Ticket(
        r.id, r.customer_id, r.type, r.status, r.priority, r.subject, r.body, r.created_at,
        r.updated_at, r.closed_at, r.agent_id, r.interaction_id,
    )


def _phone_rows(tenant: Tenant, phones: Iterable[PhoneInput]) -> list[dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for item in phones:
        if isinstance(item, Phone):
            kind, raw = item.kind, item.raw or item.number
        elif isinstance(item, tuple):
            kind, raw = item
        else:
            kind, raw = "phone", item
        number = canonical_phone(tenant, raw)
        rows.setdefault(number, {"kind": kind, "number": number, "raw": raw})
    return list(rows.values())


def _insert_children(
    conn: Connection,
    tenant: Tenant,
    customer_id: int,
    phone_rows: Sequence[dict[str, Any]],
    addresses: Iterable[Address],
    contacts: Iterable[Contact],
) -> None:
    base = {"tenant_id": tenant.id, "customer_id": customer_id}
    if phone_rows:
        conn.execute(insert(m.CustomerPhone), [{**base, **row} for row in phone_rows])
    address_rows = [{**base, **_fields(a)} for a in addresses]
    if address_rows:
        conn.execute(insert(m.CustomerAddress), address_rows)
    contact_rows = [{**base, **_fields(c)} for c in contacts]
    if contact_rows:
        conn.execute(insert(m.CustomerContact), contact_rows)


def _checked_address(address: Address) -> Address:
    """ValueError for a part longer than its column: MariaDB would refuse it, SQLite keep it."""
    columns = m.CustomerAddress.__table__.columns
    for name, value in _fields(address).items():
        limit = columns[name].type.length
        if value is not None and len(value) > limit:
            raise ValueError(f"address {name} longer than {limit} characters")
    return address


def _fields(item: Address | Contact) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__dataclass_fields__}


def _require_customer(conn: Connection, tenant: Tenant, customer_id: int) -> None:
    _require(conn, m.Customer, tenant, customer_id, "customer")


def _require(conn: Connection, model: Any, tenant: Tenant, row_id: int, what: str) -> None:
    """NotFound unless row `row_id` of `model` belongs to the tenant (ids are global)."""
    found = conn.execute(
        select(model.id).where(model.tenant_id == tenant.id, model.id == row_id)
    ).first()
    if found is None:
        raise NotFound(f"no {what} {row_id} in tenant {tenant.code!r}")


def _match_ids(conn: Connection, tenant: Tenant, caller: str | None, limit: int) -> list[int]:
    keys = lookup_keys(tenant, caller)
    if not keys:
        return []
    rows = _ranked(conn.execute(_MATCH, {"tenant_id": tenant.id, "keys": keys, "limit": limit}))
    return list(dict.fromkeys(r.id for r in rows))


def _ranked(rows: Iterable[Any]) -> list[Any]:
    """VIPs first, then by priority, then oldest customer. Sorted here rather than in SQL:
    ORDER BY over the joined rows costs MariaDB an on-disk temporary table (TEXT columns)."""
    return sorted(rows, key=lambda r: (not r.vip, -r.priority, r.id))


def _load_customers(conn: Connection, tenant: Tenant, ids: Sequence[int]) -> list[Customer]:
    """The customers with these ids, in the order given (missing ones left out)."""
    if not ids:
        return []
    rows = {r.id: r for r in conn.execute(_BY_IDS, {"tenant_id": tenant.id, "ids": list(ids)})}
    return _customers(conn, tenant, [rows[i] for i in dict.fromkeys(ids) if i in rows])


def _customers(
    conn: Connection, tenant: Tenant, rows: Sequence[Any], details: Sequence[Any] | None = None
) -> list[Customer]:
    """Customer rows completed with their phones, addresses and contacts (one round trip, or
    none when the caller already fetched the detail rows)."""
    ids = [r.id for r in rows]
    if details is None:
        details = conn.execute(_CHILDREN, {"tenant_id": tenant.id, "ids": ids}).all()
    phones: dict[int, list[Phone]] = {i: [] for i in ids}
    addresses: dict[int, list[Address]] = {i: [] for i in ids}
    contacts: dict[int, list[Contact]] = {i: [] for i in ids}
    for r in sorted(details, key=lambda r: r.id):
        if r.what == "p":
            phones[r.customer_id].append(Phone(r.s2, r.s1, r.s3))
        elif r.what == "a":
            addresses[r.customer_id].append(Address(r.s1, r.s2, r.s3, r.s4, r.s5, r.s6))
        elif r.what == "c":
            contacts[r.customer_id].append(Contact(r.s1, r.s2, r.s3, r.s4))
    return [
        Customer(
            id=r.id, tenant_id=tenant.id, name=r.name, company=r.company, email=r.email,
            vip=bool(r.vip), priority=r.priority, external_ref=r.external_ref, notes=r.notes,
            custom=dict(r.custom or {}), phones=tuple(phones[r.id]),
            addresses=tuple(addresses[r.id]), contacts=tuple(contacts[r.id]),
        )
        for r in rows
    ]


def _history(details: Sequence[Any]) -> tuple[list[Interaction], list[Ticket]]:
    interactions = [
        Interaction(r.id, r.customer_id, r.n1, r.s6, r.s1, r.s2, r.s3, r.t1, r.t2, r.s4, r.s5)
        for r in details if r.what == "i"
    ]
    tickets = [
        Ticket(r.id, r.customer_id, r.s1, r.s2, r.n1, r.s3, r.s4, r.t1, r.t2, None, r.n2, r.n3)
        for r in details if r.what == "t"
    ]
    return interactions, tickets


# The read path of the screen-pop, built once: statement construction costs more than the
# indexed lookups themselves.
_C, _P = m.Customer, m.CustomerPhone
_CUSTOMER_COLUMNS = (_C.id, _C.name, _C.company, _C.email, _C.vip, _C.priority,
                     _C.external_ref, _C.notes, _C.custom)
_MATCH = (
    select(*_CUSTOMER_COLUMNS)
    .join(_P, _P.customer_id == _C.id)
    .where(
        _P.tenant_id == bindparam("tenant_id"),
        _P.number.in_(bindparam("keys", expanding=True)),
        _C.tenant_id == bindparam("tenant_id"),
    )
    .limit(bindparam("limit", type_=Integer))
)
# The customers with any of the caller's numbers, the screen-pop's first round trip: the
# phone index gives the customer id, the customer's rank is one primary-key read.
_MATCHES = _MATCH.with_only_columns(_C.id, _C.vip, _C.priority).limit(None)
_BY_IDS = select(*_CUSTOMER_COLUMNS).where(
    _C.tenant_id == bindparam("tenant_id"), _C.id.in_(bindparam("ids", expanding=True))
)

# Detail rows of every kind share one column layout, typed slots so that each UNION column
# has one type on every back end: what, id, customer_id, s1..s6 text, t1..t2 times, n1..n3 ints.
_SLOTS = {
    **{f"s{i}": Text() for i in range(1, 7)},
    "t1": UTCDateTime(), "t2": UTCDateTime(),
    "n1": Integer(), "n2": Integer(), "n3": Integer(),
}


def _detail(tag: str, source: Any, **slots: Any) -> Any:
    columns = [
        literal_column(f"'{tag}'", Text()).label("what"), source.c.id, source.c.customer_id,
        *(type_coerce(slots.get(name, null()), type_).label(name)
          for name, type_ in _SLOTS.items()),
    ]
    return select(*columns)


def _children(model: Any, tag: str, of_customers: Any = None, **slots: str) -> Any:
    """Detail rows of `model` for the customers with ids in :ids (or matching `of_customers`)."""
    table = model.__table__
    if of_customers is None:
        of_customers = table.c.customer_id.in_(bindparam("ids", expanding=True))
    else:
        of_customers = table.c.customer_id == of_customers
    return _detail(tag, table, **{k: table.c[v] for k, v in slots.items()}).where(
        table.c.tenant_id == bindparam("tenant_id"), of_customers
    )


def _limited(query: Any, tag: str, **slots: str) -> Any:
    sub = query.subquery(tag)
    return _detail(tag, sub, **{k: sub.c[v] for k, v in slots.items()})


_PHONES = _children(_P, "p", s1="kind", s2="number", s3="raw")
_ADDRESSES = _children(m.CustomerAddress, "a", s1="kind", s2="street", s3="city",
                       s4="postal_code", s5="region", s6="country")
_CONTACTS = _children(m.CustomerContact, "c", s1="name", s2="role", s3="email", s4="phone")
_CHILDREN = union_all(_PHONES, _ADDRESSES, _CONTACTS).order_by("what", "id")
_INTERACTIONS = (
    select(m.Interaction, m.Agent.number.label("agent_number"))
    .outerjoin(m.Agent, m.Agent.id == m.Interaction.agent_id)
    .where(
        m.Interaction.tenant_id == bindparam("tenant_id"),
        m.Interaction.customer_id == bindparam("customer_id"),
    )
    .order_by(m.Interaction.started_at.desc(), m.Interaction.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
_OPEN_TICKETS = (
    select(m.Ticket)
    .where(
        m.Ticket.tenant_id == bindparam("tenant_id"),
        m.Ticket.customer_id == bindparam("customer_id"),
        m.Ticket.status.in_(("open", "pending")),
    )
    .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc())
    .limit(bindparam("limit", type_=Integer))
)
# The screen-pop's details are one statement, its second round trip: every branch of the
# UNION reads one customer's rows by (tenant_id, customer_id) through an index, the id bound
# as a parameter. (Picking the customer inside the statement, by a scalar subquery repeated in
# each branch, cost MariaDB twice the CPU of both statements together: planning seven
# subqueries and derived tables per call.) The last interactions and open tickets are picked
# in derived tables of ids only, so MariaDB materialises small in-memory tables instead of
# copying TEXT columns (notes, body) into an on-disk temporary table on every call.
_LAST_INTERACTIONS = (
    select(m.Interaction.id.label("pick"))
    .where(m.Interaction.tenant_id == bindparam("tenant_id"),
           m.Interaction.customer_id == bindparam("customer_id"))
    .order_by(m.Interaction.started_at.desc(), m.Interaction.id.desc())
    .limit(bindparam("interactions", type_=Integer))
    .subquery("last_interactions")
)
_OPEN_TICKET_IDS = (
    select(m.Ticket.id.label("pick"))
    .where(
        m.Ticket.tenant_id == bindparam("tenant_id"),
        m.Ticket.customer_id == bindparam("customer_id"),
        m.Ticket.status.in_(("open", "pending")),
    )
    .order_by(m.Ticket.created_at.desc(), m.Ticket.id.desc())
    .limit(bindparam("tickets", type_=Integer))
    .subquery("open_ticket_ids")
)
_OF_CUSTOMER = bindparam("customer_id")
_POP = union_all(
    _limited(
        select(_C, _C.id.label("customer_id")).where(
            _C.tenant_id == bindparam("tenant_id"), _C.id == _OF_CUSTOMER),
        "m", s1="name", s2="company", s3="email", s4="external_ref", s5="notes", s6="custom",
        n1="vip", n2="priority",
    ),
    _children(_P, "p", _OF_CUSTOMER, s1="kind", s2="number", s3="raw"),
    _children(m.CustomerAddress, "a", _OF_CUSTOMER, s1="kind", s2="street", s3="city",
              s4="postal_code", s5="region", s6="country"),
    _children(m.CustomerContact, "c", _OF_CUSTOMER, s1="name", s2="role", s3="email",
              s4="phone"),
    _limited(
        select(m.Interaction, m.Agent.number.label("agent_number"))
        .join(_LAST_INTERACTIONS, _LAST_INTERACTIONS.c.pick == m.Interaction.id)
        .outerjoin(m.Agent, m.Agent.id == m.Interaction.agent_id),
        "i", s1="call_id", s2="channel", s3="direction", s4="disposition", s5="notes",
        s6="agent_number", t1="started_at", t2="ended_at", n1="agent_id",
    ),
    _limited(
        select(m.Ticket).join(_OPEN_TICKET_IDS, _OPEN_TICKET_IDS.c.pick == m.Ticket.id),
        "t", s1="type", s2="status", s3="subject", s4="body", t1="created_at", t2="updated_at",
        n1="priority", n2="agent_id", n3="interaction_id",
    ),
)
