"""The schema: everything the call center knows, one tenant's rows beside another's.

Every tenant-owned table carries ``tenant_id`` (even where a parent row already implies it), so
that each repository query can be scoped with one plain condition and isolation is easy to see
and to test. Names of constraints and indexes follow one convention from the first migration on,
so later Alembic migrations (batch mode on SQLite) can address them by name.

Repositories read these tables and hand back plain dataclasses; ORM objects never leave the
database thread.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("agent", "supervisor", "administrator")
STRATEGIES = (
    "ring-all",
    "hunt",
    "linear",
    "longest-idle",
    "round-robin",
    "fewest-calls",
    "least-talk-time",
    "random",
    "weighted-random",
)
TICKET_TYPES = ("complaint", "order", "after-sales", "inquiry")
TICKET_STATUSES = ("open", "pending", "closed")
QUEUE_EVENTS = (
    "enter",
    "connect",
    "abandon",
    "timeout",
    "exit-empty",
    "exit-key",
    "complete-caller",
    "complete-agent",
    "transfer",
    "ring-no-answer",
    "overflow",
    "agent-login",
    "agent-logoff",
    "pause",
    "unpause",
)
DIRECTIONS = ("in", "out", "internal")

# SQLite rowids are 64-bit already; BIGINT on MySQL for the tables that grow without bound.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Tenant(Base):
    """A client company of the platform, with the dial plan its callers' numbers follow."""

    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country_code: Mapped[str] = mapped_column(String(4), default="49")
    trunk_prefix: Mapped[str] = mapped_column(String(4), default="0")
    international_prefix: Mapped[str] = mapped_column(String(6), default="00")
    national_length: Mapped[int | None] = mapped_column(Integer)
    outside_prefix: Mapped[str] = mapped_column(String(4), default="")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """Someone who logs in: agent, supervisor or administrator, with an scrypt password hash."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("tenant_id", "login"),
        CheckConstraint(_in("role", ROLES), name="role"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    login: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Agent(Base):
    """The telephony side of a user: the agent ID dialled at the phone, a default extension."""

    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    number: Mapped[str] = mapped_column(String(32))
    extension: Mapped[str | None] = mapped_column(String(32))
    wrapup_seconds: Mapped[int | None] = mapped_column(Integer)


class Skill(Base):
    __tablename__ = "skills"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))


class AgentSkill(Base):
    """How good an agent is at a skill: level 1 (novice) to 16 (expert), as Avaya counts."""

    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 16", name="level"),)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[int] = mapped_column(Integer, default=1)


class Schedule(Base):
    """Opening hours and holidays a queue follows, in the schedule's (or tenant's) time zone."""

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    time_zone: Mapped[str | None] = mapped_column(String(64))


class ScheduleHours(Base):
    """Open from `opens` to `closes` on `weekday` (0 = Monday)."""

    __tablename__ = "schedule_hours"
    __table_args__ = (CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class ScheduleHoliday(Base):
    """A day the schedule is closed all day, whatever its hours say."""

    __tablename__ = "schedule_holidays"
    __table_args__ = (UniqueConstraint("schedule_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    name: Mapped[str | None] = mapped_column(String(100))


class Queue(Base):
    """A hunt group or queue: strategy, limits, timers, overflow, and the options of app_queue."""

    __tablename__ = "queues"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(_in("strategy", STRATEGIES), name="strategy"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(32), default="longest-idle")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    max_length: Mapped[int | None] = mapped_column(Integer)
    max_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    wrapup_seconds: Mapped[int] = mapped_column(Integer, default=0)
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=20)
    ring_timeout_seconds: Mapped[int] = mapped_column(Integer, default=15)
    overflow_queue_id: Mapped[int | None] = mapped_column(
        ForeignKey("queues.id", ondelete="SET NULL")
    )
    overflow_target: Mapped[str | None] = mapped_column(String(64))
    join_empty: Mapped[bool] = mapped_column(Boolean, default=True)
    leave_when_empty: Mapped[bool] = mapped_column(Boolean, default=False)
    announce_position: Mapped[bool] = mapped_column(Boolean, default=False)
    announce_hold_time: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id", ondelete="SET NULL"))
    closed_target: Mapped[str | None] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class QueueSkill(Base):
    """A skill a queue's callers need, at least at `min_level`."""

    __tablename__ = "queue_skills"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[int] = mapped_column(
        ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True
    )
    min_level: Mapped[int] = mapped_column(Integer, default=1)


