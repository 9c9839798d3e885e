"""The ACD's part of the configuration: pilot numbers per link, the audit-log poll interval,
and stored queues translated into the engine's QueueConfig (bad values refused by name)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from cti.acd import Engine
from cti.acd.config import AcdError
from cti.acd.decisions import Target
from cti.errors import CLIError
from cti.server.acdconfig import queue_config
from cti.server.config import parse
from cti.server.links import create_driver
from db.records import Queue, QueueSkill, Schedule, ScheduleHours


def link(**extra):
    return {"links": [{"name": "pbx1", "url": "csta://127.0.0.1:2555", "devices": "1001-1003",
                       **extra}]}


def test_route_devices_are_a_device_list_handed_to_the_csta_driver():
    config = parse(link(route_devices="5000,5001-5002"))
    assert config.links[0].route_devices == ("5000", "5001", "5002")
    assert "route_devices" not in config.links[0].options
    driver = create_driver(config.links[0], reactor=None)
    assert list(driver.route_devices) == ["5000", "5001", "5002"]


@pytest.mark.parametrize("raw, message", [
    (link(route_devices=5000), "route_devices must be a string"),
    (link(route_devices="50x0"), "route_devices"),
    ({"acd": {"reload_seconds": -1}}, "reload_seconds must be >= 0"),
    ({"acd": {"reload": 2}}, "unknown key 'reload'"),
])
def test_bad_acd_settings_stop_the_server_with_one_line(raw, message):
    with pytest.raises(CLIError, match=message):
        parse(raw)


def test_the_audit_poll_runs_every_two_seconds_unless_told_otherwise():
    assert parse({}).acd_reload_seconds == 2.0
    assert parse({"acd": {"reload_seconds": 0}}).acd_reload_seconds == 0.0


def stored(**changes):
    base = dict(
        id=1, tenant_id=1, name="sales", strategy="hunt", priority=0, max_length=None,
        max_wait_seconds=None, wrapup_seconds=0, service_level_seconds=20,
        ring_timeout_seconds=15, overflow_queue=None, overflow_target=None, join_empty=True,
        leave_when_empty=False, announce_position=False, announce_hold_time=False,
        schedule=None, closed_target=None, options={}, members=(), skills=())
    return Queue(**{**base, **changes})


def test_a_stored_queue_becomes_the_engines_configuration():
    config = queue_config(stored(
        max_length=5, max_wait_seconds=60, overflow_queue="spill", closed_target="0800",
        skills=(QueueSkill("french", 2),),
        options={"penalty_steps": [[30, 2], [10, 1]], "weight": 3, "empty_means": "no_available"},
    ), "acme")
    assert (config.tenant, config.strategy, config.max_len, config.max_wait) == (
        "acme", "hunt", 5, 60.0)
    assert config.penalty_steps == ((10.0, 1), (30.0, 2))
    assert (config.weight, config.empty_means) == (3, "no_available")
    assert config.overflow == {"full": Target("queue", "spill"),
                               "timeout": Target("queue", "spill"),
                               "empty": Target("queue", "spill"),
                               "closed": Target("number", "0800")}
    assert config.skills["french"].min_level == 2


@pytest.mark.parametrize("changes, empty", [
    ({"options": {"empty_target": "voicemail:700"}}, Target("voicemail", "700")),
    ({"options": {"empty_target": "0800"}}, Target("number", "0800")),
    ({"overflow_queue": "spill", "overflow_target": "0800"}, Target("queue", "spill")),
    ({"overflow_target": "announcement:7001"}, Target("announcement", "7001")),
    ({"closed_target": "voicemail:700"}, None),
])
def test_callers_refused_as_the_queue_is_empty_go_to_the_empty_target_else_the_overflow(
        changes, empty):
    assert queue_config(stored(**changes), "acme").overflow.get("empty") == empty


def test_the_empty_target_leaves_full_and_timed_out_callers_to_the_overflow_queue():
    config = queue_config(stored(overflow_queue="spill",
                                 options={"empty_target": "voicemail:700"}), "acme")
    assert config.overflow == {"full": Target("queue", "spill"),
                               "timeout": Target("queue", "spill"),
                               "empty": Target("voicemail", "700")}


@pytest.mark.parametrize("changes, message", [
    ({"strategy": "ringall"}, "unknown strategy"),
    ({"options": {"empty_target": "queue:sales"}}, "empty_target: .* cannot overflow to itself"),
    ({"options": {"penalty_steps": [[-1, 2]]}}, "penalty steps"),
    ({"options": {"penalty_steps": "soon"}}, "sales"),
    ({"options": {"empty_means": "nobody"}}, "empty_means"),
    ({"overflow_queue": "sales"}, "cannot overflow to itself"),
])
def test_a_bad_stored_value_is_refused_by_name(changes, message):
    with pytest.raises(AcdError, match=message):
        Engine().add_queue(queue_config(stored(**changes), "acme"), 0.0)


def test_a_queue_keeps_the_opening_hours_of_its_stored_schedule():
    office = Schedule(7, 1, "office", "Europe/Berlin",
                      tuple(ScheduleHours(day, time(8), time(18)) for day in range(5)),
                      (date(2026, 12, 25),))
    config = queue_config(stored(schedule="office"), "acme", {"office": office})
    monday_nine_berlin = datetime(2026, 11, 23, 8, 0, tzinfo=UTC).timestamp()
    sunday = datetime(2026, 11, 22, 10, 0, tzinfo=UTC).timestamp()
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=UTC).timestamp()
    assert config.schedule.is_open(monday_nine_berlin)
    assert not config.schedule.is_open(sunday)
    assert not config.schedule.is_open(christmas)
    assert queue_config(stored(schedule="office"), "acme").schedule is None
