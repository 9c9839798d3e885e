"""One tenant's queries never return another tenant's rows, even for identical keys."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db import agents, audit, calls, customers, queues
from db.errors import AuthenticationFailed, NotFound
from db.records import CallRecord

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def both(engine, acme, globex, cheap_hash):
    """The same agent ID, queue name, customer number and call in each tenant."""
    made = {}
    with engine.begin() as conn:
        for tenant, number in ((acme, "+17865550100"), (globex, "+17865550100")):
            agent = agents.create_agent(conn, tenant, "1001", "", skills={tenant.code: 1},
                                        password_hash=cheap_hash(f"{tenant.code}-pw"))
            queues.create_queue(conn, tenant, "sales")
            queues.add_queue_member(conn, tenant, "sales", agent.id)
            customer = customers.create_customer(conn, tenant, f"{tenant.code} customer",
                                                 phones=[number])
            customers.add_interaction(conn, tenant, customer, agent_id=agent.id,
                                      notes=tenant.code)
            customers.create_ticket(conn, tenant, customer, "order", tenant.code)
            calls.record_call(conn, CallRecord(source="csta", started_at=T0, tenant_id=tenant.id,
                                               record_key=f"{tenant.code}-1"))
            calls.record_agent_state(conn, tenant, agent.id, "ready", T0)
            calls.record_queue_event(conn, tenant, "enter", T0, call_id=tenant.code)
            made[tenant.code] = (agent, customer)
    return made


def test_each_tenant_sees_only_its_own_rows(engine, acme, globex, both):
    with engine.begin() as conn:
        for tenant in (acme, globex):
            agent, customer = both[tenant.code]
            assert [a.id for a in agents.list_agents(conn, tenant)] == [agent.id]
            assert agents.list_skills(conn, tenant) == [tenant.code]
            [queue] = queues.list_queues(conn, tenant)
            assert [m.agent_id for m in queue.members] == [agent.id]
            pop = customers.screen_pop(conn, tenant, "+17865550100")
            assert pop.customer.id == customer and pop.other_customer_ids == ()
            assert [i.notes for i in pop.interactions] == [tenant.code]
            assert [t.subject for t in pop.tickets] == [tenant.code]
            assert [c.record_key for c in calls.list_calls(conn, tenant)] == [f"{tenant.code}-1"]
            assert [s.agent_id for s in calls.agent_states(conn, tenant)] == [agent.id]
            assert [e.call_id for e in calls.queue_events(conn, tenant)] == [tenant.code]
            assert customers.count_customers(conn, tenant) == 1
            entries = audit.list_audit(conn, tenant.id)
            assert entries and all(e.entity != "tenant" or e.entity_id == str(tenant.id)
                                   for e in entries)


def test_another_tenants_ids_are_not_found(engine, acme, globex, both):
    other_agent, other_customer = both["globex"]
    with engine.begin() as conn:
        with pytest.raises(NotFound):
            customers.get_customer(conn, acme, other_customer)
        with pytest.raises(NotFound):
            agents.get_agent(conn, acme, other_agent.id)
        with pytest.raises(NotFound):
            customers.add_interaction(conn, acme, other_customer)
        acme_customer = both["acme"][1]
        with pytest.raises(NotFound, match="agent"):
            customers.add_interaction(conn, acme, acme_customer, agent_id=other_agent.id)
        with pytest.raises(NotFound, match="agent"):
            customers.create_ticket(conn, acme, acme_customer, "order", "x",
                                    agent_id=other_agent.id)
        with pytest.raises(NotFound):
            customers.update_customer(conn, acme, other_customer, name="stolen")
        with pytest.raises(NotFound):
            queues.add_queue_member(conn, acme, "sales", other_agent.id)
        with pytest.raises(NotFound):
            agents.set_agent_skills(conn, acme, other_agent.id, {"x": 1})
        assert customers.get_customer(conn, globex, other_customer).name == "globex customer"


def test_a_password_opens_only_its_own_tenant(engine, acme, globex, both):
    with engine.begin() as conn:
        assert agents.get_agent_for_login(conn, acme, "1001", "acme-pw").tenant_id == acme.id
        with pytest.raises(AuthenticationFailed):
            agents.get_agent_for_login(conn, acme, "1001", "globex-pw")
