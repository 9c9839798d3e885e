"""The Qt-free viewmodels, fed recorded event dicts shaped as in docs/api.md."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.viewmodels.address_book import AddressBookModel
from desktop.viewmodels.agent_state import AgentStateModel
from desktop.viewmodels.calls import CallHistoryModel, CallsModel
from desktop.viewmodels.notification import IncomingCallNotifier
from desktop.viewmodels.screenpop import ScreenPopModel
from desktop.viewmodels.supervisor import SupervisorModel
from desktop.viewmodels.timefmt import format_duration, parse_time

T0 = parse_time("2026-11-23T09:00:00Z")


class FakeClock:
    """An injected wall clock (epoch seconds) the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def agent(**fields):
    base = {"agent_id": "1001", "name": "Anna Berg", "extension": "2001", "status": "ready",
            "state": "idle", "reason": None, "since": "2026-11-23T09:00:00Z", "queues": ["sales"],
            "skills": {}, "calls_answered": 3, "talk_seconds": 400}
    return {**base, **fields}


def inbound_call(call_id="c1", state="alerting", **fields):
    base = {"call_id": call_id, "state": state, "calling": "+4930123456", "called": "2001",
            "ani": "+4930123456", "dnis": "8000",
            "parties": [{"device": "+4930123456", "state": "connected"},
                        {"device": "2001", "state": state}],
            "data": {}, "notes": [], "customer_id": 7, "queue": "sales",
            "started": "2026-11-23T09:00:00Z", "answered": None, "aliases": []}
    return {**base, **fields}


# -- formatting ---------------------------------------------------------------------------------

def test_durations_read_like_a_phone_display():
    assert format_duration(5) == "0:05"
    assert format_duration(754) == "12:34"
    assert format_duration(3 * 3600 + 7) == "3:00:07"
    assert format_duration(None) == "–"
    assert parse_time("not a time") is None


@given(st.integers(min_value=0, max_value=10**6))
def test_duration_text_round_trips_to_seconds(seconds):
    parts = [int(p) for p in format_duration(seconds).split(":")]
    total = 0
    for part in parts:
        total = total * 60 + part
    assert total == seconds


# -- agent state bar ----------------------------------------------------------------------------

def test_state_bar_shows_reason_and_time_in_state():
    clock = FakeClock(T0 + 95)
    bar = AgentStateModel(clock)
    bar.set_reasons([{"code": "lunch", "label": "Lunch"}])
    bar.update(agent(status="not_ready", reason="lunch"))
    assert bar.status_label() == "Not ready – Lunch"
    assert bar.elapsed_text() == "1:35"
    assert bar.can("ready") and not bar.can("wrap_up_done")


def test_wrap_up_timer_counts_with_the_injected_clock():
    clock = FakeClock(T0 + 10)
    bar = AgentStateModel(clock)
    bar.update(agent(status="wrap_up", state="wrap_up", since="2026-11-23T09:00:00Z"))
    assert bar.wrap_up_elapsed() == 10
    clock.now += 20
    assert bar.wrap_up_elapsed() == 30
    assert bar.can("wrap_up_done") and bar.can("not_ready") and not bar.can("ready")
    bar.update(agent(status="ready", state="idle"))
    assert bar.wrap_up_elapsed() is None


def test_state_without_since_counts_from_when_it_was_learnt():
    clock = FakeClock()
    bar = AgentStateModel(clock)
    bar.update(agent(since=None))
    clock.now += 7
    assert bar.elapsed() == 7


# -- calls panel ---------------------------------------------------------------------------------

def test_alerting_call_offers_answer_and_connected_call_offers_hold_consult():
    calls = CallsModel(FakeClock(), "2001")
    rang = []
    calls.alerting.connect(rang.append)
    calls.upsert(inbound_call())
    assert calls.enabled_actions("c1") == {"answer", "deflect", "hangup"}
    assert [c["call_id"] for c in rang] == ["c1"]
    calls.apply_event({"event": "established", "call_id": "c1", "device": "2001",
                       "calling": "+4930123456", "called": "2001",
                       "time": "2026-11-23T09:00:05Z"})
    assert calls.enabled_actions("c1") == {"hangup", "hold", "consult", "dtmf",
                                           "single_step_transfer"}
    calls.apply_event({"event": "held", "call_id": "c1", "device": "2001"})
    assert calls.enabled_actions("c1") == {"retrieve", "hangup"}


def test_consultation_pair_enables_transfer_and_conference_on_both_calls():
    calls = CallsModel(FakeClock(), "2001")
    calls.upsert(inbound_call(state="hold"))
    calls.upsert({"call_id": "c2", "state": "connected", "calling": "2001", "called": "2002",
                  "parties": [{"device": "2001", "state": "connected"},
                              {"device": "2002", "state": "alerting"}]})
    calls.record_consult("c1", "c2")
    assert calls.consult_pair("c2") == ("c1", "c2")
    assert calls.consult_pair("c1") == ("c1", "c2")
    assert {"transfer", "conference", "alternate"} <= calls.enabled_actions("c2")
    assert "consult" not in calls.enabled_actions("c2")
    assert "transfer" in calls.enabled_actions("c1")


