"""Generated traffic: Poisson arrivals and holding times at a fixed seed, and burst mode."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.task import Clock

from simulators.pbx import Switch
from simulators.traffic import TrafficGenerator

EXTENSIONS = [str(n) for n in range(1000, 1100)]


def make_switch(clock):
    switch = Switch(clock)
    switch.add_extensions(EXTENSIONS)
    return switch


def run(clock, seconds, step=1.0):
    for _ in range(int(seconds / step)):
        clock.advance(step)


def test_mean_arrival_rate_matches_at_a_fixed_seed():
    clock = Clock()
    switch = make_switch(clock)
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=2.0, holding=5, seed=7)
    traffic.start()
    run(clock, 3600)
    traffic.close()
    rate = traffic.stats.offered / 3600
    assert rate == pytest.approx(2.0, rel=0.05)


def test_same_seed_same_traffic():
    outcomes = []
    for _ in range(2):
        clock = Clock()
        traffic = TrafficGenerator(make_switch(clock), EXTENSIONS, rate=1.0, holding=3, seed=3)
        traffic.start()
        run(clock, 300)
        outcomes.append(traffic.stats.as_dict())
    assert outcomes[0] == outcomes[1]


def test_mean_holding_time_matches():
    clock = Clock()
    switch = make_switch(clock)
    talk = {}
    durations = []

    def watch(event):
        if event.kind == "established":
            talk[event.call_id] = clock.seconds()
        elif event.kind == "call_cleared" and event.call_id in talk:
            durations.append(clock.seconds() - talk.pop(event.call_id))

    switch.subscribe(watch)
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=0.5, holding=20, ring_delay=2, seed=11)
    traffic.start()
    run(clock, 4000, step=0.5)
    assert len(durations) > 1500
    assert sum(durations) / len(durations) == pytest.approx(20, rel=0.08)


def test_fixed_holding_time_and_auto_answer_after_the_ring_delay():
    clock = Clock()
    switch = make_switch(clock)
    traffic = TrafficGenerator(switch, ["1000"], rate=0.01, holding=30,
                               holding_distribution="fixed", ring_delay=2, seed=1)
    traffic.start()
    clock.advance(traffic._next_arrival)
    (call_id,) = switch.calls
    clock.advance(2)
    assert dict(switch.snapshot_call(call_id))["1000"] == "connected"
    clock.advance(29.9)
    assert call_id in switch.calls
    clock.advance(0.1)
    assert call_id not in switch.calls
    traffic.close()


def test_calls_to_a_pilot_reach_its_members():
    clock = Clock()
    switch = make_switch(clock)
    switch.add_pilot("5000", ["1000", "1001"], "hunt")
    traffic = TrafficGenerator(switch, ["5000"], rate=0.1, holding=5, ring_delay=1, seed=2)
    traffic.start()
    run(clock, 600)
    assert traffic.stats.answered > 30
    traffic.close()


def test_stop_places_no_new_calls_and_close_cancels_hangups():
    clock = Clock()
    switch = make_switch(clock)
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=5, holding=100, ring_delay=0.5, seed=4)
    traffic.start()
    run(clock, 10)
    traffic.stop()
    offered = traffic.stats.offered
    run(clock, 10)
    assert traffic.stats.offered == offered
    traffic.close()
    switch.close()
    assert clock.getDelayedCalls() == []


@pytest.mark.parametrize("kwargs", [{"rate": 0}, {"holding": -1}, {"holding_distribution": "x"}])
def test_bad_parameters_are_refused(kwargs):
    with pytest.raises(ValueError):
        TrafficGenerator(make_switch(Clock()), EXTENSIONS, **kwargs)


@pytest_twisted.inlineCallbacks
def test_burst_mode_keeps_calls_flowing_on_the_real_reactor():
    switch = make_switch(reactor)
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=None, holding=0, ring_delay=0, seed=1)
    traffic.start()
    try:
        yield task.deferLater(reactor, 0.3, lambda: None)
    finally:
        traffic.close()
        switch.close()
    assert traffic.stats.completed > 200
    assert traffic.stats.refused == 0


def test_burst_mode_waits_while_a_client_is_congested():
    clock = Clock()
    switch = make_switch(clock)
    jammed = [True]
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=None, holding=0.01, ring_delay=0.01,
                               seed=1, congested=lambda: jammed[0])
    traffic.start()
    for _ in range(20):
        clock.advance(0.01)
    assert traffic.stats.offered == 0
    jammed[0] = False
    traffic.kick()
    clock.advance(0)
    assert traffic.stats.offered == len(EXTENSIONS)
    traffic.close()
    switch.close()


def test_callers_come_in_international_and_national_forms():
    clock = Clock()
    switch = make_switch(clock)
    callers = []
    switch.subscribe(lambda e: e.kind == "delivered" and callers.append(e.calling))
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=1, holding=1, seed=5,
                               national_share=0.5)
    traffic.start()
    run(clock, 400)
    traffic.close()
    national = sum(c.startswith("030") for c in callers)
    international = sum(c.startswith("+4930") for c in callers)
    assert national + international == len(callers)
    assert national / len(callers) == pytest.approx(0.5, abs=0.1)


def test_max_calls_ends_the_traffic_and_busy_trunks_refuse_calls():
    clock = Clock()
    switch = make_switch(clock)
    switch.add_trunks(["8001", "8002"])
    traffic = TrafficGenerator(switch, EXTENSIONS, rate=10, holding=1000, ring_delay=1,
                               seed=9, max_calls=20)
    traffic.start()
    run(clock, 10)
    assert traffic.stats.offered == 2
    assert traffic.stats.refused == 18
    assert not traffic.running
    traffic.close()
