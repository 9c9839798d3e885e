"""Transfer and conference: call IDs change, the call (numbers, data, history) carries on."""

from __future__ import annotations

import pytest

from cti.events import (
    ALERTING,
    CALL_CLEARED,
    CONFERENCED,
    CONNECTED,
    CONNECTION_CLEARED,
    DELIVERED,
    ESTABLISHED,
    HELD,
    HOLD,
    ORIGINATED,
    RETRIEVED,
    SERVICE_INITIATED,
    TRANSFERRED,
    Party,
)
from cti.model import UnknownCall

T0 = 1_700_000_000.0  # the test switch's clock starts here (conftest.Switch)


def parties(call):
    return {c.device: c.state for c in call.connections.values()}


def customer_call_with_consultation(switch, model):
    """A customer (5551234) dialled 800 and reached agent 1001 on call A; 1001 holds the
    customer and consults 1002 on call B, which answers."""
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="1001",
                network_called="800", data={"account": "K-17"})
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="1001")
    model.attach_data("A", {"reason": "invoice"})
    switch.send(HELD, "A", "1001")
    switch.send(SERVICE_INITIATED, "B", "1001")
    switch.send(ORIGINATED, "B", "1001", calling="1001", called="1002")
    switch.send(DELIVERED, "B", "1002", calling="1001", called="1002")
    switch.send(ESTABLISHED, "B", "1002", calling="1001", called="1002")
    model.attach_data("B", {"consulted": "1002"})


def transfer_to_new_call(switch):
    return switch.send(
        TRANSFERRED, "C", "1001", old_call_ids=("A", "B"),
        parties=(Party("C", "5551234", CONNECTED), Party("C", "1002", CONNECTED)),
    )


def test_consultation_transfer_gives_one_call_under_the_new_id(model, switch, changes):
    customer_call_with_consultation(switch, model)
    call = transfer_to_new_call(switch)

    assert set(model.calls) == {"C"}
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
    assert model.calls_at("1001") == []
    assert [c.call_id for c in model.calls_at("1002")] == ["C"]
    assert call.aliases == ["A", "B"]
    assert (call.calling, call.called, call.ani, call.dnis) == (
        "5551234", "1001", "5551234", "800"), "the customer's numbers, not the consultation's"
    assert call.data == {"account": "K-17", "reason": "invoice", "consulted": "1002"}
    assert call.started == T0 + 1 and call.answered == T0 + 2 and call.answered_by == "1001"
    assert list(call.parties) == ["5551234", "1001", "1002"]
    assert changes[-1] == ("updated", "C"), "a transfer continues the call, it creates none"
    assert ("ended", "A") not in changes and ("ended", "B") not in changes


def test_old_ids_still_find_the_transferred_call(model, switch):
    customer_call_with_consultation(switch, model)
    call = transfer_to_new_call(switch)
    assert model.find_call("A") is call and model.find_call("B") is call
    assert model.call("A") is call
    model.attach_data("A", {"late": True})
    assert call.data["late"] is True


def test_late_events_on_old_ids_do_not_end_or_change_the_resulting_call(model, switch):
    customer_call_with_consultation(switch, model)
    call = transfer_to_new_call(switch)
    switch.send(CONNECTION_CLEARED, "B", "1001")
    switch.send(CONNECTION_CLEARED, "A", "1001")
    switch.send(CALL_CLEARED, "A")
    switch.send(CALL_CLEARED, "B")
    switch.send(RETRIEVED, "A", "5551234")
    assert model.find_call("C") is call
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}


def test_the_transferred_call_reaches_history_with_all_its_ids(model, switch):
    customer_call_with_consultation(switch, model)
    transfer_to_new_call(switch)
    switch.send(CONNECTION_CLEARED, "C", "1002")
    switch.send(CONNECTION_CLEARED, "C", "5551234")
    switch.send(CALL_CLEARED, "C")
    assert model.calls == {} and model.aliases == {}
    record = model.history.find("A")
    assert record is model.history.find("B") is model.history.find("C")
    assert record.call_id == "C" and record.aliases == ("A", "B")
    assert record.ani == "5551234" and record.dnis == "800"
    assert record.data["account"] == "K-17"
    assert record.parties == ("5551234", "1001", "1002")
    assert record.answered_by == "1001"
    assert len(model.history) == 1
    with pytest.raises(UnknownCall):
        model.call("A")


