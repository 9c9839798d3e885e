"""Call detail records, the agent state log and the queue event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from db import agents, calls, queues
from db.records import CallRecord

T0 = datetime(2026, 11, 23, 9, 15, 30, 123456, tzinfo=UTC)


def _record(tenant, key="pbx1/4711/0", **fields):
    values = dict(source="smdr", started_at=T0, tenant_id=tenant.id, link="pbx1", call_id="4711",
                  trunk="001", extension="2001", number="+491715551234", direction="in",
                  ring_seconds=5, duration_seconds=65, raw="23.11.26 10:15:30 001 2001 ...",
                  record_key=key)
    values.update(fields)
    return CallRecord(**values)


def test_a_call_record_is_stored_once_by_its_key(engine, acme):
    with engine.begin() as conn:
        assert calls.record_call(conn, _record(acme)) is True
        assert calls.record_call(conn, _record(acme, duration_seconds=99)) is False
        [stored] = calls.list_calls(conn, acme)
    assert stored == _record(acme)


def test_times_are_kept_in_utc_with_microseconds(engine, acme):
    berlin = timezone(timedelta(hours=1))
    local = datetime(2026, 11, 23, 10, 15, 30, 123456, tzinfo=berlin)
    with engine.begin() as conn:
        calls.record_call(conn, _record(acme, started_at=local, ended_at=local + timedelta(seconds=65)))
        stored = calls.get_call(conn, "pbx1/4711/0")
    assert stored.started_at == T0 and stored.started_at.tzinfo == UTC
    assert stored.started_at.microsecond == 123456
    assert stored.ended_at - stored.started_at == timedelta(seconds=65)


def test_calls_are_listed_by_time_window(engine, acme):
    with engine.begin() as conn:
        for i in range(5):
            calls.record_call(conn, _record(acme, key=f"k{i}", started_at=T0 + timedelta(hours=i)))
        window = calls.list_calls(conn, acme, since=T0 + timedelta(hours=1),
                                  until=T0 + timedelta(hours=3))
    assert [c.record_key for c in window] == ["k1", "k2"]


def test_a_bad_direction_is_refused(engine, acme):
    with engine.begin() as conn, pytest.raises(ValueError, match="direction"):
        calls.record_call(conn, _record(acme, direction="sideways"))


def test_agent_state_changes_are_logged_with_reason_codes(engine, acme, cheap_hash):
    with engine.begin() as conn:
        ann = agents.create_agent(conn, acme, "1001", "", password_hash=cheap_hash("pw"))
        calls.record_agent_state(conn, acme, ann.id, "logged_out", T0)
        calls.record_agent_state(conn, acme, ann.id, "ready", T0 + timedelta(seconds=1),
                                 extension="2001")
        calls.record_agent_state(conn, acme, ann.id, "not_ready", T0 + timedelta(minutes=5),
                                 reason="lunch", extension="2001")
        log = calls.agent_states(conn, acme, ann.id)
    assert [(s.state, s.reason) for s in log] == [
        ("logged_out", None), ("ready", None), ("not_ready", "lunch")]


def test_queue_events_are_logged_in_order(engine, acme, cheap_hash):
    with engine.begin() as conn:
        ann = agents.create_agent(conn, acme, "1001", "", password_hash=cheap_hash("pw"))
        sales = queues.create_queue(conn, acme, "sales")
        calls.record_queue_event(conn, acme, "enter", T0, queue_id=sales.id, call_id="c1",
                                 position=1)
        calls.record_queue_event(conn, acme, "connect", T0 + timedelta(seconds=12.5),
                                 queue_id=sales.id, call_id="c1", agent_id=ann.id,
                                 wait_seconds=12.5, data={"ring_seconds": 3})
        calls.record_queue_event(conn, acme, "agent-logoff", T0 + timedelta(hours=1),
                                 agent_id=ann.id)
        with pytest.raises(ValueError, match="unknown queue event"):
            calls.record_queue_event(conn, acme, "ENTERQUEUE", T0)
        events = calls.queue_events(conn, acme)
        in_sales = calls.queue_events(conn, acme, sales.id)
    assert [e.event for e in events] == ["enter", "connect", "agent-logoff"]
    assert events[1].wait_seconds == 12.5 and events[1].data == {"ring_seconds": 3}
    assert [e.event for e in in_sales] == ["enter", "connect"]
