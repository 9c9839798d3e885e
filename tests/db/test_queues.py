"""Hunt groups and queues: strategies, options, members, skills, schedules and numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy.exc import IntegrityError

from cti.numbers import DialPlan
from db import agents, queues
from db.errors import NotFound
from db.models import STRATEGIES


@pytest.fixture
def staff(engine, acme, cheap_hash):
    with engine.begin() as conn:
        return [
            agents.create_agent(conn, acme, str(1001 + i), "", password_hash=cheap_hash("pw"))
            for i in range(3)
        ]


def test_every_strategy_name_of_the_contract_is_accepted(engine, acme):
    with engine.begin() as conn:
        for name in STRATEGIES:
            assert queues.create_queue(conn, acme, f"q-{name}", name).strategy == name
        with pytest.raises(ValueError, match="unknown strategy"):
            queues.create_queue(conn, acme, "bad", "ringall")


def test_queue_options_are_stored_and_read_back(engine, acme):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "voicemail-overflow", "ring-all")
        queue = queues.create_queue(
            conn, acme, "sales", "fewest-calls", max_length=12, max_wait_seconds=300,
            wrapup_seconds=15, service_level_seconds=30, overflow_queue="voicemail-overflow",
            join_empty=False, leave_when_empty=True, announce_position=True,
            options={"periodic_announce": "sales-promo", "announce_frequency": 60},
        )
    assert (queue.max_length, queue.max_wait_seconds, queue.wrapup_seconds) == (12, 300, 15)
    assert queue.service_level_seconds == 30 and queue.overflow_queue == "voicemail-overflow"
    assert (queue.join_empty, queue.leave_when_empty, queue.announce_position) == (False, True, True)
    assert queue.options == {"periodic_announce": "sales-promo", "announce_frequency": 60}


def test_unknown_queue_settings_are_refused_not_dropped(engine, acme):
    with engine.begin() as conn, pytest.raises(ValueError, match="maxlen"):
        queues.create_queue(conn, acme, "sales", maxlen=3)


def test_members_come_in_penalty_then_position_order(engine, acme, staff):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "support", "linear")
        queues.add_queue_member(conn, acme, "support", staff[0].id, penalty=2)
        queues.add_queue_member(conn, acme, "support", staff[1].id, penalty=0, position=2)
        queues.add_queue_member(conn, acme, "support", staff[2].id, penalty=0, position=1, weight=3)
        members = queues.get_queue(conn, acme, "support").members
        assert [m.agent_number for m in members] == ["1003", "1002", "1001"]
        assert members[0].weight == 3
        queues.remove_queue_member(conn, acme, "support", staff[2].id)
        assert [m.agent_number for m in queues.get_queue(conn, acme, "support").members] == [
            "1002", "1001"]


def test_a_member_is_in_a_queue_once(engine, acme, staff):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "support")
        queues.add_queue_member(conn, acme, "support", staff[0].id)
    with pytest.raises(IntegrityError), engine.begin() as conn:
        queues.add_queue_member(conn, acme, "support", staff[0].id)


def test_queues_require_skills_at_a_minimum_level(engine, acme):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "billing-de", skills={"billing": 3, "german": 5})
        queue = queues.list_queues(conn, acme)[0]
    assert {(s.skill, s.min_level) for s in queue.skills} == {("billing", 3), ("german", 5)}


def test_a_schedule_is_open_in_its_hours_and_closed_on_holidays(engine, acme):
    with engine.begin() as conn:
        schedule = queues.create_schedule(
            conn, acme, "office", [(d, time(8), time(18)) for d in range(5)],
            [(date(2026, 12, 25), "Christmas")],
        )
        queues.create_queue(conn, acme, "sales", schedule="office", closed_target="voicemail")
        assert queues.get_queue(conn, acme, "sales").schedule == "office"
    assert schedule.time_zone == "Europe/Berlin"
    # 07:30 UTC on a Monday in winter is 08:30 in Berlin.
    assert queues.is_open(schedule, datetime(2026, 11, 23, 7, 30, tzinfo=UTC))
    assert not queues.is_open(schedule, datetime(2026, 11, 23, 6, 30, tzinfo=UTC))
    assert not queues.is_open(schedule, datetime(2026, 11, 22, 10, 0, tzinfo=UTC))  # Sunday
    assert not queues.is_open(schedule, datetime(2026, 12, 25, 10, 0, tzinfo=UTC))


def test_a_dialled_number_routes_to_its_tenant_and_queue_in_any_spelling(engine, acme, globex):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "sales")
        assert queues.create_number(conn, acme, "030 1234567", queue="sales") == "+49301234567"
        queues.create_number(conn, globex, "800", ivr="main-menu")
        german_trunk = DialPlan.for_country("49")
        for dnis in ("+49301234567", "0301234567", "0049301234567"):
            route = queues.route_number(conn, dnis, german_trunk)
            assert (route.tenant.code, route.queue, route.ivr) == ("acme", "sales", None)
        route = queues.route_number(conn, "800")
        assert (route.tenant.code, route.queue, route.ivr) == ("globex", None, "main-menu")
        assert queues.route_number(conn, "+4930999") is None
        assert [r.number for r in queues.list_numbers(conn, acme)] == ["+49301234567"]


def test_a_number_leads_to_exactly_one_place(engine, acme):
    with engine.begin() as conn:
        queues.create_queue(conn, acme, "sales")
        with pytest.raises(ValueError):
            queues.create_number(conn, acme, "0301234567", queue="sales", ivr="menu")
        with pytest.raises(ValueError):
            queues.create_number(conn, acme, "0301234567")
        with pytest.raises(NotFound):
            queues.create_number(conn, acme, "0301234567", queue="nope")