def test_consult_pair_is_inferred_after_a_reconnect():
    calls = CallsModel(FakeClock(), "2001")
    calls.reset([inbound_call(state="hold"),
                 {"call_id": "c2", "state": "connected", "calling": "2001", "called": "2002",
                  "parties": [{"device": "2001", "state": "connected"}]}])
    assert calls.consult_pair("c2") == ("c1", "c2")


def test_calls_not_at_my_extension_are_not_mine():
    calls = CallsModel(FakeClock(), "2001")
    calls.upsert({"call_id": "x", "state": "connected",
                  "parties": [{"device": "2005", "state": "connected"}]})
    assert calls.my_calls() == [] and calls.current() is None
    assert calls.enabled_actions() == set()


def test_call_built_from_switch_events_alone():
    calls = CallsModel(FakeClock(), "2001")
    calls.apply_event({"event": "delivered", "call_id": "7", "device": "2001",
                       "calling": "+4930123456", "called": "2001", "time": "2026-11-23T09:00:00Z"})
    call = calls.current()
    assert call["call_id"] == "7" and calls.other_party(call) == "+4930123456"
    assert calls.my_state(call) == "alerting"


def test_ended_call_goes_to_history_with_duration():
    clock = FakeClock(T0 + 65)
    calls = CallsModel(clock, "2001")
    history = CallHistoryModel(clock)
    calls.ended.connect(lambda call: history.record(calls, call, "Clara Jansen"))
    calls.upsert(inbound_call(state="connected", answered="2026-11-23T09:00:05Z"))
    calls.apply_event({"event": "connection_cleared", "call_id": "c1", "device": "2001"})
    assert calls.my_calls() == []
    entry = history.entries[0]
    assert (entry["number"], entry["customer"], entry["direction"], entry["duration"]) == (
        "+4930123456", "Clara Jansen", "in", 60)


def test_transfer_renames_the_call_and_keeps_what_was_known():
    calls = CallsModel(FakeClock(), "2002")
    ended = []
    calls.ended.connect(ended.append)
    calls.upsert({**inbound_call("c2", state="connected"),
                  "parties": [{"device": "2001", "state": "connected"},
                              {"device": "2002", "state": "connected"}],
                  "data": {"order": "4471"}})
    calls.apply_event({"event": "transferred", "call_id": "c9", "device": "2001",
                       "old_call_ids": ["c1", "c2"],
                       "parties": [{"call_id": "c9", "device": "+4930123456",
                                    "state": "connected"},
                                   {"call_id": "c9", "device": "2002", "state": "connected"}]})
    assert list(calls.calls) == ["c9"]
    assert calls.calls["c9"]["data"] == {"order": "4471"}
    assert "c2" in calls.calls["c9"]["aliases"]
    assert ended == []
    assert {p["device"] for p in calls.calls["c9"]["parties"]} == {"+4930123456", "2002"}


@pytest.mark.parametrize("first", ["conferenced", "call_updated"])
def test_held_call_merged_into_the_conference_does_not_end_into_the_history(first):
    """The switch keeps the consultation's ID for the conference: the held customer call is
    part of it, not a call that ended (the history would list the conversation twice)."""
    calls = CallsModel(FakeClock(), "2001")
    ended = []
    calls.ended.connect(ended.append)
    calls.upsert(inbound_call("c1", state="hold"))
    calls.upsert({**inbound_call("c2", state="connected", calling="2001", called="2002"),
                  "parties": [{"device": "2001", "state": "connected"},
                              {"device": "2002", "state": "connected"}]})
    conference = {**inbound_call("c2", state="connected"), "aliases": ["c1"],
                  "parties": [{"device": "2001", "state": "connected"},
                              {"device": "2002", "state": "connected"},
                              {"device": "+4930123456", "state": "connected"}]}
    conferenced = {"event": "conferenced", "call_id": "c2", "device": "2001",
                   "old_call_ids": ["c1"]}
    if first == "conferenced":
        calls.apply_event(conferenced)
        calls.upsert(conference)
    else:
        calls.upsert(conference)
        calls.apply_event(conferenced)
    assert ended == []
    assert list(calls.calls) == ["c2"] and "c1" in calls.calls["c2"]["aliases"]
    calls.apply_event({"event": "connection_cleared", "call_id": "c2", "device": "2001"})
    assert [c["call_id"] for c in ended] == ["c2"]


