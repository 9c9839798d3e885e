"""Queue rules: length and wait limits, empty queues, overflow, schedules, DNIS, announcements."""

from datetime import UTC, datetime

import pytest

from cti.acd import AcdError, Announce, Exit, Overflow, Schedule, StopRinging, Target


def _utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_a_full_queue_refuses_callers(center):
    center.queue("q", max_len=2)
    center.arrive("c1", 0)
    center.arrive("c2", 1)
    decisions = center.arrive("c3", 2)
    assert center.of(decisions, Exit) == [Exit("c3", "q", "full")]
    assert center.events(decisions) == ["FULL"]
    assert center.waiting() == ["c1", "c2"]
    # The refused call is not in the ACD: it can arrive again later under the same ID.
    center.engine.caller_abandoned("c1", 3)
    assert center.of(center.arrive("c3", 4), Exit) == []


def test_a_full_queue_overflows_to_another_queue(center):
    center.queue("backup")
    center.staff("backup", "b1")
    center.queue("q", max_len=1, overflow={"full": Target("queue", "backup")})
    center.arrive("c1", 0)
    decisions = center.arrive("c2", 1)
    assert center.of(decisions, Overflow) == [
        Overflow("c2", "q", "full", Target("queue", "backup"))
    ]
    assert center.offered(decisions) == [("c2", "b1")]
    assert center.events(decisions)[:2] == ["OVERFLOW", "ENTERQUEUE"]


def test_max_wait_exits_with_timeout_and_logs_positions(center):
    center.queue("q", max_wait=60)
    center.arrive("c1", 0)
    center.arrive("c2", 10)
    decisions = center.tick(70)
    assert center.of(decisions, Exit) == [Exit("c1", "q", "timeout"), Exit("c2", "q", "timeout")]
    first = [d for d in decisions if getattr(d, "event", None) == "EXITWITHTIMEOUT"][0]
    assert first.data == {"origposition": 1, "position": 1, "waittime": 60}
    assert center.waiting() == []


def test_max_wait_overflows_to_voice_mail(center):
    center.queue("q", max_wait=60, overflow={"timeout": Target("voicemail", "5000")})
    center.arrive("c1", 0)
    decisions = center.tick(60)
    assert center.of(decisions, Overflow) == [
        Overflow("c1", "q", "timeout", Target("voicemail", "5000"))
    ]
    assert center.record(decisions, "OVERFLOW").data["target"] == "voicemail:5000"


def test_max_wait_while_ringing_decides_after_the_ring(center):
    center.queue("q", max_wait=20, ring_timeout=15)
    center.staff("q", "a1")
    center.take("c0", 0)
    center.arrive("c1", 1)
    center.staff("q", "a2", t=10)          # c1 rings a2 from t=10
    assert center.engine.agent_view("a2")["state"] == "ringing"
    assert center.of(center.tick(21), Exit) == []   # still ringing at the limit
    decisions = center.tick(25)                     # no answer: now it times out
    assert center.of(decisions, Exit) == [Exit("c1", "q", "timeout")]


def test_an_answer_before_the_limit_cancels_the_timeout(center):
    center.queue("q", max_wait=20)
    center.staff("q", "a1")
    center.take("c1", 0)
    assert center.of(center.tick(100), Exit) == []


def test_join_empty_refused_when_nobody_is_logged_in(center):
    center.queue("q", join_empty=False)
    center.engine.add_agent("a1", 0)
    center.engine.add_member("q", "a1", 0)
    decisions = center.arrive("c1", 1)
    assert center.of(decisions, Exit) == [Exit("c1", "q", "empty")]
    assert center.events(decisions) == ["JOINEMPTY"]
    center.login("a1", 2, ready=False)
    # Logged in (even on break) is enough with empty_means="no_logged_in".
    assert center.of(center.arrive("c2", 3), Exit) == []


def test_join_empty_when_nobody_is_available_overflows(center):
    center.queue("q", join_empty=False, empty_means="no_available",
                 overflow={"empty": Target("announcement", "all-busy")})
    center.staff("q", "a1", ready=False)
    [overflow] = center.of(center.arrive("c1", 1), Overflow)
    assert overflow.target == Target("announcement", "all-busy")


def test_leave_when_empty_takes_waiting_callers_out_when_the_last_agent_leaves(center):
    center.queue("q", leave_when_empty=True)
    center.staff("q", "a1")
    center.take("c0", 0)
    center.arrive("c1", 1)
    center.arrive("c2", 2)
    center.end("c0", 3)
    center.answer("c1", "a1", 3)
    decisions = center.engine.agent_logout("a1", 4)
    assert center.of(decisions, Exit) == [Exit("c2", "q", "leave_empty")]
    assert "EXITEMPTY" in center.events(decisions)