def test_transfer_keeping_the_consultation_id(model, switch):
    customer_call_with_consultation(switch, model)
    call = switch.send(
        TRANSFERRED, "B", "1001", old_call_ids=("A", "B"),
        parties=(Party("B", "5551234", CONNECTED), Party("B", "1002", CONNECTED)),
    )
    assert set(model.calls) == {"B"} and call.aliases == ["A"]
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
    assert call.ani == "5551234" and call.data["account"] == "K-17"
    assert call.started == T0 + 1


def test_transfer_without_a_party_list_still_removes_the_transferring_device(model, switch):
    customer_call_with_consultation(switch, model)
    call = switch.send(TRANSFERRED, "C", "1001", old_call_ids=("A", "B"))
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}


@pytest.mark.parametrize(("kept", "ceased"), [("A", "B"), ("B", "A")])
def test_conference_keeping_one_of_the_two_ids(model, switch, kept, ceased):
    customer_call_with_consultation(switch, model)
    call = switch.send(
        CONFERENCED, kept, "1001", old_call_ids=(ceased,),
        parties=(Party(kept, "5551234", CONNECTED), Party(kept, "1001", CONNECTED),
                 Party(kept, "1002", CONNECTED)),
    )
    assert set(model.calls) == {kept} and call.aliases == [ceased]
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED, "1002": CONNECTED}
    assert call.data == {"account": "K-17", "reason": "invoice", "consulted": "1002"}
    assert (call.ani, call.dnis, call.started) == ("5551234", "800", T0 + 1)
    assert [c.call_id for c in model.calls_at("1001")] == [kept]
    assert model.find_call(ceased) is call
    switch.send(CALL_CLEARED, ceased)
    assert model.find_call(kept) is call, "the ID that ceased cannot clear the conference"


def test_conference_into_a_new_id_keeps_the_conferencing_device(model, switch):
    customer_call_with_consultation(switch, model)
    call = switch.send(
        CONFERENCED, "D", "1001", old_call_ids=("A", "B"),
        parties=(Party("D", "5551234", None), Party("D", "1001", None), Party("D", "1002", None)),
    )
    assert parties(call) == {"5551234": CONNECTED, "1001": CONNECTED, "1002": CONNECTED}
    assert call.aliases == ["A", "B"]
    switch.send(CONNECTION_CLEARED, "D", "1001")
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}


def test_single_step_transfer_to_a_new_call_id(model, switch):
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="800")
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="800")
    call = switch.send(
        TRANSFERRED, "E", "1001", old_call_ids=("A",),
        parties=(Party("E", "5551234", CONNECTED), Party("E", "1002", ALERTING)),
    )
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}
    switch.send(DELIVERED, "E", "1002", calling="5551234", called="1002")
    switch.send(ESTABLISHED, "E", "1002", calling="5551234", called="1002")
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
    assert call.aliases == ["A"] and call.dnis == "800" and call.answered_by == "1001"


def test_single_step_transfer_keeping_the_call_id(model, switch):
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="800")
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="800")
    call = switch.send(TRANSFERRED, "A", "1001", old_call_ids=("A",),
                       parties=(Party("A", "1002", ALERTING),))
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}
    assert call.aliases == []


def test_transfer_of_calls_the_model_never_saw(model, switch, changes):
    call = switch.send(
        TRANSFERRED, "C", "1001", old_call_ids=("A", "B"),
        parties=(Party("C", "5551234", CONNECTED), Party("C", "1002", CONNECTED)),
    )
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
    assert model.find_call("A") is call
    assert changes == [("created", "C")]
    assert switch.send(TRANSFERRED, None, "1001") is None, "nothing to go on: ignored"


