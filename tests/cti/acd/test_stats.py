"""Statistics folded from the engine's records: per queue, per agent, per interval."""

import pytest

from cti.acd import AgentState, Engine, QueueConfig, QueueLogEvent, Stats


@pytest.fixture
def day():
    """One agent, four callers, with hold and after-call work; 60-second intervals.

    c1 0->answered 5 (held 10 s), ends 65, ACW to 75; c2 10->answered 75, ends 135, ACW to
    145; c3 20->abandons 30; c4 100->abandons 110.
    """
    engine = Engine(stats=Stats(interval=60))
    engine.add_queue(QueueConfig("q", sl_seconds=20, wrapup_seconds=10), 0)
    records = []
    keep = records.extend
    engine.add_agent("a1", 0)
    engine.add_member("q", "a1", 0)
    keep(engine.agent_login("a1", 0))
    keep(engine.caller_arrived("c1", 0, "q"))
    keep(engine.agent_answered("c1", "a1", 5))
    keep(engine.caller_arrived("c2", 10, "q"))
    keep(engine.call_held("c1", 10))
    keep(engine.call_retrieved("c1", 20))
    keep(engine.caller_arrived("c3", 20, "q"))
    keep(engine.caller_abandoned("c3", 30))
    keep(engine.call_ended("c1", 65))
    keep(engine.tick(75))
    keep(engine.agent_answered("c2", "a1", 75))
    keep(engine.caller_arrived("c4", 100, "q"))
    keep(engine.caller_abandoned("c4", 110))
    keep(engine.call_ended("c2", 135, by="caller"))
    keep(engine.tick(145))
    return engine, records


def test_queue_counters_and_both_service_levels(day):
    engine, _ = day
    q = engine.stats.queue("q")
    assert (q.offered, q.answered, q.abandoned) == (4, 2, 2)
    assert (q.answered_in_sl, q.abandoned_in_sl) == (1, 2)
    assert q.service_level == pytest.approx(1 / 2)
    assert q.service_level_2 == pytest.approx((1 + 2) / (2 + 2))
    assert q.asa == pytest.approx((5 + 65) / 2)
    assert q.longest_wait == 65
    assert q.p_wait == 1.0
    assert q.abandon_rate == 0.5


def test_average_handling_time_is_talk_plus_hold_plus_after_call_work(day):
    engine, _ = day
    q = engine.stats.queue("q")
    assert (q.talk, q.hold, q.acw, q.handled) == (110, 10, 20, 2)
    assert q.aht == pytest.approx((110 + 10 + 20) / 2)


def test_agent_counters_and_occupancy(day):
    engine, _ = day
    a1 = engine.stats.agent("a1", now=145)
    assert a1.answered == 2
    assert (a1.talk, a1.hold, a1.acw) == (110, 10, 20)
    assert a1.staffed == 145
    assert a1.busy == 140            # in call 5-65 and 75-135, wrap-up 65-75 and 135-145
    assert a1.occupancy == pytest.approx(140 / 145)
    # Idle time still counts as staffed up to "now".
    assert engine.stats.agent("a1", now=200).staffed == 200
    assert engine.stats.occupancy(now=145) == pytest.approx(140 / 145)


def test_intervals_split_counts_and_agent_time_at_boundaries(day):
    engine, _ = day
    intervals = engine.stats.intervals("q")
    assert list(intervals) == [0, 60, 120]
    assert [(c.offered, c.answered, c.abandoned) for c in intervals.values()] == [
        (3, 1, 1), (1, 1, 1), (0, 0, 0)]
    agent = engine.stats.agent_intervals("a1")
    assert [c.busy for c in agent.values()] == [55, 60, 25]
    assert [c.staffed for c in agent.values()] == [60, 60, 25]


def test_statistics_rebuild_from_the_stored_records(day):
    engine, records = day
    rebuilt = Stats(interval=60)
    rebuilt.set_service_level("q", 20)
    for record in records:
        if isinstance(record, QueueLogEvent | AgentState):
            rebuilt.observe(record)
    assert rebuilt.queue("q") == engine.stats.queue("q")
    assert rebuilt.agent("a1", 145) == engine.stats.agent("a1", 145)
    assert rebuilt.intervals("q") == engine.stats.intervals("q")


def test_not_ready_time_is_not_staffed_time():
    engine = Engine()
    engine.add_queue(QueueConfig("q"), 0)
    engine.add_agent("a1", 0)
    engine.add_member("q", "a1", 0)
    engine.agent_login("a1", 0)
    engine.agent_not_ready("a1", 100, "lunch")
    engine.agent_ready("a1", 400)
    counters = engine.stats.agent("a1", now=500)
    assert (counters.staffed, counters.not_ready, counters.busy) == (200, 300, 0)
    assert counters.occupancy == 0


def test_live_queue_view_shows_the_longest_current_wait(day):
    engine, _ = day
    engine.caller_arrived("c5", 150, "q")
    engine.agent_logout("a1", 150)
    engine.caller_arrived("c6", 170, "q")
    engine.tick(200)
    view = engine.queue_view("q")
    assert (view["waiting"], view["longest_wait"], view["logged_in"]) == (2, 50, 0)


def test_old_intervals_can_be_pruned_once_stored(day):
    engine, _ = day
    engine.stats.prune(before=120)
    assert list(engine.stats.intervals("q")) == [120]
    assert list(engine.stats.agent_intervals("a1")) == [120]
    # Totals stay; new records still land in the right interval.
    assert engine.stats.queue("q").offered == 4
    engine.caller_arrived("c9", 150, "q")
    assert engine.stats.intervals("q")[120].offered == 1
