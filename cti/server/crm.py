"""Customers, interactions and tickets: the CRM side of the API, always within one tenant.

Every method resolves the caller's tenant first and passes it to db/'s repositories, which
scope each query by it, so another tenant's rows are simply not found (404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.internet import defer

from cti.api.auth import Session
from cti.api.errors import BadRequest, NotFound
from cti.server.views import customer_dict, interaction_dict, ticket_dict
from db import customers as db_customers
from db.errors import NotFound as DbNotFound
from db.records import Tenant

_TICKET_TYPES = {"after_sales": "after-sales"}


class Crm:
    def __init__(self, database: Any, tenant: Callable[[str], defer.Deferred[Tenant]],
                 check_call: Callable[[Session, str], Any]) -> None:
        self.db = database
        self._tenant = tenant
        self._check_call = check_call

    @defer.inlineCallbacks
    def search_customers(self, session: Session, phone: str | None, text: str | None) -> Any:
        tenant = yield self._tenant(session.tenant)
        if phone:
            found = yield self.db.run(db_customers.find_customers_by_phone, tenant, phone)
        else:
            found = yield self.db.run(db_customers.search_customers, tenant, text or "")
        return [customer_dict(c) for c in found]

    @defer.inlineCallbacks
    def get_customer(self, session: Session, customer_id: int) -> Any:
        tenant = yield self._tenant(session.tenant)
        customer = yield self._db_lookup(db_customers.get_customer, tenant, customer_id)
        return customer_dict(customer)

    @defer.inlineCallbacks
    def create_customer(self, session: Session, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        fields = _customer_fields(body)

        def work(conn: Any) -> Any:
            customer_id = db_customers.create_customer(conn, tenant, actor=session.user,
                                                       **fields)
            return db_customers.get_customer(conn, tenant, customer_id)

        customer = yield self._db_lookup(work)
        return customer_dict(customer)

    @defer.inlineCallbacks
    def update_customer(self, session: Session, customer_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        fields = _customer_fields(body)

        def work(conn: Any) -> Any:
            db_customers.update_customer(conn, tenant, customer_id, actor=session.user,
                                         **fields)
            return db_customers.get_customer(conn, tenant, customer_id)

        customer = yield self._db_lookup(work)
        return customer_dict(customer)

    @defer.inlineCallbacks
    def customer_interactions(self, session: Session, customer_id: int) -> Any:
        tenant = yield self._tenant(session.tenant)

        def work(conn: Any) -> Any:
            db_customers.get_customer(conn, tenant, customer_id)
            return db_customers.recent_interactions(conn, tenant, customer_id, 100)

        found = yield self._db_lookup(work)
        return [interaction_dict(i) for i in found]

    @defer.inlineCallbacks
    def add_interaction(self, session: Session, customer_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        call_id = body.get("call_id")
        if call_id:
            self._check_call(session, call_id)

        def work(conn: Any) -> Any:
            db_customers.add_interaction(
                conn, tenant, customer_id, agent_id=session.extra.get("agent_db_id"),
                call_id=call_id, disposition=body.get("disposition"), notes=body.get("notes"),
            )
            return db_customers.recent_interactions(conn, tenant, customer_id, 1)[0]

        interaction = yield self._db_lookup(work)
        return interaction_dict(interaction)

    @defer.inlineCallbacks
    def customer_tickets(self, session: Session, customer_id: int) -> Any:
        tenant = yield self._tenant(session.tenant)

        def work(conn: Any) -> Any:
            db_customers.get_customer(conn, tenant, customer_id)
            return db_customers.list_tickets(conn, tenant, customer_id)

        found = yield self._db_lookup(work)
        return [ticket_dict(t) for t in found]

    @defer.inlineCallbacks
    def add_ticket(self, session: Session, customer_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        kind = _TICKET_TYPES.get(body["type"], body["type"])

        def work(conn: Any) -> Any:
            ticket_id = db_customers.create_ticket(
                conn, tenant, customer_id, kind, body["subject"], body=body.get("body"),
                agent_id=session.extra.get("agent_db_id"),
            )
            return _find_ticket(conn, tenant, customer_id, ticket_id)

        ticket = yield self._db_lookup(work)
        return ticket_dict(ticket)

    @defer.inlineCallbacks
    def update_ticket(self, session: Session, ticket_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        if body.get("body") is not None:
            raise BadRequest("changing a ticket's body is not supported yet; add an interaction")
        status = body.get("status")
        if not status:
            raise BadRequest("nothing to change: give \"status\"")
        yield self._db_lookup(db_customers.set_ticket_status, tenant, ticket_id, status)
        return {"id": ticket_id, "status": status}

    @defer.inlineCallbacks
    def _db_lookup(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a repository call; its NotFound is the API's 404, its ValueError a 400."""
        try:
            return (yield self.db.run(fn, *args, **kwargs))
        except DbNotFound as exc:
            raise NotFound(str(exc)) from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None


def _find_ticket(conn: Any, tenant: Tenant, customer_id: int, ticket_id: int) -> Any:
    for ticket in db_customers.list_tickets(conn, tenant, customer_id):
        if ticket.id == ticket_id:
            return ticket
    raise DbNotFound(f"no ticket {ticket_id}")


def _customer_fields(body: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": body["name"]}
    for key in ("company", "notes", "vip"):
        if key in body:
            fields[key] = body[key]
    if "emails" in body:
        fields["email"] = body["emails"][0] if body["emails"] else None
    if "fields" in body:
        fields["custom"] = body["fields"]
    if "phones" in body:
        fields["phones"] = body["phones"]
    return fields
