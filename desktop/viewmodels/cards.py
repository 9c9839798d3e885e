"""Which call the one screen-pop card is about when several calls are at the desk.

The card must stay on the call the agent is talking to: a second call ringing meanwhile (a
colleague dialling in, a consultation) must not take it over, or the agent's unsaved edits
vanish and the next note lands on the ringing call. Its pop waits until the agent answers it
with the first call on hold; the held call's card is parked then and comes back, edits and
all, when the agent returns to it. A call the agent dials gets no pop from the server: its card
is built here, unless it is a consultation from the held call the card is about.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from twisted.internet import defer

from desktop.viewmodels.calls import CallsModel
from desktop.viewmodels.screenpop import ScreenPopModel

BUSY = ("connected", "hold", "initiated")
"""The agent's connection states in which a call is being worked on."""


def call_ids(call: dict[str, Any]) -> list[str]:
    return [str(i) for i in (call["call_id"], *(call.get("aliases") or ()))]


class CardKeeper:
    """Pending pops of calls ringing while the agent is busy, parked cards of held calls."""

    def __init__(self, calls: CallsModel, pop: ScreenPopModel,
                 build: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.calls = calls
        self.pop = pop
        self.build = build
        """Builds the card of a call over REST (its customer found by the far number)."""
        self.pending: dict[str, dict[str, Any]] = {}
        self.parked: dict[str, dict[str, Any]] = {}
        self._building: set[str] = set()

    def about(self, call: dict[str, Any]) -> bool:
        """Whether the card is this call's, under its ID or one it had (a conference keeps the
        consultation's ID; the held customer call's becomes an alias)."""
        return any(self.pop.matches(i) for i in call_ids(call))

    def offer(self, pop: dict[str, Any]) -> None:
        """A `screen_pop` for this desk: shown at once, unless the card is about another call
        the agent is working on; then it waits for its call to be answered."""
        call_id = str(pop.get("call_id"))
        busy = [c for c in self.calls.my_calls() if self.about(c)
                and self.calls.my_state(c) in BUSY and call_id not in call_ids(c)]
        if busy and not self.pop.matches(call_id):
            self.pending[call_id] = pop
        else:
            self.pop.load(pop)  # also the same call's pop under its new ID after a transfer

    def parked_name(self, call_id: str) -> str | None:
        card = self.parked.get(call_id)
        return ((card or {}).get("customer") or {}).get("name")

    def follow(self) -> defer.Deferred | None:
        """After any change of the desk's calls: forget cards of calls that left, and bring
        the card to the call the agent now works on where it should move."""
        mine = self.calls.my_calls()
        here = {i for call in mine for i in call_ids(call)}
        for kept in (self.pending, self.parked):
            for call_id in [i for i in kept if i not in here]:
                del kept[call_id]
        current = self.calls.current()
        if current is None or self.about(current):
            return None
        state = self.calls.my_state(current)
        inbound = self.calls.direction(current) == "in"
        card_calls = [c for c in mine if self.about(c)]
        if card_calls:
            # Only an answered inbound call takes the card from calls all put on hold; a
            # consultation the agent dialled keeps the held customer's card.
            if not (inbound and state == "connected"
                    and all(self.calls.my_state(c) == "hold" for c in card_calls)):
                return None
            if self.pop.call_id is not None:
                self.parked[self.pop.call_id] = self.pop.park()
        ids = call_ids(current)
        waiting = next((i for i in ids if i in self.pending), None)
        if waiting is not None:
            self.pop.load(self.pending.pop(waiting))
            return None
        parked = next((i for i in ids if i in self.parked), None)
        if parked is not None:
            self.pop.unpark(self.parked.pop(parked))
            return None
        if inbound and state == "alerting":
            return None  # the server's pop is on its way
        if ids[0] in self._building or self.calls.other_party(current) in (
                "", None, self.calls.extension):
            return None
        self._building.add(ids[0])
        d = defer.ensureDeferred(self.build(current))
        return d.addBoth(lambda result: self._building.discard(ids[0]) or result)

