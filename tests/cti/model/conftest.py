"""A tiny switch that feeds the model the way a driver does, so tests read like call flows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from cti.events import Event
from cti.model import Call, Model

T0 = 1_700_000_000.0


class Switch:
    """Sends normalised events to a model, one second apart.

    `on=(...)` sends the event once per monitor named, as a switch does for an event that
    concerns several monitored devices (each copy a millisecond later, as a driver stamps them).
    """

    def __init__(self, model: Model) -> None:
        self.model = model
        self.time = T0

    def send(
        self, name: str, call_id: str | None = None, device: str | None = None, *,
        on: tuple[str | None, ...] = (None,), **fields: Any,
    ) -> Call | None:
        self.time += 1.0
        event = Event(name, self.time, call_id=call_id, device=device, **fields)
        result = None
        for index, monitor in enumerate(on):
            result = self.model.apply(replace(event, monitor=monitor, time=self.time + index / 1000))
        return result


@pytest.fixture
def model() -> Model:
    return Model()


@pytest.fixture
def switch(model: Model) -> Switch:
    return Switch(model)


@pytest.fixture
def changes(model: Model) -> list[tuple[str, str]]:
    """Every call notification as (kind, call_id), in order."""
    seen: list[tuple[str, str]] = []
    model.add_call_listener(lambda kind, call: seen.append((kind, call.call_id)))
    return seen
