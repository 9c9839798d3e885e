"""Agent work modes: status (what the agent chose) apart from state (what the system did)."""

import pytest

from cti.acd import AcdError, AgentState, Offer, StopRinging


def test_login_names_who_what_and_where(center):
    center.queue("q", skills={"sales": 1})
    decisions = center.login("a1", 5, extension="2001", skills={"sales": 3})
    assert center.events(decisions) == ["AGENTLOGIN"]
    assert center.record(decisions, "AGENTLOGIN").data == {"extension": "2001"}
    view = center.engine.agent_view("a1")
    assert (view["extension"], view["skills"], view["queues"]) == ("2001", {"sales": 3}, ["q"])
    assert center.state("a1") == ("available", "idle", None)
    [offer] = center.of(center.arrive("c1", 6), Offer)
    assert offer.extension == "2001"


def test_the_same_agent_can_log_in_at_another_seat_with_other_skills(center):
    center.queue("sales", skills={"sales": 1})
    center.queue("support", skills={"support": 1})
    center.login("a1", 0, extension="2001", skills={"sales": 1})
    center.engine.agent_logout("a1", 10)
    center.login("a1", 20, extension="3005", skills={"support": 2})
    assert center.engine.agent_view("a1")["queues"] == ["support"]
    [offer] = center.of(center.arrive("c1", 21, "support"), Offer)
    assert offer.extension == "3005"


def test_login_not_ready_then_ready(center):
    center.queue("q")
    center.staff("q", "a1", ready=False)
    assert center.state("a1") == ("not_ready", "idle", "login")
    assert center.offered(center.arrive("c1", 1)) == []
    decisions = center.engine.agent_ready("a1", 2)
    assert center.events(decisions) == ["UNPAUSE"]
    assert center.offered(decisions) == [("c1", "a1")]


def test_not_ready_reason_codes_are_kept_and_logged(center):
    center.queue("q")
    center.staff("q", "a1")
    decisions = center.engine.agent_not_ready("a1", 3, "lunch")
    assert center.record(decisions, "PAUSE").data == {"reason": "lunch"}
    [state] = center.of(decisions, AgentState)
    assert (state.status, state.state, state.reason) == ("not_ready", "idle", "lunch")
    assert center.offered(center.arrive("c1", 4)) == []


def test_ring_no_answer_requeues_at_the_head_and_sets_the_agent_not_ready(center):
    center.queue("q", strategy="linear", ring_timeout=10)
    center.staff("q", "a1")
    center.take("c0", 0)
    center.staff("q", "a2", t=1)
    center.arrive("c1", 2)                  # offered to a2
    center.engine.agent_not_ready("a2", 2.5, "x")  # pausing while ringing keeps it ringing
    center.engine.agent_ready("a2", 2.6)
    center.arrive("c2", 3)                  # waits behind nobody: c1 is ringing
    assert center.waiting() == ["c2"]
    decisions = center.tick(12)
    [stop] = center.of(decisions, StopRinging)
    assert (stop.call_id, stop.agents, stop.reason) == ("c1", (("a2", "ext-a2"),), "timeout")
    assert center.record(decisions, "RINGNOANSWER").data == {"ringtime": 10}
    assert center.state("a2") == ("not_ready", "idle", "rona")
    # c1 is back at the head of the line, before c2 which arrived later.
    assert center.waiting() == ["c1", "c2"]
    assert center.offered(center.end("c0", 20)) == [("c1", "a1")]


def test_ring_no_answer_moves_the_caller_to_the_next_free_agent(center):
    center.queue("q", strategy="linear", ring_timeout=10)
    center.staff("q", "a1", "a2")
    center.arrive("c1", 0)
    assert center.offered(center.tick(10)) == [("c1", "a2")]
    assert center.state("a1")[2] == "rona"


def test_without_autopause_the_agent_stays_available_after_no_answer(center):
    center.queue("q", ring_timeout=5, autopause=False)
    center.staff("q", "a1")
    center.arrive("c1", 0)
    decisions = center.tick(5)
    assert "PAUSE" not in center.events(decisions)
    # Nobody else: the same agent is tried again.
    assert center.offered(decisions) == [("c1", "a1")]


def test_an_agent_rejecting_goes_not_ready_and_the_caller_goes_on(center):
    center.queue("q", strategy="linear")
    center.staff("q", "a1", "a2")
    center.arrive("c1", 0)
    decisions = center.engine.agent_rejected("c1", "a1", 1)
    assert "REJECT" in center.events(decisions)
    assert center.offered(decisions) == [("c1", "a2")]
    assert center.state("a1") == ("not_ready", "idle", "rejected")


def test_timed_wrap_up_after_each_call(center):
    center.queue("q", wrapup_seconds=30)
    center.staff("q", "a1")
    center.take("c1", 0)
    center.arrive("c2", 5)
    decisions = center.end("c1", 60)
    assert center.offered(decisions) == []
    assert center.state("a1") == ("available", "wrap_up", None)
    assert center.engine.next_wakeup() == 90
    decisions = center.tick(90)
    assert center.record(decisions, "ACW").data == {"seconds": 30}
    assert center.offered(decisions) == [("c2", "a1")]


def test_wrap_up_can_end_early(center):
    center.queue("q", wrapup_seconds=30)
    center.staff("q", "a1")
    center.take("c1", 0)
    center.end("c1", 60)
    decisions = center.engine.wrapup_done("a1", 70)
    assert center.record(decisions, "ACW").data == {"seconds": 10}
    assert center.state("a1") == ("available", "idle", None)
    # The cancelled timer fires nothing.
    assert "ACW" not in center.events(center.tick(100))


