"""Each distribution strategy picks agents in its documented order."""

from collections import Counter

import pytest

from cti.acd import STRATEGIES, Offer, RingAll, StopRinging


def test_strategy_names_are_the_interface_names():
    assert set(STRATEGIES) == {
        "ring-all", "hunt", "linear", "longest-idle", "round-robin", "fewest-calls",
        "least-talk-time", "random", "weighted-random",
    }


def test_linear_always_starts_from_the_top_of_the_list(center):
    center.queue(strategy="linear")
    center.staff("q", "a1", "a2", "a3", "a4")
    assert center.take("c1", 1) == "a1"
    assert center.take("c2", 2) == "a2"
    center.end("c1", 3)
    assert center.take("c3", 4) == "a1"
    assert center.take("c4", 5) == "a3"


def test_linear_follows_explicit_positions_over_joining_order(center):
    center.queue(strategy="linear")
    center.staff("q", "a1", position=3)
    center.staff("q", "a2", position=1)
    center.staff("q", "a3", position=2)
    assert [center.take(f"c{i}", i) for i in range(3)] == ["a2", "a3", "a1"]


def test_hunt_cycles_on_from_the_last_agent_tried(center):
    center.queue(strategy="hunt")
    center.staff("q", "a1", "a2", "a3", "a4")
    assert center.take("c1", 1) == "a1"
    assert center.take("c2", 2) == "a2"
    center.end("c1", 3)
    # a1 is free again, but circular hunting goes on after a2.
    assert center.take("c3", 4) == "a3"
    assert center.take("c4", 5) == "a4"
    center.end("c2", 6)
    # Past the end of the group it wraps to the top: a1 (a2 comes after it).
    assert center.take("c5", 7) == "a1"
    assert center.take("c6", 8) == "a2"


@pytest.mark.parametrize(("strategy", "expected"), [("hunt", "a3"), ("round-robin", "a1")])
def test_hunt_remembers_tries_but_round_robin_remembers_answers(center, strategy, expected):
    center.queue(strategy=strategy, autopause=False)
    center.staff("q", "a1", "a2", "a3")
    assert center.offered(center.arrive("c1", 1)) == [("c1", "a1")]
    # a1 does not answer: c1 moves on to a2 and a1 is free again (no autopause).
    assert center.offered(center.tick(16)) == [("c1", "a2")]
    # A new caller: hunt goes on after a2 (the last tried); round-robin after the last agent
    # who answered - nobody yet - so it starts again from a1.
    assert center.offered(center.arrive("c2", 17)) == [("c2", expected)]


def test_longest_idle_picks_the_agent_idle_longest(center):
    center.queue(strategy="longest-idle")
    for t, agent in enumerate(("a3", "a1", "a4", "a2")):
        center.staff("q", agent, t=t)
    assert center.take("c1", 10) == "a3"
    assert center.take("c2", 11) == "a1"
    center.end("c1", 12)
    assert center.take("c3", 13) == "a4"
    assert center.take("c4", 14) == "a2"
    assert center.take("c5", 15) == "a3"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [("longest-idle", "a1"), ("fewest-calls", "a1"), ("least-talk-time", "a2"),
     ("linear", "a1")],
)
def test_call_history_strategies(center, strategy, expected):
    center.queue(strategy=strategy)
    center.staff("q", "a1")
    center.staff("q", "a2")
    center.engine.agent_not_ready("a2", 0, "break")
    assert center.take("c1", 1) == "a1"
    center.end("c1", 101)
    center.engine.agent_not_ready("a1", 101, "lunch")
    center.engine.agent_ready("a2", 101)
    assert center.take("c2", 102) == "a2"
    center.end("c2", 107)
    assert center.take("c3", 108) == "a2"
    center.end("c3", 113)
    center.engine.agent_ready("a1", 114)
    # a1: 1 call, 100 s talk, idle since 101; a2: 2 calls, 10 s talk, idle since 113.
    assert center.offered(center.arrive("c4", 120)) == [("c4", expected)]