def test_an_old_id_reused_by_the_switch_starts_a_new_call(model, switch):
    customer_call_with_consultation(switch, model)
    transferred = transfer_to_new_call(switch)
    fresh = switch.send(SERVICE_INITIATED, "A", "1003")
    assert fresh is not transferred and model.find_call("A") is fresh
    assert model.find_call("B") is transferred
    switch.send(CALL_CLEARED, "C")
    assert model.find_call("A") is fresh


def test_a_chain_of_transfers_keeps_every_old_id(model, switch):
    customer_call_with_consultation(switch, model)
    transfer_to_new_call(switch)
    switch.send(HELD, "C", "1002")
    switch.send(SERVICE_INITIATED, "F", "1002")
    switch.send(DELIVERED, "F", "1003", calling="1002", called="1003")
    switch.send(ESTABLISHED, "F", "1003", calling="1002", called="1003")
    call = switch.send(
        TRANSFERRED, "G", "1002", old_call_ids=("C", "F"),
        parties=(Party("G", "5551234", CONNECTED), Party("G", "1003", CONNECTED)),
    )
    assert call.aliases == ["A", "B", "C", "F"]
    assert all(model.find_call(x) is call for x in "ABCFG")
    assert call.ani == "5551234" and call.dnis == "800" and call.data["account"] == "K-17"
    assert parties(call) == {"5551234": CONNECTED, "1003": CONNECTED}
    assert HOLD not in {s.state for s in call.steps if s.call_id == "G"}


def test_single_step_transfer_as_the_csta_codec_reports_it(model, switch):
    """ECMA gives no states in a transfer's connection list, so the codec gives None: the
    model guesses connected until the device's own events say otherwise."""
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="800")
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="800")
    call = switch.send(
        TRANSFERRED, "E", "1001", old_call_ids=("A",),
        parties=(Party("E", "5551234", None), Party("E", "1002", None)),
    )
    switch.send(DELIVERED, "E", "1002", calling="5551234", called="1002")
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}
    switch.send(ESTABLISHED, "E", "1002", calling="5551234", called="1002")
    switch.send(DELIVERED, "E", "1002", calling="5551234", called="1002")
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}


def consultation_still_ringing(switch):
    """As customer_call_with_consultation, but 1002 has not answered the consultation yet."""
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="1001")
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="1001")
    switch.send(HELD, "A", "1001")
    switch.send(SERVICE_INITIATED, "B", "1001")
    switch.send(ORIGINATED, "B", "1001", calling="1001", called="1002")
    switch.send(DELIVERED, "B", "1002", calling="1001", called="1002")


def test_transfer_before_the_target_answers_leaves_the_target_ringing(model, switch):
    """ECMA lists a transfer's parties without states: those not yet answered stay so."""
    consultation_still_ringing(switch)
    call = switch.send(
        TRANSFERRED, "C", "1001", old_call_ids=("A", "B"), on=("1001", "1002"),
        parties=(Party("C", "5551234", None), Party("C", "1002", None)),
    )
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}


def test_the_targets_own_copy_of_a_transfer_corrects_a_guessed_state(model, switch):
    """The transfer's first copy guessed 1002 connected (the model never saw it ring); the
    target's own copy carries its state (the driver's localConnectionInfo on its party)."""
    switch.send(DELIVERED, "A", "1001", calling="5551234", called="1001")
    switch.send(ESTABLISHED, "A", "1001", calling="5551234", called="1001")
    call = switch.send(TRANSFERRED, "C", "1001", old_call_ids=("A", "B"), on=("1001",),
                       parties=(Party("C", "5551234", None), Party("C", "1002", None)))
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
    switch.send(TRANSFERRED, "C", "1001", old_call_ids=("A", "B"), on=("1002",),
                parties=(Party("C", "5551234", None), Party("C", "1002", ALERTING)))
    assert parties(call) == {"5551234": CONNECTED, "1002": ALERTING}
    switch.send(ESTABLISHED, "C", "1002", calling="5551234", called="1002")
    assert parties(call) == {"5551234": CONNECTED, "1002": CONNECTED}
