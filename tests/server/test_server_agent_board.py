"""The agent board: status is what the agent chose, state what the switch did at the seat."""

from __future__ import annotations

import pytest

from cti import events as ev
from cti.server.agents import AgentBoard, AgentStateError


def _event(name, call_id, device, t, **kw):
    return ev.Event(name, t, call_id=call_id, device=device, **kw)


def test_log_on_seats_the_agent_not_ready_with_reason_login():
    board = AgentBoard()
    view = board.log_on("acme", "1001", "1001", 10.0, name="Ann", skills={"sales": 3})
    assert (view.status, view.state, view.reason, view.since) == ("not_ready", "idle", "login", 10.0)
    assert board.at_extension("acme", "1001") is view
    assert board.at_extension("globex", "1001") is None
    with pytest.raises(AgentStateError, match="taken"):
        board.log_on("acme", "1002", "1001", 11.0)


def test_state_follows_the_seat_and_counts_answered_calls_and_talk_time():
    board = AgentBoard()
    board.log_on("acme", "1001", "1001", 0.0)
    board.set_status("acme", "1001", "ready", None, 1.0)
    changed = board.on_event("acme", _event(ev.DELIVERED, "c1", "1001", 2.0), 2.0)
    assert [v.state for v in changed] == ["ringing"]
    board.on_event("acme", _event(ev.ESTABLISHED, "c1", "1001", 3.0), 3.0)
    view = board.get("acme", "1001")
    assert (view.state, view.calls_answered, view.since) == ("in_call", 1, 3.0)
    board.on_event("acme", _event(ev.HELD, "c1", "1001", 4.0), 4.0)
    assert view.state == "in_call"
    board.on_event("acme", _event(ev.CONNECTION_CLEARED, "c1", "1001", 13.0), 13.0)
    assert (view.state, view.talk_seconds, view.status) == ("idle", 10.0, "ready")


def test_calls_follow_a_transfer_to_the_new_call_id():
    board = AgentBoard()
    board.log_on("acme", "1002", "1002", 0.0)
    board.on_event("acme", _event(ev.ESTABLISHED, "c2", "1002", 1.0), 1.0)
    board.on_event("acme", ev.Event(ev.TRANSFERRED, 2.0, call_id="c3", device="1001",
                                    old_call_ids=("c1", "c2")), 2.0)
    assert set(board.get("acme", "1002").calls) == {"c3"}
    board.on_event("acme", ev.Event(ev.CALL_CLEARED, 5.0, call_id="c3"), 5.0)
    assert board.get("acme", "1002").state == "idle"


def test_status_changes_and_their_refusals():
    board = AgentBoard()
    with pytest.raises(AgentStateError, match="not logged on"):
        board.set_status("acme", "1001", "ready", None, 0.0)
    board.log_on("acme", "1001", "1001", 0.0)
    with pytest.raises(AgentStateError, match="not in wrap-up"):
        board.set_status("acme", "1001", "wrap_up_done", None, 1.0)
    view = board.set_status("acme", "1001", "not_ready", "lunch", 2.0)
    assert (view.status, view.reason) == ("not_ready", "lunch")
    board.set_status("acme", "1001", "logged_out", None, 3.0)
    assert view.status == view.state == "logged_out"
    assert board.at_extension("acme", "1001") is None


def test_the_acd_engine_has_the_last_word_on_status():
    board = AgentBoard()
    board.log_on("acme", "1001", "1001", 0.0)
    view = board.apply_acd("acme", "1001", "available", "idle", None, 1.0)
    assert view.status == "ready"
    view = board.apply_acd("acme", "1001", "available", "wrap_up", None, 2.0)
    assert (view.status, view.state) == ("wrap_up", "wrap_up")
    assert board.apply_acd("acme", "1001", "available", "wrap_up", None, 3.0) is None
    view = board.apply_acd("acme", "1001", "not_ready", "idle", "rejected", 4.0)
    assert (view.status, view.reason) == ("not_ready", "rejected")
    assert board.apply_acd("acme", "9999", "available", "idle", None, 5.0) is None