def test_manual_wrap_up_lasts_until_the_agent_ends_it(center):
    center.queue("q", wrapup_seconds=None)
    center.staff("q", "a1")
    center.take("c1", 0)
    center.end("c1", 60)
    center.arrive("c2", 61)
    assert center.engine.next_wakeup() is None
    assert center.offered(center.tick(10_000)) == []
    assert center.offered(center.engine.wrapup_done("a1", 10_001)) == [("c2", "a1")]


def test_going_not_ready_during_wrap_up_keeps_the_agent_out_afterwards(center):
    center.queue("q", wrapup_seconds=10)
    center.staff("q", "a1")
    center.take("c1", 0)
    center.end("c1", 5)
    center.engine.agent_not_ready("a1", 6, "training")
    center.arrive("c2", 7)
    assert center.offered(center.tick(20)) == []
    assert center.state("a1") == ("not_ready", "idle", "training")


def test_non_acd_calls_make_the_agent_busy_without_acd_offers(center):
    center.queue("q")
    center.staff("q", "a1")
    decisions = center.engine.agent_busy("a1", "out-1", 1)
    [state] = center.of(decisions, AgentState)
    assert (state.state, state.acd, state.call_id) == ("in_call", False, "out-1")
    center.arrive("c1", 2)
    assert center.offered(center.end("out-1", 10)) == [("c1", "a1")]


def test_logout_while_ringing_puts_the_caller_back(center):
    center.queue("q", strategy="linear")
    center.staff("q", "a1", "a2")
    center.take("c0", 0)
    center.arrive("c1", 1)   # rings a2
    decisions = center.engine.agent_logout("a2", 2)
    assert center.of(decisions, StopRinging)[0].reason == "logout"
    assert center.waiting() == ["c1"]
    assert center.state("a2") == ("logged_out", "idle", None)
    assert "AGENTLOGOFF" in center.events(decisions)


def test_logout_during_a_call_lets_the_call_finish_without_new_offers(center):
    center.queue("q", wrapup_seconds=30)
    center.staff("q", "a1")
    center.take("c1", 0)
    center.engine.agent_logout("a1", 5)
    assert center.state("a1") == ("logged_out", "in_call", None)
    center.arrive("c2", 6)
    center.end("c1", 10)
    assert center.state("a1") == ("logged_out", "idle", None)
    assert center.waiting() == ["c2"]


def test_agent_inputs_for_unknown_or_logged_out_agents_are_refused(center):
    center.queue("q")
    with pytest.raises(AcdError, match="unknown agent 'ghost'"):
        center.engine.agent_ready("ghost", 1)
    center.engine.add_agent("a1", 1)
    with pytest.raises(AcdError, match="not logged in"):
        center.engine.agent_not_ready("a1", 2, "break")


def test_switch_races_on_unknown_calls_are_ignored(center):
    center.queue("q")
    center.staff("q", "a1")
    assert center.engine.agent_answered("nope", "a1", 1) == []
    assert center.engine.call_ended("nope", 1) == []
    assert center.engine.caller_abandoned("nope", 1) == []
    center.arrive("c1", 2)
    center.engine.caller_abandoned("c1", 3)
    # The answer that raced the abandon changes nothing.
    assert center.engine.agent_answered("c1", "a1", 3.1) == []
    assert center.state("a1") == ("available", "idle", None)


def test_a_transfer_ends_the_agents_part_and_starts_wrap_up(center):
    center.queue("q", wrapup_seconds=20)
    center.staff("q", "a1")
    center.take("c1", 0)
    decisions = center.engine.call_transferred("c1", 30, target="2099")
    record = center.record(decisions, "TRANSFER")
    assert record.data == {"target": "2099", "holdtime": 0, "talktime": 30, "holdseconds": 0.0}
    assert center.state("a1") == ("available", "wrap_up", None)
    assert "c1" not in center.engine.calls


def test_a_waiting_caller_transferred_out_of_the_queue_leaves_it(center):
    center.queue("q")
    center.arrive("c1", 0)
    decisions = center.engine.call_transferred("c1", 5, target="operator")
    assert center.record(decisions, "TRANSFER").data["target"] == "operator"
    assert center.waiting() == []


def test_the_agent_at_a_device_is_the_one_logged_in_there(center):
    center.queue("q")
    center.engine.add_agent("day", 0, extension="2001")
    center.engine.add_agent("night", 0, extension="2002")
    assert center.engine.agent_at("2001") == "day"
    center.login("night", 1, extension="2001")
    assert center.engine.agent_at("2001") == "night"
    assert center.engine.agent_at("2002") is None
    center.engine.agent_logout("night", 2)
    center.login("day", 3)
    assert center.engine.agent_at("2001") == "day"
    center.engine.remove_agent("day", 4)
    assert center.engine.agent_at("2001") == "night"
    assert center.engine.agent_at(None) is None


def test_transferring_away_a_non_acd_call_frees_the_agent(center):
    center.queue("q")
    center.staff("q", "a1")
    center.engine.agent_busy("a1", "direct-1", 1)
    center.arrive("c1", 2)
    assert center.offered(center.engine.call_transferred("direct-1", 3, "2001")) == [("c1", "a1")]
