"""Live administration: agents, skills, queues, members and strategies change under load."""

import pytest

from cti.acd import AcdError, Exit, StopRinging


def _loaded(center):
    """Two agents busy, three callers waiting."""
    center.queue("q", strategy="linear", ring_timeout=None)
    center.staff("q", "a1", "a2")
    center.take("c1", 0)
    center.take("c2", 1)
    for i, call in enumerate(("w1", "w2", "w3")):
        center.arrive(call, 2 + i)
    assert center.waiting() == ["w1", "w2", "w3"]


def test_adding_a_member_while_callers_wait_serves_the_head_at_once(center):
    _loaded(center)
    center.engine.add_agent("a3", 10, extension="2003")
    center.login("a3", 10)   # logged in, but not a member yet
    assert center.waiting() == ["w1", "w2", "w3"]
    decisions = center.engine.add_member("q", "a3", 11)
    assert center.offered(decisions) == [("w1", "a3")]
    assert center.waiting() == ["w2", "w3"]


def test_removing_a_member_keeps_its_call_but_gives_it_no_more(center):
    _loaded(center)
    center.engine.remove_member("q", "a1", 10)
    assert center.engine.agent_view("a1")["call_id"] == "c1"
    assert center.offered(center.end("c1", 11)) == []
    assert center.offered(center.end("c2", 12)) == [("w1", "a2")]
    with pytest.raises(AcdError, match="not an explicit member"):
        center.engine.remove_member("q", "a1", 13)


def test_changing_a_member_penalty_reorders_without_losing_callers(center):
    center.queue("q", strategy="linear")
    center.staff("q", "a1", "a2")
    center.engine.update_member("q", "a1", 1, penalty=5)
    assert center.take("c1", 2) == "a2"
    assert center.take("c2", 3) == "a1"


def test_changing_the_strategy_live_keeps_waiting_callers_and_idle_agents(center):
    _loaded(center)
    center.engine.set_strategy("q", "longest-idle", 10)
    assert center.engine.queue_view("q")["strategy"] == "longest-idle"
    assert center.waiting() == ["w1", "w2", "w3"]
    center.staff("q", "a3", t=11)
    assert center.engine.agent_view("a3")["call_id"] == "w1"
    center.answer("w1", "a3", 11)
    center.end("c2", 20)
    center.end("c1", 21)
    # Both free agents took the next callers in line, in the order they became free.
    assert center.engine.agent_view("a2")["call_id"] == "w2"
    assert center.engine.agent_view("a1")["call_id"] == "w3"


def test_relaxing_queue_rules_live_rematches_waiting_callers(center):
    center.queue("q", penalty_steps=((0, 0),))
    center.staff("q", "busy")
    center.take("c0", 0)
    center.staff("q", "spare", penalty=3)
    center.arrive("c1", 1)
    assert center.waiting() == ["c1"]
    decisions = center.engine.update_queue("q", 5, penalty_steps=((0, 0), (3, 3)))
    assert center.offered(decisions) == [("c1", "spare")]


def test_changing_queue_skills_live_changes_who_serves(center):
    center.queue("q", skills={"german": 1})
    center.login("anna", 0, skills={"german": 2})
    center.login("bob", 0, skills={"french": 2})
    center.take("c0", 0)
    center.arrive("c1", 1)
    decisions = center.engine.update_queue("q", 2, skills={"french": 1})
    assert center.offered(decisions) == [("c1", "bob")]
    assert center.engine.queue_view("q")["members"] == 1


def test_removing_a_queue_lets_its_callers_exit_and_its_agents_go_on(center):
    center.queue("old")
    center.queue("new")
    center.login("a1", 0)
    center.engine.add_member("old", "a1", 0)
    center.engine.add_member("new", "a1", 0)
    center.take("c0", 0, "old")
    center.arrive("w1", 1, "old")
    center.arrive("n1", 2, "new")
    center.engine.map_dnis("800", "old")
    decisions = center.engine.remove_queue("old", 3)
    assert center.of(decisions, Exit) == [Exit("w1", "old", "queue_removed")]
    assert center.engine.agent_view("a1")["queues"] == ["new"]
    # The call in progress ends normally; the agent then serves the remaining queue.
    assert center.offered(center.end("c0", 4)) == [("n1", "a1")]
    assert center.of(center.arrive("x", 5, None, dnis="800"), Exit)[0].reason == "unknown_dnis"


def test_removing_an_agent_during_a_call(center):
    _loaded(center)
    center.engine.remove_agent("a1", 10)
    assert "a1" not in center.engine.agents
    decisions = center.end("c1", 11)
    assert center.events(decisions) == ["COMPLETEAGENT"]
    assert center.offered(decisions) == []
    assert center.offered(center.end("c2", 12)) == [("w1", "a2")]


def test_admin_mistakes_are_refused_and_change_nothing(center):
    center.queue("q")
    with pytest.raises(AcdError, match="already exists"):
        center.queue("q")
    with pytest.raises(AcdError, match="unknown queue 'nope'"):
        center.engine.add_member("nope", "a1", 0)
    with pytest.raises(AcdError, match="unknown agent"):
        center.engine.add_member("q", "a1", 0)
    with pytest.raises(AcdError, match="unknown strategy"):
        center.engine.set_strategy("q", "fastest", 0)
    assert center.engine.queue_view("q")["strategy"] == "longest-idle"
    with pytest.raises(AcdError, match="cannot be renamed"):
        center.engine.update_queue("q", 0, name="p")
    with pytest.raises(AcdError, match="bad queue setting"):
        center.engine.update_queue("q", 0, colour="blue")
    with pytest.raises(AcdError, match="overflow to itself"):
        from cti.acd import Target
        center.engine.update_queue("q", 0, overflow={"full": Target("queue", "q")})
    with pytest.raises(AcdError, match="skill levels"):
        center.engine.add_agent("a1", 0, skills={"x": -1})
    with pytest.raises(AcdError, match="already in the ACD"):
        center.arrive("c1", 1)
        center.arrive("c1", 2)
    assert center.waiting() == ["c1"]


def test_a_refused_input_does_not_even_let_time_pass(center):
    center.queue("q", ring_timeout=10)
    center.staff("q", "a1")
    center.arrive("c1", 0)
    center.engine.add_agent("idle", 0)
    with pytest.raises(AcdError):
        center.engine.agent_not_ready("idle", 50, "break")   # not logged in
    with pytest.raises(AcdError):
        center.engine.update_agent("a1", 50, skills={"x": "high"})
    assert center.engine.agent_view("a1")["state"] == "ringing"   # the ring timer did not fire
    assert center.engine.now == 0
    assert [d.reason for d in center.of(center.tick(10), StopRinging)] == ["timeout"]
