"""Opening hours evaluated at the time carried by the input, in the queue's time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cti.acd import Schedule


def at(text, zone="Europe/Berlin"):
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp()


@pytest.fixture
def hours():
    return Schedule.parse(
        {"mon-fri": "08:00-12:00, 13:00-18:00", "sat": ["09:00-13:00"], "sun": "22:00-00:00"},
        timezone="Europe/Berlin", holidays=["2026-12-25"],
        special={"2026-12-24": "08:00-12:00"},
    )


@pytest.mark.parametrize(("local", "open_"), [
    ("2026-11-23 07:59", False), ("2026-11-23 08:00", True), ("2026-11-23 12:30", False),
    ("2026-11-23 17:59", True), ("2026-11-23 18:00", False), ("2026-11-28 10:00", True),
    ("2026-11-28 14:00", False), ("2026-11-29 23:30", True), ("2026-11-29 21:59", False),
    ("2026-12-25 10:00", False), ("2026-12-24 11:00", True), ("2026-12-24 14:00", False),
])
def test_weekly_hours_holidays_and_special_days(hours, local, open_):
    assert hours.is_open(at(local)) is open_


def test_the_queue_time_zone_decides_not_utc(hours):
    # 07:30 UTC is 08:30 in Berlin in November (open) but 02:30 in New York.
    moment = at("2026-11-23 07:30", "UTC")
    assert hours.is_open(moment)
    new_york = Schedule.parse({"mon-fri": "08:00-18:00"}, timezone="America/New_York")
    assert not new_york.is_open(moment)


def test_day_ranges_may_wrap_over_the_week_end():
    weekend = Schedule.parse({"fri-mon": "00:00-00:00"})
    assert weekend.is_open(at("2026-11-29 12:00", "UTC"))      # Sunday
    assert not weekend.is_open(at("2026-11-25 12:00", "UTC"))  # Wednesday


@pytest.mark.parametrize(("hours", "message"), [
    ({"funday": "08:00-10:00"}, "bad day range"),
    ({"mon": "8am-5pm"}, "bad time range"),
    ({"mon": "08:00"}, "bad time range"),
])
def test_bad_schedules_are_refused_with_the_offending_entry(hours, message):
    with pytest.raises(ValueError, match=message):
        Schedule.parse(hours)


def test_bad_holiday_dates_are_refused():
    with pytest.raises(ValueError, match="bad date '25.12.2026'"):
        Schedule.parse({}, holidays=["25.12.2026"])
