"""The screen-pop card: the caller's customer record (editable), history, tickets, notes.

The card holds the server's record and a draft the agent edits; `dirty` says whether there is
anything to save, and `saved` takes the server's answer back as the new baseline, so an agent
never loses an edit silently and never saves what did not change.
"""

from __future__ import annotations

import copy
from typing import Any

from desktop.viewmodels.observable import Signal

CUSTOMER_FIELDS = ("name", "company", "phones", "emails", "address", "vip", "notes")
CLOSED_TICKETS = frozenset({"closed", "resolved", "done", "cancelled"})
TICKET_TYPES = ("complaint", "order", "after_sales", "enquiry")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return [str(v).strip() for v in value or [] if str(v).strip()]


def blank_customer(phone: str | None) -> dict[str, Any]:
    return {"id": None, "name": "", "company": "", "phones": [phone] if phone else [],
            "emails": [], "address": "", "vip": False, "fields": {}, "notes": ""}


class ScreenPopModel:
    """One call's pop: customer draft and baseline, interactions, tickets, notes, data."""

    def __init__(self) -> None:
        self.changed = Signal()
        self.dirty_changed = Signal()
        self.clear()

    def clear(self) -> None:
        self.call_id: str | None = None
        self.agent: str | None = None
        self.device: str | None = None
        self.calling: str | None = None
        self.called: str | None = None
        self.consulting_call_id: str | None = None
        """Set on the pop of a consultation call: the call the colleague is consulting about."""
        self.customer: dict[str, Any] | None = None
        self.call_customer_id: Any = None
        """The customer the server holds for the call (pop, call objects); None for a caller
        it did not know, even once the agent has saved a new customer for them."""
        self.draft: dict[str, Any] = blank_customer(None)
        self.interactions: list[dict[str, Any]] = []
        self.tickets: list[dict[str, Any]] = []
        self.data: dict[str, Any] = {}
        self.notes: list[dict[str, Any]] = []
        self.aliases: set[str] = set()
        self.disposition: str | None = None
        self.disposition_saved = False
        self._was_dirty = False
        self.changed.emit()

    # -- feeding -------------------------------------------------------------------------------

    def load(self, pop: dict[str, Any]) -> None:
        """A `screen_pop` event (or the same shape rebuilt over REST after a reconnect)."""
        same_call = self.call_id is not None and str(pop.get("call_id")) == self.call_id
        keep_draft = same_call and self.dirty
        draft = self.draft
        self.call_id = str(pop.get("call_id")) if pop.get("call_id") is not None else None
        self.agent = pop.get("agent")
        self.device = pop.get("device")
        self.calling = pop.get("calling")
        self.called = pop.get("called")
        self.consulting_call_id = pop.get("consulting_call_id")
        customer = pop.get("customer")
        self.customer = copy.deepcopy(customer) if customer else None
        self.call_customer_id = (customer or {}).get("id")
        self.draft = draft if keep_draft else self._baseline()
        self.interactions = list(pop.get("interactions") or [])
        self.tickets = list(pop.get("tickets") or [])
        self.data = dict(pop.get("data") or {})
        self.notes = list(pop.get("notes") or [])
        if not same_call:
            self.aliases = set()
            self.disposition = None
            self.disposition_saved = False
        self._emit()

    def follow_call(self, call: dict[str, Any]) -> None:
        """A newer object of the popped call (notes, data, new ID after a transfer)."""
        ids = {str(call.get("call_id"))} | {str(a) for a in call.get("aliases") or []}
        if self.call_id is None or not ({self.call_id} | self.aliases) & ids:
            return
        self.aliases |= ids
        self.call_id = str(call.get("call_id"))
        self.notes = list(call.get("notes") or self.notes)
        self.data = dict(call.get("data") or self.data)
        if call.get("customer_id") is not None:
            self.call_customer_id = call["customer_id"]
        self._emit()

    PARKED = ("call_id", "agent", "device", "calling", "called", "consulting_call_id",
              "customer", "call_customer_id", "draft", "interactions", "tickets", "data",
              "notes", "aliases", "disposition", "disposition_saved")

    def park(self) -> dict[str, Any]:
        """The card as it stands, unsaved edits included, to be put back with `unpark`."""
        return {name: copy.deepcopy(getattr(self, name)) for name in self.PARKED}

    def unpark(self, card: dict[str, Any]) -> None:
        for name in self.PARKED:
            setattr(self, name, copy.deepcopy(card[name]))
        self._emit()

    def matches(self, call_id: str | None) -> bool:
        return call_id is not None and (call_id == self.call_id or call_id in self.aliases)

    # -- the customer record -------------------------------------------------------------------

    @property
    def has_pop(self) -> bool:
        return self.call_id is not None

    @property
    def is_new_customer(self) -> bool:
        return self.customer is None

    @property
    def customer_id(self) -> Any:
        return (self.customer or {}).get("id")

    @property
    def dialled(self) -> bool:
        """The agent's own extension placed this call (a pop for an outbound call)."""
        return bool(self.calling) and self.calling == self.device

    @property
    def number(self) -> str | None:
        """The far party's number: whom the agent dialled, else who called."""
        return self.called if self.dialled else self.calling

    @property
    def customer_new_to_call(self) -> bool:
        """The agent saved a customer the server does not link to the call (an unknown caller
        made a customer during the call): the call's disposition must name them itself."""
        return self.customer_id is not None and self.customer_id != self.call_customer_id

    @property
    def dirty(self) -> bool:
        return self.draft != self._baseline()

    def display_name(self) -> str:
        if self.customer and self.customer.get("name"):
            return str(self.customer["name"])
        return "Unknown caller" if self.has_pop else ""

    def set_field(self, name: str, value: Any) -> None:
        """Edit one field of the draft; phones and emails accept a comma-separated string."""
        if name in ("phones", "emails"):
            value = _as_list(value)
        elif name == "vip":
            value = bool(value)
        elif name not in CUSTOMER_FIELDS:
            raise KeyError(f"not a customer field: {name}")
        else:
            value = "" if value is None else str(value)
        if self.draft.get(name) == value:
            return
        self.draft[name] = value
        self._emit()

    def set_custom_field(self, key: str, value: str) -> None:
        fields = self.draft.setdefault("fields", {})
        if fields.get(key) == value:
            return
        fields[key] = value
        self._emit()

    def record_for_save(self) -> dict[str, Any]:
        """The draft as the body of POST/PUT /customers (without the server-owned id)."""
        record = {k: copy.deepcopy(v) for k, v in self.draft.items() if k != "id"}
        if not record.get("name"):
            raise ValueError("the customer needs a name before it can be saved")
        return record

    def saved(self, customer: dict[str, Any]) -> None:
        """The server's answer to the save: the new baseline."""
        self.customer = copy.deepcopy(customer)
        self.draft = self._baseline()
        self._emit()

    def revert(self) -> None:
        self.draft = self._baseline()
        self._emit()

    # -- the rest of the card ------------------------------------------------------------------

    def open_tickets(self) -> list[dict[str, Any]]:
        return [t for t in self.tickets if str(t.get("status", "open")).lower() not in CLOSED_TICKETS]

    def add_ticket(self, ticket: dict[str, Any]) -> None:
        self.tickets.insert(0, ticket)
        self._emit()

    def add_note(self, note: dict[str, Any]) -> None:
        if note not in self.notes:
            self.notes.append(note)
            self._emit()

    def set_interactions(self, interactions: list[dict[str, Any]]) -> None:
        self.interactions = list(interactions)
        self._emit()

    def set_disposition(self, code: str | None, saved: bool = False) -> None:
        self.disposition = code
        self.disposition_saved = saved
        self._emit()

    def _baseline(self) -> dict[str, Any]:
        base = blank_customer(self.number)
        if self.customer:
            for key in (*CUSTOMER_FIELDS, "id", "fields"):
                if key in self.customer and self.customer[key] is not None:
                    base[key] = copy.deepcopy(self.customer[key])
        return base

    def _emit(self) -> None:
        self.changed.emit()
        dirty = self.dirty
        if dirty != self._was_dirty:
            self._was_dirty = dirty
            self.dirty_changed.emit(dirty)
