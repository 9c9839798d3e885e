"""Thin handlers: take the parsed request, pick out the arguments, call one service method.

Every handler has the signature handler(services, request); checking the body's shape happened
before (the route's schema), checking role and tenant happens in the services, which know what
each object belongs to.
"""

from __future__ import annotations

from typing import Any

from cti.api.errors import BadRequest
from cti.api.routing import ApiRequest

CALL_ACTIONS = (
    "answer", "hangup", "hold", "retrieve", "consult", "transfer", "conference", "alternate",
    "reconnect", "deflect", "single-step-transfer", "dtmf", "monitor",
)


def login(services: Any, req: ApiRequest) -> Any:
    body = req.body
    return services.login(
        user=body["user"], password=body["password"], extension=body.get("extension"),
        tenant=body.get("tenant"), acd=body.get("acd", True), client=req.client,
    )


def current_session(services: Any, req: ApiRequest) -> Any:
    return services.session_info(req.session)


def logout(services: Any, req: ApiRequest) -> Any:
    return services.logout(req.session)


def openapi(services: Any, req: ApiRequest) -> Any:
    return services.openapi_document()


def list_calls(services: Any, req: ApiRequest) -> Any:
    return services.list_calls(req.session)


def get_call(services: Any, req: ApiRequest) -> Any:
    return services.get_call(req.session, req.params["call_id"])


def make_call(services: Any, req: ApiRequest) -> Any:
    return services.make_call(req.session, req.body["to"], req.body.get("from"))


def call_action(action: str) -> Any:
    """The handler of POST /calls/{call_id}/ACTION."""

    def handler(services: Any, req: ApiRequest) -> Any:
        return services.call_action(req.session, req.params["call_id"], action, req.body)

    handler.__name__ = "call_" + action.replace("-", "_")
    return handler


def patch_call_data(services: Any, req: ApiRequest) -> Any:
    return services.merge_call_data(req.session, req.params["call_id"], req.body)


def add_call_note(services: Any, req: ApiRequest) -> Any:
    return services.add_call_note(req.session, req.params["call_id"], req.body["text"])


def call_disposition(services: Any, req: ApiRequest) -> Any:
    return services.dispose_call(
        req.session, req.params["call_id"], req.body["code"], req.body.get("notes"),
        req.body.get("customer_id"),
    )


def list_agents(services: Any, req: ApiRequest) -> Any:
    return services.list_agents(req.session)


def my_agent(services: Any, req: ApiRequest) -> Any:
    return services.my_agent(req.session)


def set_my_state(services: Any, req: ApiRequest) -> Any:
    return services.set_agent_state(req.session, None, req.body["state"], req.body.get("reason"))


def set_agent_state(services: Any, req: ApiRequest) -> Any:
    return services.set_agent_state(
        req.session, req.params["agent_id"], req.body["state"], req.body.get("reason")
    )


def reasons(services: Any, req: ApiRequest) -> Any:
    return services.reasons(req.session)


def dispositions(services: Any, req: ApiRequest) -> Any:
    return services.dispositions(req.session)


def directory(services: Any, req: ApiRequest) -> Any:
    return services.directory(req.session)


def list_queues(services: Any, req: ApiRequest) -> Any:
    return services.list_queues(req.session)


def search_customers(services: Any, req: ApiRequest) -> Any:
    phone, text = req.query.get("phone"), req.query.get("q")
    if phone and phone[:1] == " " and phone.strip()[:1].isdigit():
        phone = "+" + phone.strip()  # an unencoded "+" arrives as a space in a query string
    if not phone and not text:
        raise BadRequest("give ?phone=NUMBER or ?q=TEXT")
    return services.crm.search_customers(req.session, phone=phone, text=text)


def get_customer(services: Any, req: ApiRequest) -> Any:
    return services.crm.get_customer(req.session, _id(req.params["customer_id"]))


def create_customer(services: Any, req: ApiRequest) -> Any:
    return services.crm.create_customer(req.session, req.body)


def update_customer(services: Any, req: ApiRequest) -> Any:
    return services.crm.update_customer(req.session, _id(req.params["customer_id"]), req.body)


def customer_interactions(services: Any, req: ApiRequest) -> Any:
    return services.crm.customer_interactions(req.session, _id(req.params["customer_id"]))


def add_interaction(services: Any, req: ApiRequest) -> Any:
    return services.crm.add_interaction(req.session, _id(req.params["customer_id"]), req.body)


def customer_tickets(services: Any, req: ApiRequest) -> Any:
    return services.crm.customer_tickets(req.session, _id(req.params["customer_id"]))


def add_ticket(services: Any, req: ApiRequest) -> Any:
    return services.crm.add_ticket(req.session, _id(req.params["customer_id"]), req.body)


def update_ticket(services: Any, req: ApiRequest) -> Any:
    return services.crm.update_ticket(req.session, _id(req.params["ticket_id"]), req.body)


def _id(text: str) -> int:
    if not text.isdigit():
        raise BadRequest(f"bad id {text!r}: expected a number")
    return int(text)
