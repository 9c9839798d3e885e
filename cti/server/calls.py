"""The calls of every link, as the services read them: one cti.model.Model per link.

A model per link keeps two switches' call IDs and extension numbers apart (two tenants on two
PBXs may both have an extension 1001). The services see one CallSource: find a call by any of
its IDs, list the live ones, attach data and notes, and learn which calls ended on an event.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Protocol

from cti.events import Event
from cti.model import CALL_ENDED, Model
from cti.model.calls import Call, CallRecord


class CallSource(Protocol):
    def apply(self, event: Event) -> list[Any]: ...
    def live(self, call_id: str | None) -> Any | None: ...
    def ended(self, call_id: str) -> Any | None: ...
    def calls(self) -> Iterable[Any]: ...
    def attach_data(self, call_id: str, data: Mapping[str, Any]) -> Any: ...
    def add_note(self, call_id: str, time: float, author: str | None, text: str) -> Any: ...


class LinkCalls:
    """CallSource over one Model per link; events are routed by their `link` field."""

    def __init__(self, history_size: int = 10_000) -> None:
        self.models: dict[str, Model] = {}
        self._history_size = history_size
        self._ended: list[Call] = []

    def add_link(self, name: str, devices: Iterable[str]) -> Model:
        model = Model(history_size=self._history_size)
        model.mark_monitored(devices, link=name)
        model.add_call_listener(self._on_call)
        self.models[name] = model
        return model

    def _on_call(self, kind: str, call: Call) -> None:
        if kind == CALL_ENDED:
            self._ended.append(call)

    def apply(self, event: Event) -> list[CallRecord]:
        """Feed one event to its link's model; returns the records of the calls it ended."""
        model = self.models.get(event.link or "")
        if model is None:
            model = self.add_link(event.link or "", ())
        self._ended = []
        model.apply(event)
        ended, self._ended = self._ended, []
        return [call.record() for call in ended]

    def live(self, call_id: str | None) -> Call | None:
        if not call_id:
            return None
        for model in self.models.values():
            call = model.find_call(call_id)
            if call is not None:
                return call
        return None

    def ended(self, call_id: str) -> CallRecord | None:
        for model in self.models.values():
            record = model.history.find(call_id)
            if record is not None:
                return record
        return None

    def calls(self) -> Iterator[Call]:
        for model in self.models.values():
            yield from list(model.calls.values())

    def attach_data(self, call_id: str, data: Mapping[str, Any]) -> Call:
        return self._model_of(call_id).attach_data(call_id, data)

    def add_note(self, call_id: str, time: float, author: str | None, text: str) -> Any:
        return self._model_of(call_id).add_note(call_id, text, time, author)

    def _model_of(self, call_id: str) -> Model:
        for model in self.models.values():
            if model.find_call(call_id) is not None:
                return model
        raise LookupError(f"no call {call_id!r}")
