"""Whatever well-formed call events a switch sends, in whatever order, the model stays sound."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from cti.events import (
    CALL_CLEARED,
    CALL_EVENTS,
    CONFERENCED,
    CONNECTION_STATES,
    LINK_DOWN,
    NULL,
    SNAPSHOT_DEVICE,
    TRANSFERRED,
    Event,
    Party,
)
from cti.model import Model

CALL_IDS = ("1", "2", "3", "4")
DEVICES = ("1001", "1002", "1003", "800", "5551234")
SIMPLE_EVENTS = sorted(CALL_EVENTS - {TRANSFERRED, CONFERENCED})

call_ids = st.sampled_from(CALL_IDS)
devices = st.sampled_from(DEVICES)
states = st.sampled_from((*CONNECTION_STATES, None))
monitors = st.sampled_from((None, "1001", "1002"))

simple = st.builds(
    Event, event=st.sampled_from(SIMPLE_EVENTS), time=st.just(0.0), call_id=call_ids,
    device=st.one_of(st.none(), devices), calling=st.one_of(st.none(), devices),
    called=st.one_of(st.none(), devices), state=states, monitor=monitors,
    data=st.dictionaries(st.sampled_from(("a", "b")), st.integers(0, 3), max_size=1),
)


@st.composite
def merges(draw: st.DrawFn) -> Event:
    result = draw(call_ids)
    olds = tuple(draw(st.lists(call_ids, min_size=1, max_size=2, unique=True)))
    members = draw(st.lists(devices, max_size=3, unique=True))
    return Event(
        draw(st.sampled_from((TRANSFERRED, CONFERENCED))), 0.0, call_id=result,
        device=draw(devices), old_call_ids=olds, monitor=draw(monitors),
        parties=tuple(Party(result, device, draw(states)) for device in members),
    )


@st.composite
def snapshots(draw: st.DrawFn) -> Event:
    device = draw(st.sampled_from(("1001", "1002")))
    listed = draw(st.lists(call_ids, max_size=3, unique=True))
    return Event(SNAPSHOT_DEVICE, 0.0, device=device,
                 parties=tuple(Party(call_id, device, draw(states)) for call_id in listed))


any_event = st.one_of(
    simple, simple, simple, merges(), snapshots(), st.just(Event(LINK_DOWN, 0.0)))


def assert_sound(model: Model) -> None:
    live_states = set(CONNECTION_STATES) - {NULL}
    for call_id, call in model.calls.items():
        assert call.call_id == call_id and call.ended is None
        for device, conn in call.connections.items():
            assert conn.state in live_states
            assert model.devices[device].connections[call_id] is conn
            assert device in call.parties
    for device, dev in model.devices.items():
        for call_id, conn in dev.connections.items():
            assert model.calls[call_id].connections[device] is conn
    for old, new in model.aliases.items():
        assert old not in model.calls and new in model.calls
        assert old in model.calls[new].aliases


@settings(max_examples=300, deadline=None)
@given(st.lists(any_event, max_size=40))
def test_random_event_sequences_keep_the_model_sound(sequence):
    model = Model(history_size=1000)
    for index, event in enumerate(sequence):
        event = replace(event, time=1_700_000_000.0 + index)
        live = model.calls.get(event.call_id) if event.call_id else None
        before = list(model.calls.values())
        model.apply(event)
        assert_sound(model)
        for call in before:
            if call.call_id not in model.calls or model.calls[call.call_id] is not call:
                merged_or_ended = model.find_call(call.call_id) or model.history.find(call.call_id)
                assert merged_or_ended, "a call never just vanishes"
        if event.event == CALL_CLEARED and live is not None:
            assert live.ended is not None and live.ended <= event.time
            assert model.history.find(live.call_id).ended == live.ended
    for call in model.calls.values():
        assert call.to_dict()["state"] in CONNECTION_STATES
    assert model.history.total == len(model.history)
