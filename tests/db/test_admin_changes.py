"""Administration changes: update and delete agents, skills, queues, members, numbers, schedules
and tenants; every change lands in the audit log, and the newest entry id tells a running
server that something changed."""

from __future__ import annotations

from datetime import time

import pytest

from db import agents, audit, queues, tenants
from db.errors import AuthenticationFailed, NotFound


@pytest.fixture
def agent(engine, acme, cheap_hash):
    with engine.begin() as conn:
        return agents.create_agent(conn, acme, "1001", "", name="Ann", extension="2001",
                                   skills={"french": 3}, password_hash=cheap_hash("pw"))


def test_an_agent_is_changed_field_by_field_and_its_password_works(engine, acme, agent):
    with engine.begin() as conn:
        changed = agents.update_agent(conn, acme, "1001", extension="2002", password="new-pw",
                                      actor="alice")
        assert (changed.extension, changed.name, changed.wrapup_seconds) == ("2002", "Ann", None)
        assert agents.authenticate(conn, "1001", "new-pw", "acme").agent.number == "1001"
        with pytest.raises(AuthenticationFailed):
            agents.authenticate(conn, "1001", "pw", "acme")
        entry = audit.list_audit(conn, acme.id, limit=1)[0]
        assert (entry.actor, entry.action, entry.entity) == ("alice", "update", "agent")
        assert entry.changes["password"] == "changed" and "new-pw" not in str(entry.changes)


def test_a_deleted_agent_leaves_its_queues_and_cannot_log_in(engine, acme, agent):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "sales", "hunt")
        queues.add_queue_member(conn, acme, "sales", agent.id)
        agents.delete_agent(conn, acme, "1001")
        assert queues.get_queue(conn, acme, "sales").members == ()
        with pytest.raises(NotFound):
            agents.get_agent_by_number(conn, acme, "1001")
        with pytest.raises(AuthenticationFailed):
            agents.authenticate(conn, "1001", "pw", "acme")
        with pytest.raises(NotFound):
            agents.delete_agent(conn, acme, "1001")


def test_skills_are_created_once_and_deleted_everywhere(engine, acme, agent):
    with engine.begin() as conn:
        agents.create_skill(conn, acme, "german")
        with pytest.raises(ValueError, match="already exists"):
            agents.create_skill(conn, acme, "german")
        queues.create_queue(conn, acme, "fr", "longest-idle", skills={"french": 2})
        agents.delete_skill(conn, acme, "french")
        assert agents.list_skills(conn, acme) == ["german"]
        assert agents.get_agent_by_number(conn, acme, "1001").skills == ()
        assert queues.get_queue(conn, acme, "fr").skills == ()
        with pytest.raises(NotFound):
            agents.delete_skill(conn, acme, "french")


def test_a_queue_changes_strategy_settings_and_merges_options(engine, acme):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "spill", "ring-all")
        queues.create_queue(conn, acme, "sales", "hunt", options={"music": "default"})
        queue = queues.update_queue(conn, acme, "sales", strategy="round-robin", max_length=5,
                                    overflow_queue="spill",
                                    options={"penalty_steps": [[30, 2]], "music": None})
        assert (queue.strategy, queue.max_length, queue.overflow_queue) == ("round-robin", 5, "spill")
        assert queue.options == {"penalty_steps": [[30, 2]]}
        assert queues.update_queue(conn, acme, "sales", overflow_queue=None).overflow_queue is None
        with pytest.raises(ValueError, match="unknown strategy"):
            queues.update_queue(conn, acme, "sales", strategy="ringall")
        with pytest.raises(ValueError, match="unknown queue settings"):
            queues.update_queue(conn, acme, "sales", colour="red")
        with pytest.raises(NotFound):
            queues.update_queue(conn, acme, "nope", strategy="hunt")


def test_members_change_penalty_and_a_deleted_queue_keeps_its_number(engine, acme, agent):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "sales", "hunt")
        queues.add_queue_member(conn, acme, "sales", agent.id, penalty=1)
        queues.update_queue_member(conn, acme, "sales", agent.id, penalty=3, weight=2)
        member = queues.get_queue(conn, acme, "sales").members[0]
        assert (member.penalty, member.weight) == (3, 2)
        queues.create_number(conn, acme, "5000", queue="sales")
        queues.delete_queue(conn, acme, "sales")
        assert [(r.number, r.queue) for r in queues.list_numbers(conn, acme)] == [("5000", None)]
        with pytest.raises(NotFound):
            queues.update_queue_member(conn, acme, "sales", agent.id, penalty=1)


def test_numbers_and_schedules_are_deleted_by_name(engine, acme):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "sales", "hunt")
        queues.create_number(conn, acme, "5000", queue="sales")
        queues.create_schedule(conn, acme, "office", [(0, time(8), time(18))])
        assert [s.name for s in queues.list_schedules(conn, acme)] == ["office"]
        queues.delete_number(conn, acme, "5000")
        queues.delete_schedule(conn, acme, "office")
        assert queues.list_numbers(conn, acme) == [] and queues.list_schedules(conn, acme) == []
        with pytest.raises(NotFound):
            queues.delete_number(conn, acme, "5000")


def test_the_newest_audit_id_moves_with_each_change_of_its_tenant_only(engine, acme, globex):
    with engine.begin() as conn:
        before = audit.latest_id(conn)
        queues.create_queue(conn, acme, "sales", "hunt")
        after = audit.latest_id(conn, [acme.id, globex.id])
        assert after[acme.id] > before.get(acme.id, 0)
        assert after.get(globex.id) == before.get(globex.id)


def test_a_deleted_tenant_takes_its_rows_with_it(engine, globex):
    with engine.begin() as conn:
        queues.create_queue(conn, globex, "support", "hunt")
        tenants.delete_tenant(conn, "globex")
        with pytest.raises(NotFound):
            tenants.get_tenant(conn, "globex")