class QueueMember(Base):
    """An agent in a queue; lower penalty is tried first, position orders linear hunting."""

    __tablename__ = "queue_members"
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    queue_id: Mapped[int] = mapped_column(
        ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(
        ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True
    )
    penalty: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[int] = mapped_column(Integer, default=1)


class Number(Base):
    """A dialled number (DNIS) and where it leads: a tenant's queue or IVR menu."""

    __tablename__ = "numbers"
    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    ivr: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(String(200))


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_ref"),
        Index("ix_customers_tenant_id_name", "tenant_id", "name"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    external_ref: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    vip: Mapped[bool] = mapped_column(Boolean, default=False)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    custom: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerPhone(Base):
    """A customer's number in canonical E.164 form (the tenant's DialPlan), indexed for caller ID."""

    __tablename__ = "customer_phones"
    __table_args__ = (
        UniqueConstraint("customer_id", "number"),
        # Both cover the screen-pop's reads (migration 0004): the customer id of a number, and
        # a customer's phones, each come from one index page.
        Index("ix_customer_phones_tenant_id_number", "tenant_id", "number", "customer_id"),
        Index("ix_customer_phones_tenant_id_customer_id", "tenant_id", "customer_id", "kind",
              "number", "raw"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="phone")
    number: Mapped[str] = mapped_column(String(32))
    raw: Mapped[str | None] = mapped_column(String(64))


class CustomerAddress(Base):
    __tablename__ = "customer_addresses"
    __table_args__ = (Index("ix_customer_addresses_tenant_id_customer_id", "tenant_id", "customer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="postal")
    street: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    region: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))


class CustomerContact(Base):
    """A person to speak to at a customer company, or another way to reach the customer."""

    __tablename__ = "customer_contacts"
    __table_args__ = (Index("ix_customer_contacts_tenant_id_customer_id", "tenant_id", "customer_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))


class Interaction(Base):
    """One contact with a customer (call, e-mail, chat) with its notes and disposition."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_tenant_id_customer_id", "tenant_id", "customer_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="call")
    direction: Mapped[str | None] = mapped_column(String(8))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column()
    disposition: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)


class Ticket(Base):
    """A complaint, order, after-sales case or inquiry, followed until it is closed."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint(_in("type", TICKET_TYPES), name="type"),
        CheckConstraint(_in("status", TICKET_STATUSES), name="status"),
        Index("ix_tickets_tenant_id_customer_id", "tenant_id", "customer_id", "status"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    interaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("interactions.id", ondelete="SET NULL")
    )
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class CallRecord(Base):
    """One call or call segment as a source reported it (CSTA, serial link, SMDR).

    `record_key` is unique and chosen by the producer, so replaying the spool after a partial
    write cannot store a record twice.
    """

    __tablename__ = "call_records"
    __table_args__ = (
        Index("ix_call_records_tenant_id_started_at", "tenant_id", "started_at"),
        CheckConstraint(
            f"direction IS NULL OR {_in('direction', DIRECTIONS)}", name="direction"
        ),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    record_key: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    link: Mapped[str | None] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    segment: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    trunk: Mapped[str | None] = mapped_column(String(32))
    extension: Mapped[str | None] = mapped_column(String(32))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="SET NULL"))
    calling: Mapped[str | None] = mapped_column(String(64))
    called: Mapped[str | None] = mapped_column(String(64))
    number: Mapped[str | None] = mapped_column(String(64))
    direction: Mapped[str | None] = mapped_column(String(8))
    ring_seconds: Mapped[int | None] = mapped_column(Integer)
    hold_seconds: Mapped[int | None] = mapped_column(Integer)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String(32))
    raw: Mapped[str | None] = mapped_column(Text)


class AgentStateChange(Base):
    """Every agent state change with its reason code, for reports and for audits of breaks."""

    __tablename__ = "agent_state_log"
    __table_args__ = (
        Index("ix_agent_state_log_tenant_id_agent_id", "tenant_id", "agent_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(64))
    extension: Mapped[str | None] = mapped_column(String(32))


class QueueEvent(Base):
    """The queue log (app_queue's queue_log in spirit): enter, connect, abandon, ..."""

    __tablename__ = "queue_events"
    __table_args__ = (
        CheckConstraint(_in("event", QUEUE_EVENTS), name="event"),
        Index("ix_queue_events_tenant_id_queue_id", "tenant_id", "queue_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id", ondelete="CASCADE"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    call_id: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column()
    event: Mapped[str] = mapped_column(String(32))
    wait_seconds: Mapped[float | None] = mapped_column()
    position: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEntry(Base):
    """Who changed what in the administration, with the changed fields."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_id_at", "tenant_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CallContext(Base):
    """What the server gathered about a live call that the switch does not keep: attached
    data, the agents' notes and the customer its screen-pop found.

    Written through while the call lives, so a restarted server finds it again for the calls
    its links' snapshots rebuild; `ended_at` is set when the call ends, and the row goes at the
    call's disposition or once the retention time has passed. A call's IDs (the current one
    and those transfer and conference merged into it) are rows of CallContextId.
    """

    __tablename__ = "call_contexts"
    __table_args__ = (
        Index("ix_call_contexts_tenant_id_updated_at", "tenant_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    link: Mapped[str] = mapped_column(String(64))
    call_id: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("customers.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    calling: Mapped[str | None] = mapped_column(String(64))
    """The call's numbers as the switch first reported them (a snapshot does not carry
    them): calling, called, and the network forms ani, dnis."""
    called: Mapped[str | None] = mapped_column(String(64))
    ani: Mapped[str | None] = mapped_column(String(64))
    dnis: Mapped[str | None] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallContextId(Base):
    """One of a call context's call IDs: a transferred call is found by its old and new IDs."""

    __tablename__ = "call_context_ids"
    __table_args__ = (
        Index("ix_call_context_ids_tenant_id_link", "tenant_id", "link", "call_id"),
    )
    context_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("call_contexts.id", ondelete="CASCADE"), primary_key=True)
    call_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    link: Mapped[str] = mapped_column(String(64))