def test_call_cleared_and_ended_call_event_remove_the_call():
    calls = CallsModel(FakeClock(), "2001")
    calls.upsert(inbound_call())
    calls.apply_event({"event": "call_cleared", "call_id": "c1", "device": None})
    assert calls.calls == {}


def test_unknown_events_are_ignored():
    calls = CallsModel(FakeClock(), "2001")
    calls.apply_event({"event": "call_information", "call_id": "c1", "device": "2001"})
    calls.apply_event({"event": "established"})
    assert calls.calls == {}


# -- screen pop ---------------------------------------------------------------------------------

POP = {"event": "screen_pop", "call_id": "c1", "agent": "1001", "device": "2001",
       "customer": {"id": 7, "name": "Clara Jansen", "company": "Jansen Logistics",
                    "phones": ["+4930123456"], "emails": [], "address": "", "vip": True,
                    "fields": {}, "notes": ""},
       "interactions": [{"time": "2026-11-20T09:12:00Z", "disposition": "resolved",
                         "notes": "invoice"}],
       "tickets": [{"id": 1, "status": "open", "subject": "Late"},
                   {"id": 2, "status": "closed", "subject": "Old"}],
       "data": {"order": "4471"}, "notes": [], "calling": "+4930123456", "called": "8000"}


def test_editing_the_card_makes_it_dirty_and_saving_makes_it_clean():
    pop = ScreenPopModel()
    dirty = []
    pop.dirty_changed.connect(dirty.append)
    pop.load(POP)
    assert not pop.dirty and pop.display_name() == "Clara Jansen"
    pop.set_field("company", "Jansen & Co")
    pop.set_field("phones", "+4930123456, +491701234")
    assert pop.dirty and dirty == [True]
    record = pop.record_for_save()
    assert record["phones"] == ["+4930123456", "+491701234"] and "id" not in record
    pop.saved({**record, "id": 7})
    assert not pop.dirty and dirty == [True, False]
    assert pop.customer["company"] == "Jansen & Co"


def test_typing_back_the_original_value_is_not_dirty():
    pop = ScreenPopModel()
    pop.load(POP)
    pop.set_field("name", "Clara J.")
    pop.set_field("name", "Clara Jansen")
    assert not pop.dirty


def test_revert_discards_edits_and_bad_field_is_refused():
    pop = ScreenPopModel()
    pop.load(POP)
    pop.set_field("address", "Elsewhere 2")
    pop.revert()
    assert not pop.dirty
    with pytest.raises(KeyError):
        pop.set_field("password", "x")


def test_a_new_pop_for_the_same_call_keeps_the_agents_unsaved_edits():
    pop = ScreenPopModel()
    pop.load(POP)
    pop.set_field("company", "typed but not saved")
    pop.load({**POP, "notes": [{"text": "from agent 1"}]})
    assert pop.draft["company"] == "typed but not saved"
    assert pop.notes == [{"text": "from agent 1"}]
    pop.load({**POP, "call_id": "c2"})
    assert not pop.dirty


def test_unknown_caller_gets_a_blank_card_with_the_number_prefilled():
    pop = ScreenPopModel()
    pop.load({**POP, "customer": None, "interactions": [], "tickets": []})
    assert pop.is_new_customer and pop.display_name() == "Unknown caller"
    assert pop.draft["phones"] == ["+4930123456"] and not pop.dirty
    with pytest.raises(ValueError, match="needs a name"):
        pop.set_field("company", "X") or pop.record_for_save()


def test_a_dialled_number_gets_a_blank_card_with_that_number_not_the_agents():
    pop = ScreenPopModel()
    pop.load({"call_id": "c5", "agent": "1001", "device": "2001", "customer": None,
              "calling": "2001", "called": "+4940998877", "notes": [], "data": {}})
    assert pop.dialled and pop.number == "+4940998877"
    assert pop.draft["phones"] == ["+4940998877"] and not pop.dirty


def test_open_tickets_leave_out_closed_ones():
    pop = ScreenPopModel()
    pop.load(POP)
    assert [t["subject"] for t in pop.open_tickets()] == ["Late"]


def test_pop_follows_its_call_through_a_transfer():
    pop = ScreenPopModel()
    pop.load(POP)
    pop.follow_call({"call_id": "c9", "aliases": ["c1"], "notes": [{"text": "vip!"}],
                     "data": {"order": "4471", "x": 1}})
    assert pop.call_id == "c9" and pop.matches("c1")
    assert pop.notes == [{"text": "vip!"}]
    pop.follow_call({"call_id": "other", "notes": [{"text": "no"}]})
    assert pop.notes == [{"text": "vip!"}]


# -- address book --------------------------------------------------------------------------------