def test_fewest_calls_prefers_the_agent_with_fewer_calls_even_if_idle_less(center):
    center.queue(strategy="fewest-calls")
    center.staff("q", "a1")
    assert center.take("c1", 1) == "a1"
    center.end("c1", 2)
    center.staff("q", "a2", t=10)
    assert center.take("c2", 20) == "a2"


def test_ring_all_rings_every_idle_member_and_the_first_answer_wins(center):
    center.queue(strategy="ring-all")
    center.staff("q", "a1", "a2", "a3", step=1)
    ring = center.arrive("c1", 5)
    [ring_all] = center.of(ring, RingAll)
    assert [agent for agent, _ in ring_all.agents] == ["a1", "a2", "a3"]
    assert ring_all.agents[0] == ("a1", "ext-a1")
    assert {center.state(a)[1] for a in ("a1", "a2", "a3")} == {"ringing"}
    answered = center.answer("c1", "a2", 7)
    [stop] = center.of(answered, StopRinging)
    assert stop.agents == (("a1", "ext-a1"), ("a3", "ext-a3"))
    assert stop.reason == "answered_elsewhere"
    assert center.state("a2")[1] == "in_call"
    assert center.state("a1")[1] == center.state("a3")[1] == "idle"
    [again] = center.of(center.arrive("c2", 8), RingAll)
    assert {agent for agent, _ in again.agents} == {"a1", "a3"}


def test_ring_all_with_one_idle_agent_is_a_plain_offer(center):
    center.queue(strategy="ring-all")
    center.staff("q", "a1")
    assert center.offered(center.arrive("c1", 1)) == [("c1", "a1")]


def test_random_is_seeded_and_spreads_calls_evenly():
    from cti.acd import Engine, QueueConfig

    def run(seed):
        engine = Engine(seed=seed)
        engine.add_queue(QueueConfig("q", strategy="random"), 0)
        for agent in ("a1", "a2", "a3", "a4"):
            engine.add_agent(agent, 0)
            engine.add_member("q", agent, 0)
            engine.agent_login(agent, 0)
        picks = []
        for i in range(2000):
            [offer] = [d for d in engine.caller_arrived(f"c{i}", i, "q") if isinstance(d, Offer)]
            engine.agent_answered(offer.call_id, offer.agent_id, i)
            engine.call_ended(offer.call_id, i + 0.5)
            picks.append(offer.agent_id)
        return picks

    first = run(7)
    assert first == run(7)
    assert first != run(8)
    counts = Counter(first)
    assert set(counts) == {"a1", "a2", "a3", "a4"}
    # Uniform: 500 each; a binomial standard deviation is ~19, allow 5 of them.
    assert all(abs(count - 500) < 100 for count in counts.values()), counts


def test_weighted_random_follows_member_weights():
    from cti.acd import Engine, QueueConfig

    engine = Engine(seed=3)
    engine.add_queue(QueueConfig("q", strategy="weighted-random"), 0)
    for agent, weight in (("light", 1.0), ("heavy", 3.0)):
        engine.add_agent(agent, 0)
        engine.add_member("q", agent, 0, weight=weight)
        engine.agent_login(agent, 0)
    picks = Counter()
    for i in range(4000):
        [offer] = [d for d in engine.caller_arrived(f"c{i}", i, "q") if isinstance(d, Offer)]
        engine.agent_answered(offer.call_id, offer.agent_id, i)
        engine.call_ended(offer.call_id, i + 0.5)
        picks[offer.agent_id] += 1
    # Expected 3000 of 4000 for "heavy"; the standard deviation is ~27.
    assert abs(picks["heavy"] - 3000) < 140, picks


def test_a_free_agent_takes_the_longest_waiting_caller(center):
    center.queue(strategy="linear")
    center.staff("q", "a1")
    center.take("c1", 1)
    center.arrive("c2", 2)
    center.arrive("c3", 3)
    assert center.waiting() == ["c2", "c3"]
    assert center.offered(center.end("c1", 10)) == [("c2", "a1")]
    assert center.waiting() == ["c3"]
