"""Plain data handed out by the repositories: frozen dataclasses, safe to pass between threads.

ORM objects are bound to a session and a thread; these are not bound to anything, so the
database thread pool can return them to the reactor thread and the API can serialise them
with dataclasses.asdict.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from cti.numbers import DialPlan


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    code: str
    name: str
    dial_plan: DialPlan
    time_zone: str


@dataclass(frozen=True, slots=True)
class User:
    id: int
    tenant_id: int
    login: str
    name: str
    role: str
    email: str | None = None
    active: bool = True


@dataclass(frozen=True, slots=True)
class AgentSkill:
    skill: str
    level: int


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent as the ACD needs it: who, the agent ID, default extension and skills."""

    id: int
    tenant_id: int
    user_id: int
    number: str
    name: str
    login: str
    role: str
    extension: str | None
    wrapup_seconds: int | None
    skills: tuple[AgentSkill, ...] = ()

    def skill_levels(self) -> dict[str, int]:
        return {s.skill: s.level for s in self.skills}


@dataclass(frozen=True, slots=True)
class Login:
    """A successful authentication: the user, their tenant and (for agents) the agent row."""

    user: User
    tenant: Tenant
    agent: Agent | None


@dataclass(frozen=True, slots=True)
class QueueMember:
    agent_id: int
    agent_number: str
    penalty: int
    position: int
    weight: int


@dataclass(frozen=True, slots=True)
class QueueSkill:
    skill: str
    min_level: int


@dataclass(frozen=True, slots=True)
class Queue:
    id: int
    tenant_id: int
    name: str
    strategy: str
    priority: int
    max_length: int | None
    max_wait_seconds: int | None
    wrapup_seconds: int
    service_level_seconds: int
    ring_timeout_seconds: int
    overflow_queue: str | None
    overflow_target: str | None
    join_empty: bool
    leave_when_empty: bool
    announce_position: bool
    announce_hold_time: bool
    schedule: str | None
    closed_target: str | None
    options: dict[str, Any]
    members: tuple[QueueMember, ...] = ()
    skills: tuple[QueueSkill, ...] = ()


@dataclass(frozen=True, slots=True)
class ScheduleHours:
    weekday: int
    opens: time
    closes: time


@dataclass(frozen=True, slots=True)
class Schedule:
    id: int
    tenant_id: int
    name: str
    time_zone: str
    hours: tuple[ScheduleHours, ...]
    holidays: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class Route:
    """Where a dialled number (DNIS) leads."""

    number: str
    tenant: Tenant
    queue: str | None
    queue_id: int | None
    ivr: str | None


@dataclass(frozen=True, slots=True)
class Phone:
    number: str
    kind: str
    raw: str | None = None


@dataclass(frozen=True, slots=True)
class Address:
    kind: str = "postal"
    street: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    role: str | None = None
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Customer:
    id: int
    tenant_id: int
    name: str
    company: str | None
    email: str | None
    vip: bool
    priority: int
    external_ref: str | None
    notes: str | None
    custom: dict[str, Any]
    phones: tuple[Phone, ...] = ()
    addresses: tuple[Address, ...] = ()
    contacts: tuple[Contact, ...] = ()


@dataclass(frozen=True, slots=True)
class Interaction:
    id: int
    customer_id: int | None
    agent_id: int | None
    agent_number: str | None
    call_id: str | None
    channel: str
    direction: str | None
    started_at: datetime
    ended_at: datetime | None
    disposition: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class Ticket:
    id: int
    customer_id: int | None
    type: str
    status: str
    priority: int
    subject: str
    body: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    agent_id: int | None = None
    interaction_id: int | None = None


@dataclass(frozen=True, slots=True)
class ScreenPop:
    """What an agent's screen shows when a call arrives: the caller's record and history.

    `customer` is None when nobody has the number; when several customers share it (a
    switchboard number), the VIP / highest-priority one is popped and the rest are listed in
    `other_customer_ids` so the desktop can offer them.
    """

    number: str | None
    customer: Customer | None
    interactions: tuple[Interaction, ...] = ()
    tickets: tuple[Ticket, ...] = ()
    other_customer_ids: tuple[int, ...] = ()


def new_record_key() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call or call segment to store. `record_key` identifies it for ever: producers should
    derive it from the source (link + call ID + segment) or keep the generated one, so that a
    retry or a spool replay stores it once."""

    source: str
    started_at: datetime
    tenant_id: int | None = None
    link: str | None = None
    call_id: str | None = None
    segment: int = 0
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    trunk: str | None = None
    extension: str | None = None
    agent_id: int | None = None
    queue_id: int | None = None
    calling: str | None = None
    called: str | None = None
    number: str | None = None
    direction: str | None = None
    ring_seconds: int | None = None
    hold_seconds: int | None = None
    duration_seconds: int | None = None
    disposition: str | None = None
    raw: str | None = None
    record_key: str = field(default_factory=new_record_key)


@dataclass(frozen=True, slots=True)
class AgentStateChange:
    agent_id: int
    at: datetime
    state: str
    reason: str | None
    extension: str | None


@dataclass(frozen=True, slots=True)
class QueueEvent:
    queue_id: int | None
    at: datetime
    event: str
    call_id: str | None
    agent_id: int | None
    wait_seconds: float | None
    position: int | None
    reason: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    changes: dict[str, Any]