def test_schedule_closed_outside_hours_and_on_holidays(center):
    hours = Schedule.parse({"mon-fri": "08:00-18:00"}, timezone="Europe/Berlin",
                           holidays=["2026-12-25"])
    center.queue("q", schedule=hours, overflow={"closed": Target("announcement", "closed")})
    center.staff("q", "a1", t=_utc("2026-11-23T00:00:00"))
    # Monday 23 Nov 2026, 07:30 UTC = 08:30 in Berlin: open.
    assert center.offered(center.arrive("c1", _utc("2026-11-23T07:30:00"))) == [("c1", "a1")]
    # 17:30 UTC = 18:30 in Berlin: closed.
    [overflow] = center.of(center.arrive("c2", _utc("2026-11-23T17:30:00")), Overflow)
    assert (overflow.reason, overflow.target.value) == ("closed", "closed")
    # Christmas Day is a Friday but a holiday.
    assert center.of(center.arrive("c3", _utc("2026-12-25T10:00:00")), Overflow)


def test_schedule_without_a_target_exits_closed(center):
    center.queue("q", schedule=Schedule.parse({"sat-sun": "10:00-12:00"}))
    decisions = center.arrive("c1", _utc("2026-11-23T11:00:00"))   # a Monday
    assert center.of(decisions, Exit) == [Exit("c1", "q", "closed")]
    assert center.events(decisions) == ["CLOSED"]


def test_dnis_routes_to_the_tenants_queue(center):
    center.queue("acme-support", tenant="acme")
    center.queue("globex-sales", tenant="globex")
    center.staff("acme-support", "a1")
    center.staff("globex-sales", "g1")
    center.engine.map_dnis("+498912345", "acme-support")
    center.engine.map_dnis("+498967890", "globex-sales")
    decisions = center.arrive("c1", 1, None, dnis="+498967890", calling="+4930111")
    assert center.offered(decisions) == [("c1", "g1")]
    assert center.engine.tenant_of("globex-sales") == "globex"
    assert center.record(decisions, "ENTERQUEUE").data["dnis"] == "+498967890"
    assert center.of(center.arrive("c2", 2, None, dnis="999"), Exit) == [
        Exit("c2", None, "unknown_dnis")
    ]
    assert center.of(center.arrive("c3", 3, "nosuch"), Exit) == [
        Exit("c3", "nosuch", "unknown_queue")
    ]


def test_callers_hear_position_expected_wait_and_music(center):
    center.queue("q", announce_position=True, announce_every=30, music="jazz",
                 expected_aht=120)
    center.staff("q", "a1")
    center.take("c0", 0)
    [enter] = center.of(center.arrive("c1", 1), Announce)
    assert (enter.kind, enter.position, enter.expected_wait, enter.music) == (
        "enter", 1, 120, "jazz")
    center.arrive("c2", 2)
    decisions = center.tick(31)
    [periodic] = center.of(decisions, Announce)
    assert (periodic.call_id, periodic.kind, periodic.position) == ("c1", "position", 1)
    center.engine.caller_abandoned("c1", 40)
    [later] = center.of(center.tick(62), Announce)
    assert (later.call_id, later.position) == ("c2", 1)


def test_abandon_records_position_original_position_and_wait(center):
    center.queue("q")
    center.arrive("c1", 0)
    center.arrive("c2", 1)
    center.arrive("c3", 2)
    center.engine.caller_abandoned("c1", 5)
    decisions = center.engine.caller_abandoned("c3", 12)
    assert center.record(decisions, "ABANDON").data == {
        "position": 2, "origposition": 3, "waittime": 10,
    }


def test_a_caller_abandoning_while_ringing_frees_the_agent(center):
    center.queue("q")
    center.staff("q", "a1")
    center.arrive("c1", 0)
    decisions = center.engine.caller_abandoned("c1", 3)
    assert center.of(decisions, StopRinging)[0].reason == "abandon"
    assert center.state("a1") == ("available", "idle", None)


def test_overflow_loops_end_in_an_exit(center):
    center.queue("a", max_len=0, overflow={"full": Target("queue", "b")})
    center.queue("b", max_len=0, overflow={"full": Target("queue", "a")})
    decisions = center.arrive("c1", 0, "a")
    assert center.of(decisions, Exit) == [Exit("c1", "b", "full")]


def test_bad_queue_settings_are_refused_with_a_reason():
    from cti.acd import QueueConfig

    with pytest.raises(AcdError, match="unknown strategy 'fastest'"):
        QueueConfig("q", strategy="fastest")
    with pytest.raises(AcdError, match="unknown overflow reason 'rain'"):
        QueueConfig("q", overflow={"rain": Target("queue", "x")})
    with pytest.raises(AcdError, match="ring_timeout"):
        QueueConfig("q", ring_timeout=-1)
    with pytest.raises(ValueError, match="overflow target kind"):
        Target("fax", "1")
    with pytest.raises(ValueError, match="unknown time zone"):
        Schedule(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="bad time range"):
        Schedule.parse({"mon": "8-18"})
