"""The calls panel: current calls at the agent's extension and which actions each allows.

Full call objects (hello, GET /calls, `call` events) replace what we hold; the normalised switch
events (delivered, established, held, ...) update party states in between, so the panel is right
even when a server sends only one of the two. Calls that leave the extension go to the history.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from desktop.viewmodels.observable import Signal
from desktop.viewmodels.timefmt import parse_time

# Party states the calls panel treats as "this call is active here".
ACTIVE = ("connected", "initiated")

ALL_ACTIONS = (
    "answer", "hangup", "hold", "retrieve", "consult", "transfer", "conference",
    "alternate", "reconnect", "deflect", "single_step_transfer", "dtmf",
)


def derive_state(parties: list[dict[str, Any]]) -> str:
    """A call's overall state from its parties, as the server words it."""
    states = [p.get("state") for p in parties]
    for candidate in ("hold", "alerting", "queued", "initiated", "fail"):
        if candidate in states and "connected" not in states:
            return candidate
    if "hold" in states:
        return "hold"
    if "connected" in states:
        return "connected"
    return "null"


class CallsModel:
    """Calls by ID, the extension they are seen from, consultation pairs, selection."""

    def __init__(self, clock: Callable[[], float], extension: str | None = None) -> None:
        self.clock = clock
        self.extension = extension
        self.calls: dict[str, dict[str, Any]] = {}
        self.consults: dict[str, str] = {}
        self.selected: str | None = None
        self._first_seen: dict[str, float] = {}
        self.changed = Signal()
        self.ended = Signal()
        """Emitted with the last call object when a call leaves the extension."""
        self.alerting = Signal()
        """Emitted with a call object when a call starts alerting at the extension."""

    # -- feeding -------------------------------------------------------------------------------

    def reset(self, calls: list[dict[str, Any]]) -> None:
        """The complete current list (hello, GET /calls): replaces everything held."""
        before = self._mine_snapshot()
        self.calls = {}
        for call in calls:
            if call.get("call_id"):
                self.calls[str(call["call_id"])] = dict(call)
        self.consults = {k: v for k, v in self.consults.items()
                         if k in self.calls and v in self.calls}
        self._settle(before)

    def upsert(self, call: dict[str, Any]) -> None:
        """A full call object (`call` event created/updated, GET /calls/{id})."""
        before = self._mine_snapshot()
        call_id = str(call["call_id"])
        for alias in call.get("aliases") or []:
            self._rename(str(alias), call_id)
        self.calls[call_id] = dict(call)
        self._settle(before)

    def remove(self, call_id: str) -> None:
        before = self._mine_snapshot()
        self.calls.pop(call_id, None)
        self._settle(before)

    def apply_event(self, event: dict[str, Any]) -> None:
        """A normalised switch event of interfaces.md; unknown ones are ignored."""
        name = event.get("event")
        call_id = event.get("call_id")
        device = event.get("device")
        if call_id is not None:
            call_id = str(call_id)
        before = self._mine_snapshot()
        if name in ("transferred", "conferenced"):
            for old in event.get("old_call_ids") or []:
                if call_id:
                    self._rename(str(old), call_id)
                else:
                    self.calls.pop(str(old), None)
            if call_id:
                call = self._ensure(call_id, event)
                for party in event.get("parties") or []:
                    if party.get("device"):
                        self._set_party(call, party["device"], party.get("state") or "connected")
                if device and name == "transferred":
                    self._drop_party(call, device)
        elif name == "call_cleared" and call_id:
            self.calls.pop(call_id, None)
        elif call_id and device:
            state = {
                "delivered": "alerting", "established": "connected", "held": "hold",
                "retrieved": "connected", "service_initiated": "initiated",
                "originated": "connected", "network_reached": "connected", "failed": "fail",
                "queued": "queued",
            }.get(name)
            if state is not None:
                call = self._ensure(call_id, event)
                self._set_party(call, device, state)
                if name == "established" and event.get("calling"):
                    caller = next((p for p in call["parties"]
                                   if p.get("device") == event["calling"]), None)
                    if caller is not None and caller.get("state") == "initiated":
                        caller["state"] = "connected"
                if name == "established" and not call.get("answered"):
                    call["answered"] = event.get("time")
            elif name in ("connection_cleared", "diverted") and call_id in self.calls:
                self._drop_party(self.calls[call_id], device)
                if not self.calls[call_id]["parties"] and name == "connection_cleared":
                    self.calls.pop(call_id)
            else:
                return
        else:
            return
        self._settle(before)

    def record_consult(self, primary: str, consult: str) -> None:
        """Remember that `consult` was made from `primary` (POST .../consult answer)."""
        self.consults[consult] = primary
        self.changed.emit()

    def select(self, call_id: str | None) -> None:
        self.selected = call_id if call_id in self.calls else None
        self.changed.emit()

    # -- reading -------------------------------------------------------------------------------

    def my_state(self, call: dict[str, Any]) -> str | None:
        """The state of the extension's own connection in `call` (None if it has none).

        Without an extension (a supervisor logged in without a phone) no call is the desk's
        own: the tenant's calls feed the board, not the alert, calls panel or history."""
        if self.extension is None:
            return None
        for party in call.get("parties") or []:
            if party.get("device") == self.extension:
                return party.get("state")
        return None

    def is_mine(self, call: dict[str, Any]) -> bool:
        return self.my_state(call) not in (None, "null")

    def my_calls(self) -> list[dict[str, Any]]:
        """The extension's calls, oldest first."""
        mine = [c for c in self.calls.values() if self.is_mine(c)]
        return sorted(mine, key=lambda c: self._started(c))

    def current(self) -> dict[str, Any] | None:
        """The call the panel's buttons act on: the selection, else the most urgent call."""
        if self.selected and self.selected in self.calls and self.is_mine(self.calls[self.selected]):
            return self.calls[self.selected]
        mine = self.my_calls()
        for wanted in ("alerting", "connected", "initiated", "hold"):
            for call in reversed(mine):
                if self.my_state(call) == wanted:
                    return call
        return mine[-1] if mine else None

    def other_party(self, call: dict[str, Any]) -> str:
        """The number on the far side, as the agent thinks of it."""
        calling, called = call.get("calling") or "", call.get("called") or ""
        if self.extension and calling == self.extension:
            return called or calling
        if calling:
            return calling
        others = [p.get("device") for p in call.get("parties") or []
                  if p.get("device") and p.get("device") != self.extension]
        return others[0] if others else called

    def direction(self, call: dict[str, Any]) -> str:
        return "out" if self.extension and call.get("calling") == self.extension else "in"

    def duration(self, call: dict[str, Any]) -> float:
        start = parse_time(call.get("answered")) or self._started(call)
        return max(0.0, self.clock() - start)

    def consult_pair(self, call_id: str) -> tuple[str, str] | None:
        """(held primary call, active consultation call) that `call_id` belongs to, if any."""
        if call_id in self.consults and self.consults[call_id] in self.calls:
            return self.consults[call_id], call_id
        for consult, primary in self.consults.items():
            if primary == call_id and consult in self.calls:
                return primary, consult
        mine = self.my_calls()
        held = [c for c in mine if self.my_state(c) == "hold"]
        active = [c for c in mine if self.my_state(c) in ACTIVE]
        if len(held) == 1 and len(active) == 1:
            pair = (str(held[0]["call_id"]), str(active[0]["call_id"]))
            if call_id in pair:
                return pair
        return None

    def enabled_actions(self, call_id: str | None = None) -> set[str]:
        """The buttons that make sense for a call given the extension's connection state."""
        call = self.calls.get(call_id) if call_id else self.current()
        if call is None:
            return set()
        state = self.my_state(call)
        actions: set[str] = set()
        if state == "alerting":
            actions |= {"answer", "deflect", "hangup"}
        elif state == "connected":
            actions |= {"hangup", "hold", "consult", "dtmf", "single_step_transfer"}
        elif state == "initiated":
            actions |= {"hangup"}
        elif state == "hold":
            actions |= {"retrieve", "hangup"}
        elif state in ("queued", "fail"):
            actions |= {"hangup"}
        if state in ("connected", "initiated", "hold") and self.consult_pair(str(call["call_id"])):
            actions |= {"transfer", "conference", "alternate", "reconnect"}
            actions.discard("consult")
            actions.discard("retrieve")
        return actions

    # -- internals -----------------------------------------------------------------------------

    def _started(self, call: dict[str, Any]) -> float:
        call_id = str(call.get("call_id"))
        return parse_time(call.get("started")) or self._first_seen.setdefault(call_id, self.clock())

    def _ensure(self, call_id: str, event: dict[str, Any]) -> dict[str, Any]:
        call = self.calls.get(call_id)
        if call is None:
            call = {
                "call_id": call_id, "state": "null", "parties": [],
                "calling": event.get("calling"), "called": event.get("called"),
                "ani": event.get("calling"), "dnis": event.get("called"),
                "data": dict(event.get("data") or {}), "notes": [],
                "customer_id": None, "queue": None, "started": event.get("time"),
                "answered": None, "aliases": [],
            }
            self.calls[call_id] = call
        else:
            for key in ("calling", "called"):
                if not call.get(key) and event.get(key):
                    call[key] = event[key]
        return call

    def _set_party(self, call: dict[str, Any], device: str, state: str) -> None:
        parties = call.setdefault("parties", [])
        for party in parties:
            if party.get("device") == device:
                party["state"] = state
                break
        else:
            parties.append({"device": device, "state": state})
        call["state"] = derive_state(parties)

    def _drop_party(self, call: dict[str, Any], device: str) -> None:
        call["parties"] = [p for p in call.get("parties") or [] if p.get("device") != device]
        call["state"] = derive_state(call["parties"])

    def _rename(self, old: str, new: str) -> None:
        """A call changed ID (transfer, conference): carry what we knew over."""
        if old == new or old not in self.calls:
            return
        known = self.calls.pop(old)
        if new not in self.calls:
            known["call_id"] = new
            self.calls[new] = known
        # Merged into a call we already hold (a conference keeps the consultation's ID): the
        # old ID lives on as an alias, so the held call does not "end" into the history.
        aliases = self.calls[new].setdefault("aliases", [])
        if old not in aliases:
            aliases.append(old)
        self.consults = {(new if k == old else k): (new if v == old else v)
                         for k, v in self.consults.items() if k != v}
        if self.selected == old:
            self.selected = new

    def _mine_snapshot(self) -> dict[str, dict[str, Any]]:
        return {cid: dict(c) for cid, c in self.calls.items() if self.is_mine(c)}

    def _settle(self, before: dict[str, dict[str, Any]]) -> None:
        now_mine = {cid for cid, c in self.calls.items() if self.is_mine(c)}
        renamed = {alias for cid in now_mine for alias in self.calls[cid].get("aliases") or []}
        for cid, call in before.items():
            if cid not in now_mine and cid not in renamed:
                self._first_seen.pop(cid, None)
                self.consults.pop(cid, None)
                self.ended.emit(call)
        for cid in now_mine:
            call = self.calls[cid]
            was = before.get(cid)
            if self.my_state(call) == "alerting" and (was is None or self.my_state(was) != "alerting"):
                self.alerting.emit(call)
        if self.selected and self.selected not in now_mine:
            self.selected = None
        self.consults = {k: v for k, v in self.consults.items() if k in self.calls}
        self.changed.emit()


class CallHistoryModel:
    """Calls this desktop has handled in the session, newest first."""

    def __init__(self, clock: Callable[[], float], limit: int = 200) -> None:
        self.clock = clock
        self.limit = limit
        self.entries: list[dict[str, Any]] = []
        self.changed = Signal()

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.insert(0, entry)
        del self.entries[self.limit:]
        self.changed.emit()

    def record(self, calls: CallsModel, call: dict[str, Any], customer: str | None) -> None:
        """One ended call as the history shows it."""
        self.add({
            "call_id": str(call.get("call_id")),
            "time": parse_time(call.get("started")) or self.clock(),
            "direction": calls.direction(call),
            "number": calls.other_party(call),
            "customer": customer or "",
            "duration": calls.duration(call) if call.get("answered") else 0.0,
            "answered": bool(call.get("answered")),
        })

    def annotate(self, call_id: str, **fields: Any) -> None:
        for entry in self.entries:
            if entry["call_id"] == call_id:
                entry.update(fields)
                self.changed.emit()
                return
