"""The same event arrives once per monitored device on the call: the model counts it once."""

from __future__ import annotations

from cti.events import (
    CALL_CLEARED,
    CONFERENCED,
    CONNECTED,
    CONNECTION_CLEARED,
    DELIVERED,
    DIGITS_DIALED,
    ESTABLISHED,
    HELD,
    ORIGINATED,
    RETRIEVED,
    SERVICE_INITIATED,
    TRANSFERRED,
    Party,
)
from cti.model import Model

from .conftest import Switch


def busy_day(switch: Switch, on: tuple[str, ...]) -> None:
    """Three calls between two monitored agents: a transfer, a conference, a plain call."""
    send = switch.send
    send(DELIVERED, "A", "1001", calling="5551234", called="800", on=on)
    send(ESTABLISHED, "A", "1001", calling="5551234", called="800", on=on)
    send(HELD, "A", "1001", on=on)
    send(SERVICE_INITIATED, "B", "1001", on=on)
    send(ORIGINATED, "B", "1001", calling="1001", called="1002", on=on)
    send(DELIVERED, "B", "1002", calling="1001", called="1002", on=on)
    send(ESTABLISHED, "B", "1002", calling="1001", called="1002", on=on)
    send(TRANSFERRED, "C", "1001", old_call_ids=("A", "B"), on=on,
         parties=(Party("C", "5551234", CONNECTED), Party("C", "1002", CONNECTED)))
    send(CONNECTION_CLEARED, "C", "5551234", on=on)
    send(CONNECTION_CLEARED, "C", "1002", on=on)
    send(CALL_CLEARED, "C", on=on)

    send(DELIVERED, "D", "1002", calling="5559999", called="800", on=on)
    send(ESTABLISHED, "D", "1002", calling="5559999", called="800", on=on)
    send(DIGITS_DIALED, "D", "1002", digits="12", on=on)
    send(HELD, "D", "1002", on=on)
    send(ORIGINATED, "E", "1002", calling="1002", called="1001", on=on)
    send(DELIVERED, "E", "1001", calling="1002", called="1001", on=on)
    send(ESTABLISHED, "E", "1001", calling="1002", called="1001", on=on)
    send(CONFERENCED, "D", "1002", old_call_ids=("D", "E"), on=on,
         parties=(Party("D", "5559999", CONNECTED), Party("D", "1002", CONNECTED),
                  Party("D", "1001", CONNECTED)))
    send(CONNECTION_CLEARED, "D", "1001", on=on)
    send(HELD, "D", "1002", on=on)
    send(RETRIEVED, "D", "1002", on=on)
    send(CONNECTION_CLEARED, "D", "5559999", on=on)
    send(CONNECTION_CLEARED, "D", "1002", on=on)
    send(CALL_CLEARED, "D", on=on)


def run(on: tuple[str, ...]) -> tuple[Model, list[tuple[str, str]]]:
    model = Model()
    model.mark_monitored(["1001", "1002"])
    seen: list[tuple[str, str]] = []
    model.add_call_listener(lambda kind, call: seen.append((kind, call.call_id)))
    busy_day(Switch(model), on)
    return model, seen


def test_every_event_twice_gives_the_same_model_as_once():
    once, once_seen = run(("1001",))
    twice, twice_seen = run(("1001", "1002"))
    assert once.calls == twice.calls == {}
    assert [r.to_dict() for r in twice.history] == [r.to_dict() for r in once.history]
    assert twice_seen == once_seen
    assert twice.history.total == 2
    assert twice.events == 2 * once.events


def test_duplicates_leave_no_duplicate_parties_or_steps():
    model, _ = run(("1001", "1002", "1001"))
    transferred, conference = model.history.recent(2)[::-1]
    assert transferred.parties == ("5551234", "1001", "1002")
    assert conference.parties == ("5559999", "1002", "1001")
    assert conference.aliases == ("E",) and conference.digits == {"1002": "12"}
    once, _ = run(("1001",))
    assert [len(r.steps) for r in model.history] == [len(r.steps) for r in once.history]


def test_each_copy_returns_the_call_it_concerned():
    model = Model()
    switch = Switch(model)
    first = switch.send(DELIVERED, "A", "1001", calling="5551234", on=("1001",))
    again = switch.send(DELIVERED, "A", "1001", calling="5551234", on=("1002",))
    assert first is again is model.find_call("A")
    assert len(first.steps) == 2
