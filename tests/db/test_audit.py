"""Every administrative change leaves an audit entry: who, what, which row, which fields."""

from __future__ import annotations

from db import agents, audit, queues


def test_administration_is_audited_with_the_actor(engine, acme, cheap_hash):
    with engine.begin() as conn:
        ann = agents.create_agent(conn, acme, "1001", "", skills={"sales": 4},
                                  password_hash=cheap_hash("pw"), actor="admin-eve")
        queues.create_queue(conn, acme, "sales", "ring-all", max_length=5, actor="admin-eve")
        queues.add_queue_member(conn, acme, "sales", ann.id, penalty=2, actor="admin-eve")
        queues.create_number(conn, acme, "030 1234567", queue="sales", actor="admin-eve")
        agents.set_password(conn, acme, "1001", "new", actor="admin-bob")
        entries = list(reversed(audit.list_audit(conn, acme.id)))
    assert [(e.actor, e.action, e.entity) for e in entries] == [
        ("system", "create", "tenant"),
        ("admin-eve", "create", "user"),
        ("admin-eve", "create", "agent"),
        ("admin-eve", "update", "agent"),
        ("admin-eve", "create", "queue"),
        ("admin-eve", "create", "queue_member"),
        ("admin-eve", "create", "number"),
        ("admin-bob", "update", "user"),
    ]
    assert entries[3].changes == {"skills": {"sales": 4}}
    assert entries[4].changes["max_length"] == 5 and entries[4].changes["strategy"] == "ring-all"
    assert entries[6].entity_id == "+49301234567"
    assert entries[7].changes == {"password": "changed"}
    assert all(e.at.tzinfo is not None for e in entries)
