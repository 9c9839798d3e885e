"""Screen-pop: when a call reaches an agent, the caller's record goes to that agent's screen.

The customer is found by the caller's number through the tenant's dial plan (db/), with recent
interactions and open tickets, and the call's attached data and notes ride along. A call that
reaches the next agent by transfer or conference pops again there with everything gathered so
far; a consultation call pops with the customer of the call being consulted about.
"""

from __future__ import annotations

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


class ScreenPops:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._customers: dict[str, Any] = {}
        """call ID (any of a call's IDs) -> customer id found for it; written through to the
        call's stored context (cti/server/calls.py CallContexts) and restored from it."""
        self._consulted_about: dict[str, str] = {}
        """consultation call ID -> the call it consults about."""
        self.sent = 0

    def customer_of(self, call: Any) -> Any:
        for call_id in (*getattr(call, "aliases", ()), call.call_id):
            if call_id in self._customers:
                return self._customers[call_id]
        return None

    def remember(self, customer_id: Any, *call_ids: str) -> bool:
        """The customer found for a call (by any of its IDs); True when that is news."""
        changed = False
        for call_id in call_ids:
            if self._customers.get(call_id) != customer_id:
                self._customers[call_id] = customer_id
                changed = True
        return changed

    def consulting(self, consult_call_id: str, original_call_id: str) -> None:
        self._consulted_about[consult_call_id] = original_call_id

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
        if customer is not None and self.remember(
                customer.id, *getattr(call, "aliases", ()), call.call_id,
                *getattr(subject, "aliases", ()), subject.call_id):
            self.services.contexts.save(tenant_code, call)
            if subject is not call:
                self.services.contexts.save(tenant_code, subject)
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
