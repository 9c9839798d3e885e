"""Finished calls, attached data and notes, and the listeners that react to calls."""

from __future__ import annotations

import logging

import pytest

from cti.events import (
    ALERTING,
    CALL_CLEARED,
    CONNECTED,
    CONNECTION_CLEARED,
    DELIVERED,
    ESTABLISHED,
    HELD,
    TRANSFERRED,
    Party,
)
from cti.model import CallHistory, Model, UnknownCall

T0 = 1_700_000_000.0  # the test switch's clock starts here (conftest.Switch)


def short_call(switch, call_id, device="1001"):
    switch.send(DELIVERED, call_id, device, calling="5551234")
    switch.send(ESTABLISHED, call_id, device, calling="5551234")
    switch.send(CALL_CLEARED, call_id)


def test_history_keeps_the_last_calls_up_to_its_bound(switch):
    model = Model(history_size=3)
    switch.model = model
    for n in range(5):
        short_call(switch, str(n))
    assert [r.call_id for r in model.history] == ["2", "3", "4"]
    assert [r.call_id for r in model.history.recent(2)] == ["4", "3"]
    assert model.history.total == 5 and model.history.maxlen == 3
    assert model.history.find("0") is None and model.history.find("4").call_id == "4"


def test_a_history_needs_room_for_one_call():
    with pytest.raises(ValueError, match="at least 1"):
        CallHistory(0)


def test_history_record_json(model, switch):
    short_call(switch, "7")
    view = model.history.find("7").to_dict()
    assert view["call_id"] == "7" and view["state"] == "null"
    assert view["parties_seen"] == ["5551234", "1001"]
    assert view["ended"] and view["answered_by"] == "1001"
    assert [s["event"] for s in view["steps"]][:3] == ["delivered", "delivered", "established"]


def test_a_call_ends_when_its_last_connection_clears_without_call_cleared(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    switch.send(CONNECTION_CLEARED, "7", "1001")
    assert "7" in model.calls
    switch.send(CONNECTION_CLEARED, "7", "5551234")
    assert model.calls == {} and model.history.find("7").ended == T0 + 3


def test_a_call_ends_when_the_last_monitored_device_leaves(model, switch, changes):
    model.mark_monitored(["1001"])
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(CONNECTION_CLEARED, "7", "1001")
    assert "7" in model.calls, "settled after a grace, in event time"
    switch.send(DELIVERED, "8", "1001", calling="5559999")
    assert "7" in model.calls
    switch.send(ESTABLISHED, "8", "1001", calling="5559999")
    assert "7" not in model.calls, "no monitor is left to report the rest of the call"
    record = model.history.find("7")
    assert record.ended == T0 + 3 and record.cause == "unobserved"
    assert ("ended", "7") in changes


def test_a_call_cleared_within_the_grace_is_not_kept_for_settling(model, switch):
    """A server that goes quiet after a busy minute holds none of its calls."""
    model.mark_monitored(["1001"])
    for call_id in ("7", "8"):
        switch.send(DELIVERED, call_id, "1001", calling="5551234")
        switch.send(ESTABLISHED, call_id, "1001", calling="5551234")
        switch.send(CONNECTION_CLEARED, call_id, "1001")
        switch.send(CALL_CLEARED, call_id)
    assert model.calls == {} and model._unobserved == {}
    assert [r.cause for r in model.history] == [None, None]


def test_a_monitored_device_taking_over_within_the_grace_keeps_the_call(model, switch):
    model.mark_monitored(["1001", "1005"])
    switch.send(DELIVERED, "7", "1001", calling="5551234", data={"order": 5})
    switch.send(CONNECTION_CLEARED, "7", "1001")            # group pickup by 1005
    switch.send(ESTABLISHED, "7", "1005", calling="5551234")
    switch.time += 60
    switch.send(HELD, "7", "1005")
    call = model.find_call("7")
    assert call.data == {"order": 5} and call.answered_by == "1005"
    assert model.history.total == 0


def test_a_call_transferred_to_an_outside_number_ends_when_the_grace_has_passed(model, switch):
    model.mark_monitored(["1001"])
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234")
    switch.send(TRANSFERRED, "7", "1001", old_call_ids=("7",),
                parties=(Party("7", "5551234", CONNECTED), Party("7", "0301234", ALERTING)))
    assert model.sweep(T0 + 3.5, max_idle=3600) == []
    assert [c.call_id for c in model.sweep(T0 + 6, max_idle=3600)] == ["7"]
    assert model.history.find("7").ended == T0 + 3


def test_attach_data_merges_and_rejects_bad_input(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    model.attach_data("7", {"a": 1})
    model.attach_data("7", {"b": 2, "a": 3})
    assert model.find_call("7").data == {"a": 3, "b": 2}
    with pytest.raises(UnknownCall, match="'8'"):
        model.attach_data("8", {"a": 1})
    with pytest.raises(TypeError, match="mapping"):
        model.attach_data("7", [("a", 1)])
    with pytest.raises(ValueError, match="strings"):
        model.attach_data("7", {1: "x"})
    assert model.find_call("7").data == {"a": 3, "b": 2}, "a refused change loses nothing"


def test_notes_travel_with_the_call(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    note = model.add_note("7", "wants a callback", time=T0 + 5, author="A17")
    assert model.find_call("7").notes == [note]
    assert note.to_dict()["author"] == "A17"
    with pytest.raises(ValueError):
        model.add_note("7", "  ", time=T0)
    switch.send(CALL_CLEARED, "7")
    assert [n.text for n in model.history.find("7").notes] == ["wants a callback"]


def test_listeners_hear_created_updated_ended(model, switch, changes):
    short_call(switch, "7")
    assert changes == [("created", "7"), ("updated", "7"), ("ended", "7")]


def test_a_failing_listener_neither_stops_the_model_nor_the_others(model, switch, caplog):
    heard = []

    def broken(kind, call):
        raise RuntimeError("boom")

    model.add_call_listener(broken)
    model.add_call_listener(lambda kind, call: heard.append(kind))
    with caplog.at_level(logging.ERROR, logger="cti.model.model"):
        short_call(switch, "7")
    assert heard == ["created", "updated", "ended"]
    assert "call listener" in caplog.text and model.history.find("7") is not None
    model.remove_call_listener(broken)
    caplog.clear()
    short_call(switch, "8")
    assert "call listener" not in caplog.text


def test_a_listener_may_attach_data_while_being_notified(model, switch):
    def tag(kind, call):
        if kind == "created":
            model.attach_data(call.call_id, {"tagged": True})

    model.add_call_listener(tag)
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    assert model.find_call("7").data == {"tagged": True}