def test_address_book_search_by_name_words_or_digits():
    book = AddressBookModel()
    book.set_entries([{"name": "Head office", "number": "+49 40 998877", "kind": "speed_dial"},
                      {"name": "Ben Ode", "number": "2002", "kind": "agent"},
                      {"name": "Anna Berg", "number": "2001", "kind": "agent"},
                      {"name": "No number", "number": "", "kind": "agent"}])
    assert [e["name"] for e in book.filtered()] == ["Anna Berg", "Ben Ode", "Head office"]
    book.search("ben")
    assert [e["number"] for e in book.filtered()] == ["2002"]
    book.search("office 998")
    assert book.number_at(0) == "+49 40 998877"
    book.search("zzz")
    assert book.filtered() == [] and book.number_at(0) is None


# -- supervisor ----------------------------------------------------------------------------------

QUEUE = {"event": "queue_stats", "queue": "sales", "name": "Sales", "strategy": "longest-idle",
         "waiting": 2, "longest_wait": 40, "agents_ready": 1, "agents_busy": 2,
         "agents_logged_on": 4,
         "callers": [{"call_id": "q1", "calling": "+4930111", "waited": 40, "position": 1,
                      "priority": 0},
                     {"call_id": "q2", "calling": "+4930222", "waited": 5, "position": 2,
                      "priority": 0}],
         "stats": {"offered": 50, "answered": 45, "abandoned": 5, "asa": 11, "aht": 190,
                   "service_level": 0.8, "service_level_2": 0.78, "occupancy": 0.7,
                   "sl_seconds": 20}}


def test_supervisor_sees_time_in_state_and_state_distribution():
    clock = FakeClock(T0 + 125)
    board = SupervisorModel(clock)
    board.set_agents([agent(), agent(agent_id="1002", status="not_ready", reason="lunch",
                                     state="idle"),
                      agent(agent_id="1003", state="in_call"),
                      agent(agent_id="1004", state="in_call")])
    rows = {r["agent_id"]: r for r in board.agent_rows()}
    assert rows["1001"]["time_in_state"] == 125
    assert rows["1002"]["status"] == "Not ready – Lunch"
    assert board.state_distribution() == [("ready", "Ready", 1), ("in_call", "In call", 2),
                                          ("not_ready", "Not ready", 1)]


def test_reasons_the_server_sets_itself_read_the_same_for_agent_and_supervisor():
    reasons = [{"code": "lunch", "label": "Lunch break"}]
    bar = AgentStateModel(FakeClock())
    bar.set_reasons(reasons)
    board = SupervisorModel(FakeClock())
    board.set_reasons(reasons)
    for code, text in (("rona", "Missed call"), ("lunch", "Lunch break"),
                       ("away_sick", "Away sick")):
        bar.update(agent(status="not_ready", reason=code))
        board.set_agents([agent(status="not_ready", reason=code)])
        assert bar.status_label() == board.agent_rows()[0]["status"] == f"Not ready – {text}"


def test_longest_wait_ages_between_snapshots():
    clock = FakeClock()
    board = SupervisorModel(clock)
    board.update_queue(QUEUE)
    clock.now += 3
    row = board.queue_rows()[0]
    assert (row["waiting"], row["longest_wait"], row["service_level"]) == (2, 43, 0.8)
    assert [c["waited"] for c in board.waiting_callers()] == [43, 8]
    board.update_queue({**QUEUE, "waiting": 0, "callers": []})
    assert board.queue_rows()[0]["longest_wait"] == 0


def test_bar_chart_data_and_overall_service_level():
    board = SupervisorModel(FakeClock())
    board.set_queues([QUEUE, {**QUEUE, "queue": "support", "name": "Support", "waiting": 0,
                              "stats": {**QUEUE["stats"], "answered": 15,
                                        "service_level": 0.4}}])
    assert board.queue_bars()[0] == ("Sales", {"waiting": 2, "answered": 45, "abandoned": 5})
    assert board.overall_service_level() == pytest.approx((45 * 0.8 + 15 * 0.4) / 60)


def test_agent_call_finds_the_call_to_listen_to():
    board = SupervisorModel(FakeClock())
    board.set_agents([agent(state="in_call")])
    call = inbound_call(state="connected")
    assert board.agent_call("1001", [call]) == call
    assert board.agent_call("1001", []) is None
    assert board.agent_call("nobody", [call]) is None


# -- notification --------------------------------------------------------------------------------

def test_notification_names_the_caller_once_the_pop_knows_them():
    note = IncomingCallNotifier()
    seen = []
    note.changed.connect(seen.append)
    note.alerting("c1", "+4930123456", queue="sales")
    assert note.text() == "+4930123456 via sales"
    note.enrich("c1", "Clara Jansen")
    assert note.text() == "Clara Jansen (+4930123456) via sales"
    note.dismiss("other")
    assert note.current is not None
    note.dismiss("c1")
    assert note.current is None and seen[-1] is None
