"""Screen-pop: when a call reaches an agent, the caller's record goes to that agent's screen.

The customer is found by the caller's number through the tenant's dial plan (db/), with recent
interactions and open tickets, and the call's attached data and notes ride along. A call that
reaches the next agent by transfer or conference pops again there with everything gathered so
far; a consultation call pops with the customer of the call being consulted about.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from twisted.internet import defer
from twisted.logger import Logger

from cti import events as ev
from cti.api.stream import Audience
from cti.server.views import customer_dict, interaction_dict, ticket_dict
from db import customers as db_customers
from db.errors import NotFound
from db.records import ScreenPop, Tenant

if TYPE_CHECKING:
    from cti.server.services import Services

log = Logger(namespace="cti.server.screenpop")

POP_INTERACTIONS = 5
POP_TICKETS = 10
"""As many as db/customers.screen_pop gives a caller found by number."""
MAX_CONSULTATIONS = 10_000
"""Consultations remembered at most: one whose call the switch never reported (so no end of
it ever comes) is forgotten once this many newer ones were made."""


class ScreenPops:
    """The pops, and the customer found for each call while anyone may still ask for it.

    Everything here is per call and the server runs for weeks, so nothing outlives its call
    for long: a live call's entries go when it ends (`ended`); the customer of an ended call
    stays only while the call's record is in the models' bounded history (an agent disposes
    it after hanging up, and dispose_call finds the call there), oldest dropped first.
    """

    def __init__(self, services: Services) -> None:
        self.services = services
        self._customers: dict[str, Any] = {}
        """Live calls: call ID (any of a call's IDs) -> customer id found for it; written
        through to the call's stored context (cti/server/calls.py CallContexts) and restored
        from it. Emptied of a call's IDs when it ends."""
        self._ended: OrderedDict[str, Any] = OrderedDict()
        """Ended calls: final call ID -> customer id, oldest first; no more of them than the
        models' histories hold records (CallSource.history_capacity)."""
        self._consulted_about: OrderedDict[str, str] = OrderedDict()
        """Consultation call ID -> the call it consults about, while the consultation lives
        (at most MAX_CONSULTATIONS)."""
        self.sent = 0

    def customer_of(self, call: Any) -> Any:
        """The customer found for a live call, or for an ended one (its record)."""
        if getattr(call, "ended", None) is not None:
            return self._ended.get(call.call_id)
        for call_id in (*getattr(call, "aliases", ()), call.call_id):
            if call_id in self._customers:
                return self._customers[call_id]
        return None

    def remember(self, customer_id: Any, *call_ids: str) -> bool:
        """The customer found for a live call (by any of its IDs); True when that is news."""
        changed = False
        for call_id in call_ids:
            if self._customers.get(call_id) != customer_id:
                self._customers[call_id] = customer_id
                changed = True
        return changed

    def ended(self, records: Iterable[Any]) -> None:
        """Calls ended (cleared, ended by a snapshot, unobserved): their live entries go; a
        customer found for one stays with its final ID while its record is in the history."""
        for record in records:
            ids = record.call_ids
            customer = next((self._customers[i] for i in ids if i in self._customers), None)
            for call_id in ids:
                self._customers.pop(call_id, None)
                self._consulted_about.pop(call_id, None)
            if customer is not None:
                self._remember_ended(record.call_id, customer)
            else:  # a switch reusing the ID: an earlier call's customer is not this one's
                self._ended.pop(record.call_id, None)

    def _remember_ended(self, call_id: str, customer_id: Any) -> None:
        self._ended.pop(call_id, None)
        self._ended[call_id] = customer_id
        capacity = self.services.calls.history_capacity
        while len(self._ended) > capacity:
            self._ended.popitem(last=False)

    def _remember_for(self, call: Any, customer_id: Any) -> bool:
        """Remember the customer for `call` as it is now: live (perhaps merged into another
        call since the pop began), or ended while the pop's lookup ran. True when a live
        call's customer changed (its stored context must then be written)."""
        live = self.services.calls.live(call.call_id)
        if live is not None:
            return self.remember(customer_id, *call.aliases, call.call_id, *live.aliases,
                                 live.call_id)
        record = self.services.calls.ended(call.call_id)
        if record is not None and record.call_id not in self._ended:
            self._remember_ended(record.call_id, customer_id)
        return False

    def consulting(self, consult_call_id: str, original_call_id: str) -> None:
        """A consultation made through the API: its pop shows the caller consulted about.
        Forgotten when the consultation ends or merges (transfer, conference)."""
        call = self.services.calls.live(consult_call_id)
        if call is None and self.services.calls.ended(consult_call_id) is not None:
            return  # over already: nobody will be popped for it
        self._consulted_about.pop(consult_call_id, None)
        self._consulted_about[consult_call_id] = original_call_id
        while len(self._consulted_about) > MAX_CONSULTATIONS:
            self._consulted_about.popitem(last=False)

    def merged(self, old_call_ids: Iterable[str]) -> None:
        """A transfer or conference ended these IDs: a consultation among them is over."""
        for call_id in old_call_ids:
            self._consulted_about.pop(call_id, None)

    def delivered(self, tenant: str, event: ev.Event) -> defer.Deferred[None] | None:
        agent = self.services.agents.at_extension(tenant, event.device)
        if agent is None or not event.call_id:
            return None
        call = self.services.calls.live(event.call_id)
        if call is None:
            return None
        subject = call
        about = self._consulted_about.get(call.call_id)
        if about is not None:
            subject = self.services.calls.live(about) or call
        return self._pop(tenant, agent, event.device, call, subject)

    def moved(self, tenant: str, event: ev.Event,
              previous: list[tuple[set[str], bool]]) -> None:
        """After a transfer or conference: pop at every agent the caller's call newly reached.

        `previous` holds, for each call involved before the event, its devices and whether it
        carried a customer; the caller's call is the one with the customer (else the first).
        Devices already on it (the agent who stays, a monitored agent) get no second pop.
        """
        call = self.services.calls.live(event.call_id)
        if call is None:
            return
        main = next((devices for devices, known in previous if known),
                    previous[0][0] if previous else set())
        for device in list(call.connections):
            if device == event.device or device in main:
                continue
            agent = self.services.agents.at_extension(tenant, device)
            if agent is not None:
                self._pop(tenant, agent, device, call, call)

    @defer.inlineCallbacks
    def _pop(self, tenant_code: str, agent: Any, device: str, call: Any, subject: Any) -> Any:
        caller = subject.ani or subject.calling
        known = self.customer_of(subject) if caller is None else None
        try:
            tenant = yield self.services.tenant(tenant_code)
            if known is not None:
                pop = yield self.services.db.lookup(_pop_of_customer, tenant, known)
            else:
                pop = yield self.services.db.lookup(db_customers.screen_pop, tenant, caller)
        except Exception as exc:
            log.warn("screen-pop lookup for call {call} failed: {error}", call=call.call_id,
                     error=exc)
            pop = None
        customer = pop.customer if pop is not None else None
        if customer is not None:
            for target in (call, subject) if subject is not call else (call,):
                if self._remember_for(target, customer.id):
                    self.services.contexts.save(tenant_code, target)
        # A call an agent has on screen is stored with its numbers even when no customer was
        # found: a restarted server's snapshot would rebuild it without them.
        self.services.contexts.save(tenant_code, call)
        data = dict(subject.data)
        if subject is not call:
            data.update(call.data)
        notes = [n.to_dict() for n in subject.notes]
        if subject is not call:
            notes += [n.to_dict() for n in call.notes]
        message = {
            "event": "screen_pop",
            "call_id": call.call_id,
            "agent": agent.agent_id,
            "device": device,
            "customer": customer_dict(customer) if customer is not None else None,
            "interactions": [interaction_dict(i) for i in pop.interactions] if pop else [],
            "tickets": [ticket_dict(t) for t in pop.tickets] if pop else [],
            "data": data,
            "notes": notes,
            "calling": subject.calling,
            "called": subject.called,
            "number": pop.number if pop is not None and pop.number else caller,
        }
        if subject is not call:
            message["consulting_call_id"] = subject.call_id
        self.sent += 1
        self.services.hub.publish(
            message,
            Audience(tenant_code, frozenset({device}), frozenset({agent.agent_id}),
                     personal=True),
        )


def _pop_of_customer(conn: Any, tenant: Tenant, customer_id: int) -> ScreenPop:
    """The pop of a customer already chosen for the call, for a call whose caller's number is
    unknown: one rebuilt from a switch's snapshot after a restart (snapshots carry no numbers)
    keeps the customer stored with its context."""
    try:
        customer = db_customers.get_customer(conn, tenant, customer_id)
    except NotFound:
        return ScreenPop(None, None)
    tickets = [t for t in db_customers.list_tickets(conn, tenant, customer_id)
               if t.status in ("open", "pending")]
    return ScreenPop(None, customer, tuple(db_customers.recent_interactions(
        conn, tenant, customer_id, POP_INTERACTIONS)), tuple(tickets[:POP_TICKETS]))
