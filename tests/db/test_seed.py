"""Demo data and the bulk generator produce a usable, consistent database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from cti.numbers import DialPlan
from db import agents, customers, models, queues, tenants
from db.engine import is_mysql
from db.generate import generate_customers, phone_number
from db.seed import AlreadySeeded, seed_demo

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_demo_is_three_tenants_ready_to_log_in_and_take_calls(engine, cheap_hash):
    logins = seed_demo(engine, customers_per_tenant=40, now=NOW, hasher=cheap_hash)
    assert {login.tenant for login in logins} == {"acme", "globex", "initech"}
    assert {login.role for login in logins} == {"agent", "supervisor", "administrator"}
    with engine.begin() as conn:
        for code in ("acme", "globex", "initech"):
            mine = [login for login in logins if login.tenant == code]
            agent = next(login for login in mine if login.role == "agent")
            boss = next(login for login in mine if login.role == "supervisor")
            assert agents.authenticate(conn, agent.login, agent.password).agent.skills
            assert agents.authenticate(conn, boss.login, boss.password).user.role == "supervisor"
            tenant = tenants.get_tenant(conn, code)
            listed = queues.list_queues(conn, tenant)
            assert len({q.strategy for q in listed}) == len(listed) == 3
            assert all(q.members for q in listed) and all(q.schedule for q in listed)
            route = queues.route_number(conn, queues.list_numbers(conn, tenant)[0].number)
            assert route.tenant == tenant
            assert customers.count_customers(conn, tenant) == 41


def test_a_demo_call_pops_the_vip_with_history_and_open_tickets(engine, cheap_hash):
    seed_demo(engine, customers_per_tenant=10, now=NOW, hasher=cheap_hash)
    with engine.begin() as conn:
        acme = tenants.get_tenant(conn, "acme")
        pop = customers.screen_pop(conn, acme, "01715551234")
    assert pop.customer.name == "Bob Baker" and pop.customer.vip
    assert [i.disposition for i in pop.interactions] == ["callback", "escalated", "sale"]
    assert {t.type for t in pop.tickets} == {"complaint", "order"}


def test_seeding_twice_is_refused(engine, cheap_hash):
    seed_demo(engine, customers_per_tenant=0, now=NOW, hasher=cheap_hash)
    with pytest.raises(AlreadySeeded, match="acme"):
        seed_demo(engine, customers_per_tenant=0, now=NOW, hasher=cheap_hash)


@pytest.fixture
def big(engine):
    with engine.begin() as conn:
        return tenants.create_tenant(conn, "big", "Big", dial_plan=DialPlan.for_country("49"))


def test_generated_customers_have_unique_findable_numbers_and_history(engine, big):
    assert generate_customers(engine, big, 500, batch=128, now=NOW) == 500
    assert generate_customers(engine, big, 100, start_index=500, now=NOW) == 100
    with engine.begin() as conn:
        assert customers.count_customers(conn, big) == 600
        numbers = conn.execute(select(func.count(models.CustomerPhone.number.distinct()))).scalar()
        phones = conn.execute(select(func.count()).select_from(models.CustomerPhone)).scalar()
        assert numbers == phones
        for index in (0, 499, 500, 599):
            pop = customers.screen_pop(conn, big, DialPlan.for_country("49").national(
                phone_number("49", index)))
            assert pop.customer is not None and pop.customer.external_ref == f"G{index:08d}"
        assert conn.execute(select(func.count()).select_from(models.Interaction)).scalar() > 0
        assert conn.execute(select(func.count()).select_from(models.Ticket)).scalar() > 0
        history = conn.execute(select(models.Interaction.started_at)).scalars().all()
        assert max(history) <= NOW


def test_the_generator_leaves_its_connection_checking_foreign_keys(engine, big):
    engine.pool.dispose()
    generate_customers(engine, big, 10, now=NOW)
    with engine.connect() as conn:
        if is_mysql(engine):
            assert conn.exec_driver_sql("SELECT @@foreign_key_checks").scalar() == 1
        else:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
