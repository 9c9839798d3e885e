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
from db.records import Address, Tenant

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
            customer_id = db_customers.create_customer(
                conn, tenant, actor=session.user, addresses=_addresses(body.get("address")),
                **fields)
            return db_customers.get_customer(conn, tenant, customer_id)

        customer = yield self._db_lookup(work)
        return customer_dict(customer)

    @defer.inlineCallbacks
    def update_customer(self, session: Session, customer_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        fields = _customer_fields(body)

        def work(conn: Any) -> Any:
            if "address" in body:
                current = db_customers.get_customer(conn, tenant, customer_id)
                if body["address"] != customer_dict(current)["address"]:
                    fields["addresses"] = _addresses(body["address"])
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
            return db_customers.get_ticket(conn, tenant, ticket_id)

        ticket = yield self._db_lookup(work)
        return ticket_dict(ticket)

    @defer.inlineCallbacks
    def update_ticket(self, session: Session, ticket_id: int, body: dict[str, Any]) -> Any:
        tenant = yield self._tenant(session.tenant)
        status = body.get("status")
        if not status and "body" not in body:
            raise BadRequest("nothing to change: give \"status\" or \"body\"")

        def work(conn: Any) -> Any:
            if status:
                db_customers.set_ticket_status(conn, tenant, ticket_id, status)
            if "body" in body:
                db_customers.set_ticket_body(conn, tenant, ticket_id, body["body"])
            return db_customers.get_ticket(conn, tenant, ticket_id)

        ticket = yield self._db_lookup(work)
        return ticket_dict(ticket)

    @defer.inlineCallbacks
    def _db_lookup(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a repository call; its NotFound is the API's 404, its ValueError a 400."""
        try:
            return (yield self.db.run(fn, *args, **kwargs))
        except DbNotFound as exc:
            raise NotFound(str(exc)) from None
        except ValueError as exc:
            raise BadRequest(str(exc)) from None


def _addresses(text: str | None) -> list[Address]:
    """The API's one-line address, kept whole as the street line of the customer's only
    address (an unchanged line is not written back, so structured rows keep their parts)."""
    text = (text or "").strip()
    return [Address(street=text)] if text else []


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
