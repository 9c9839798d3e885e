"""After a link drop: stale marks, device snapshots that rebuild and correct, housekeeping."""

from __future__ import annotations

from cti.events import (
    ALERTING,
    CONNECTED,
    DELIVERED,
    ESTABLISHED,
    HOLD,
    LINK_DOWN,
    LINK_UP,
    NULL,
    SNAPSHOT_CALL,
    SNAPSHOT_DEVICE,
    Party,
)

T0 = 1_700_000_000.0  # the test switch's clock starts here (conftest.Switch)


def parties(call):
    return {c.device: c.state for c in call.connections.values()}


def snapshot(switch, device, *listed, link="pbx1"):
    return switch.send(SNAPSHOT_DEVICE, None, device, link=link,
                       parties=tuple(Party(call_id, device, state) for call_id, state in listed))


def test_link_down_marks_the_links_calls_stale_and_keeps_them(model, switch, changes):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(DELIVERED, "8", "2001", calling="5551234", link="pbx2")
    switch.send(LINK_DOWN, link="pbx1")
    assert model.calls["7"].stale and not model.calls["8"].stale
    assert set(model.calls) == {"7", "8"}
    assert changes[-1] == ("updated", "7")
    assert model.calls["7"].to_dict()["stale"] is True


def test_any_event_about_a_stale_call_makes_it_fresh(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(LINK_DOWN, link="pbx1")
    call = switch.send(ESTABLISHED, "7", "1001", calling="5551234", link="pbx1")
    assert not call.stale


def test_link_up_alone_changes_nothing(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(LINK_DOWN, link="pbx1")
    switch.send(LINK_UP, link="pbx1")
    assert model.calls["7"].stale and model.ignored == 1


def test_snapshot_creates_calls_the_model_does_not_know(model, switch, changes):
    snapshot(switch, "1001", ("7", CONNECTED), ("8", HOLD))
    assert parties(model.calls["7"]) == {"1001": CONNECTED}
    assert parties(model.calls["8"]) == {"1001": HOLD}
    assert model.calls["7"].link == "pbx1" and model.device("1001").monitored
    assert changes == [("created", "7"), ("created", "8")]


def test_a_rebuilt_call_gets_the_numbers_kept_from_before_but_not_over_newer_ones(
        model, switch, changes):
    snapshot(switch, "1001", ("7", CONNECTED))
    call = model.calls["7"]
    assert (call.calling, call.called, call.ani) == (None, None, None)
    model.restore_numbers("7", calling="5551234", called="1001", ani="+495551234", dnis="1001")
    assert (call.calling, call.called, call.ani, call.dnis) == (
        "5551234", "1001", "+495551234", "1001")
    assert changes[-1] == ("updated", "7")
    count = len(changes)
    model.restore_numbers("7", calling="999", called="998", ani="997", dnis="996")
    assert (call.calling, call.called) == ("5551234", "1001"), "what is known stays"
    assert len(changes) == count, "nothing changed, no one told"


def test_snapshot_corrects_states_and_refreshes_stale_calls(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(LINK_DOWN, link="pbx1")
    snapshot(switch, "1001", ("7", CONNECTED))
    call = model.calls["7"]
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED}
    assert not call.stale


def test_snapshot_drops_connections_it_no_longer_lists_and_ends_empty_calls(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(DELIVERED, "8", "1001", calling="5559999", link="pbx1")
    switch.send(DELIVERED, "8", "1002", calling="5559999", link="pbx1", on=("1002",))
    snapshot(switch, "1001", ("9", ALERTING))
    assert "7" not in model.calls, "only the far end was left: the call cannot be observed"
    assert model.history.find("7").cause == "resync"
    assert parties(model.calls["8"]) == {"5559999": CONNECTED, "1002": ALERTING}
    assert [c.call_id for c in model.calls_at("1001")] == ["9"]


def test_snapshot_entries_in_the_null_state_or_without_a_state(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234")
    snapshot(switch, "1001", ("7", NULL), ("8", None))
    assert "7" not in model.calls
    assert parties(model.calls["8"]) == {"1001": CONNECTED}


def test_snapshot_by_an_old_call_id_finds_the_transferred_call(model, switch):
    from cti.events import TRANSFERRED

    switch.send(TRANSFERRED, "C", "1000", old_call_ids=("A",),
                parties=(Party("C", "1001", CONNECTED), Party("C", "5551234", CONNECTED)))
    snapshot(switch, "1001", ("A", HOLD))
    assert set(model.calls) == {"C"} and parties(model.calls["C"])["1001"] == HOLD


def test_snapshot_without_a_device_is_ignored(model, switch):
    switch.send(SNAPSHOT_DEVICE, None, None, parties=(Party("7", None, CONNECTED),))
    assert model.calls == {} and model.ignored == 1


def test_calls_still_stale_after_resync_can_be_ended(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(DELIVERED, "8", "2001", calling="5551234", link="pbx2")
    switch.send(LINK_DOWN, link="pbx1")
    ended = model.end_stale_calls(T0 + 10, link="pbx1")
    assert [c.call_id for c in ended] == ["7"]
    assert set(model.calls) == {"8"} and model.history.find("7").cause == "resync"


def test_sweep_ends_idle_calls_no_monitored_device_is_on(model, switch):
    model.mark_monitored(["1001"])
    switch.send(DELIVERED, "7", "1001", calling="5551234")       # watched: kept however idle
    switch.send(DELIVERED, "8", "3001", calling="5551234")       # nobody watches 3001
    assert model.sweep(T0 + 60, max_idle=3600) == []
    ended = model.sweep(T0 + 7200, max_idle=3600)
    assert [c.call_id for c in ended] == ["8"]
    assert set(model.calls) == {"7"} and model.history.find("8").cause == "idle"


def test_call_snapshot_sets_every_listed_party_and_drops_the_rest(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(ESTABLISHED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(
        SNAPSHOT_CALL, "7", None, link="pbx1",
        parties=(Party("7", "1002", ALERTING), Party("7", "5551234", CONNECTED)),
    )
    assert parties(model.calls["7"]) == {"1002": ALERTING, "5551234": CONNECTED}


def test_call_snapshot_with_no_parties_ends_the_call(model, switch):
    switch.send(DELIVERED, "7", "1001", calling="5551234", link="pbx1")
    switch.send(SNAPSHOT_CALL, "7", None, link="pbx1", parties=())
    assert "7" not in model.calls
    assert model.history.find("7") is not None


def test_a_trunk_snapshot_files_the_connection_under_the_outside_party_it_names(model, switch):
    """A trunk's SnapshotDevice names the outside caller using it, as the trunk's events do:
    the trunk itself is never a party of the call."""
    switch.send(DELIVERED, "7", "1001", calling="+4930123456", called="1001")
    switch.send(LINK_DOWN)
    switch.send(SNAPSHOT_DEVICE, None, "8001", parties=(Party("7", "+4930123456", CONNECTED),))
    call = model.calls["7"]
    assert parties(call) == {"+4930123456": CONNECTED, "1001": ALERTING}
    assert "8001" not in call.parties
    assert model.device("8001").monitored
