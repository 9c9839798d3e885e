"""Demo data: three client companies of an outsourcing call center, ready to log in and call.

Each tenant gets agents with passwords and skills, a supervisor and an administrator, queues
with different strategies and options, opening hours, numbers leading to its queues and IVR,
a few hand-made customers with known numbers (so a demo call pops a record with history), and
thousands of generated customers with interactions and tickets.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine, select

from cti.numbers import DialPlan
from db import agents, customers, queues, tenants
from db import models as m
from db.generate import generate_customers
from db.passwords import hash_password
from db.records import Address, Contact, Tenant


@dataclass(frozen=True)
class DemoLogin:
    tenant: str
    login: str
    password: str
    role: str
    extension: str | None


class AlreadySeeded(RuntimeError):
    pass


_TENANTS = [
    {
        "code": "acme", "name": "Acme Versand GmbH", "country": "49", "tz": "Europe/Berlin",
        "agents": [("1001", "Anna Schmidt", {"sales": 12, "german": 16}),
                   ("1002", "Ben Weber", {"sales": 8, "support": 5, "german": 16}),
                   ("1003", "Clara Fischer", {"support": 14, "german": 16, "english": 10}),
                   ("1004", "David Becker", {"support": 9, "billing": 12, "german": 16}),
                   ("1005", "Emma Wagner", {"billing": 15, "german": 16, "english": 12}),
                   ("1006", "Felix Hoffmann", {"sales": 5, "support": 5, "billing": 5})],
        "queues": [("sales", "longest-idle", {"sales": 1}, dict(max_wait_seconds=300,
                    service_level_seconds=20, announce_position=True, wrapup_seconds=10)),
                   ("support", "round-robin", {"support": 1}, dict(max_length=30,
                    wrapup_seconds=30, announce_hold_time=True, overflow_target="voicemail:700")),
                   ("billing", "fewest-calls", {"billing": 3}, dict(service_level_seconds=30,
                    leave_when_empty=True))],
        "numbers": [("030 12345000", "sales", None), ("030 12345001", "support", None),
                    ("030 12345002", "billing", None), ("030 12345009", None, "acme-main")],
        "vip": ("Bob Baker", "Baker AG", "0171 5551234", "030 1234567"),
    },
    {
        "code": "globex", "name": "Globex Insurance Inc.", "country": "1", "tz": "America/New_York",
        "agents": [("2001", "Grace Miller", {"claims": 14, "english": 16, "spanish": 8}),
                   ("2002", "Henry Davis", {"claims": 10, "policy": 6, "english": 16}),
                   ("2003", "Isabel Garcia", {"policy": 12, "english": 14, "spanish": 16}),
                   ("2004", "Jack Wilson", {"policy": 8, "claims": 4, "english": 16}),
                   ("2005", "Kate Brown", {"claims": 6, "policy": 6, "english": 16})],
        "queues": [("claims", "least-talk-time", {"claims": 1}, dict(max_wait_seconds=600,
                    service_level_seconds=30, announce_position=True)),
                   ("policy", "ring-all", {"policy": 1}, dict(ring_timeout_seconds=20)),
                   ("espanol", "weighted-random", {"spanish": 5}, dict(join_empty=False))],
        "numbers": [("(786) 710-0001", "claims", None), ("(786) 710-0002", "policy", None),
                    ("(786) 710-0003", "espanol", None)],
        "vip": ("Carol Jones", "Jones Trucking LLC", "(305) 555-0100", "(786) 555-0199"),
    },
    {
        "code": "initech", "name": "Initech Telecom Ltd", "country": "44", "tz": "Europe/London",
        "agents": [("3001", "Liam Taylor", {"helpdesk": 12, "english": 16}),
                   ("3002", "Mia Evans", {"helpdesk": 9, "retention": 14, "english": 16}),
                   ("3003", "Noah Thomas", {"retention": 10, "english": 16}),
                   ("3004", "Olivia Roberts", {"helpdesk": 15, "english": 16, "french": 9})],
        "queues": [("helpdesk", "hunt", {"helpdesk": 1}, dict(max_length=50, wrapup_seconds=20)),
                   ("retention", "linear", {"retention": 8}, dict(priority=5)),
                   ("callback", "random", {}, dict(join_empty=False))],
        "numbers": [("020 7946 0100", "helpdesk", None), ("020 7946 0101", "retention", None)],
        "vip": ("Dora Diaz", "Diaz Partners", "07700 900123", "020 7946 0999"),
    },
]


def seed_demo(
    engine: Engine,
    *,
    customers_per_tenant: int = 3000,
    now: datetime | None = None,
    hasher: Callable[[str], str] | None = None,
) -> list[DemoLogin]:
    """Load the demo tenants; returns every login with its password. Refuses a database that
    already holds them (AlreadySeeded). `hasher` makes the password hashes (default
    db.passwords.hash_password; tests pass a cheap one)."""
    now = now or datetime.now(UTC)
    hasher = hasher or hash_password
    with engine.begin() as conn:
        taken = conn.execute(
            select(m.Tenant.code).where(m.Tenant.code.in_([t["code"] for t in _TENANTS]))
        ).scalars().all()
    if taken:
        raise AlreadySeeded(f"demo tenants already present: {', '.join(sorted(taken))}")
    logins: list[DemoLogin] = []
    for spec in _TENANTS:
        with engine.begin() as conn:
            tenant, made = _tenant(conn, spec, now, hasher)
        logins += made
        generate_customers(engine, tenant, customers_per_tenant, seed=zlib.crc32(spec["code"].encode()),
                           now=now)
    return logins


def _tenant(conn, spec, now: datetime, hasher) -> tuple[Tenant, list[DemoLogin]]:
    code = spec["code"]
    tenant = tenants.create_tenant(conn, code, spec["name"],
                                   dial_plan=DialPlan.for_country(spec["country"]),
                                   time_zone=spec["tz"], actor="seed")
    logins = []
    for number, name, skills in spec["agents"]:
        password = f"agent{number}"
        extension = str(int(number) + 1000)
        agent = agents.create_agent(conn, tenant, number, password, name=name,
                                    extension=extension, skills=skills,
                                    password_hash=hasher(password), actor="seed")
        logins.append(DemoLogin(code, agent.login, password, "agent", extension))
    for role in ("supervisor", "administrator"):
        login, password = f"{code}-{role[:5]}", f"{role[:5]}-{code}"
        agents.create_user(conn, tenant, login, password, name=f"{spec['name']} {role}",
                           role=role, password_hash=hasher(password), actor="seed")
        logins.append(DemoLogin(code, login, password, role, None))
    weekdays = [(day, time(8), time(20)) for day in range(5)] + [(5, time(9), time(14))]
    queues.create_schedule(conn, tenant, "office-hours", weekdays,
                           [(date(now.year, 12, 25), "Christmas"),
                            (date(now.year + 1, 1, 1), "New Year")], actor="seed")
    roster = agents.list_agents(conn, tenant)
    for name, strategy, needs, options in spec["queues"]:
        queues.create_queue(conn, tenant, name, strategy, skills=needs, schedule="office-hours",
                            closed_target="voicemail:700", actor="seed", **options)
        members = [a for a in roster if not needs or set(needs) & set(a.skill_levels())]
        for position, agent in enumerate(members):
            level = max((agent.skill_levels().get(s, 0) for s in needs), default=8)
            queues.add_queue_member(conn, tenant, name, agent.id, penalty=max(0, (16 - level) // 4),
                                    position=position, weight=max(1, level // 4), actor="seed")
    for number, queue, ivr in spec["numbers"]:
        queues.create_number(conn, tenant, number, queue=queue, ivr=ivr, actor="seed")
    _showcase_customer(conn, tenant, spec["vip"], roster[0].id, now)
    return tenant, logins


def _showcase_customer(conn, tenant: Tenant, vip, agent_id: int, now: datetime) -> None:
    """A VIP with a known number, history and an open complaint, for demo screen-pops."""
    name, company, mobile, work = vip
    customer = customers.create_customer(
        conn, tenant, name, company=company, vip=True, priority=10, external_ref="DEMO-VIP",
        phones=[("mobile", mobile), ("work", work)],
        addresses=[Address(street="1 Demo Street", city="Demo City", country=None)],
        contacts=[Contact("Front desk", role="reception", phone=work)],
        custom={"contract": "PLATINUM", "account_manager": "demo"}, actor="seed",
    )
    for days, disposition, notes in ((30, "sale", "Ordered 20 units."),
                                     (7, "escalated", "Delivery late, customer upset."),
                                     (1, "callback", "Promised a callback with a new date.")):
        start = now - timedelta(days=days)
        customers.add_interaction(conn, tenant, customer, agent_id=agent_id, direction="in",
                                  started_at=start, ended_at=start + timedelta(minutes=6),
                                  disposition=disposition, notes=notes)
    customers.create_ticket(conn, tenant, customer, "complaint", "Late delivery of order 4711",
                            body="Customer waits since last week.", priority=2, agent_id=agent_id)
    customers.create_ticket(conn, tenant, customer, "order", "20 units, express", priority=1)
