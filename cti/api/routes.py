"""The route table of /api/v1: what is served, who may call it, and the shape of each body."""

from __future__ import annotations

from cti.api import handlers as h
from cti.api import schemas as s
from cti.api.adminroutes import ADMIN_ROUTES
from cti.api.auth import ADMINISTRATOR, AGENT, SUPERVISOR
from cti.api.routing import Route, RouteTable

_ACTION_BODIES = {
    "answer": (s.ACTION_EMPTY, s.EMPTY, "answer the alerting call at the device"),
    "hangup": (s.ACTION_EMPTY, s.EMPTY, "clear the device's connection"),
    "hold": (s.ACTION_EMPTY, s.EMPTY, "put the call on hold"),
    "retrieve": (s.ACTION_EMPTY, s.EMPTY, "take the held call back"),
    "consult": (s.ACTION_TO, s.CALL_ID, "hold the call and call another party"),
    "transfer": (s.ACTION_CONSULT, s.CALL_ID, "transfer the held call to the consulted party"),
    "conference": (s.ACTION_CONSULT, s.CALL_ID, "join the held and the consultation call"),
    "alternate": (s.ACTION_CONSULT, s.EMPTY, "swap between the held and the active call"),
    "reconnect": (s.ACTION_CONSULT, s.EMPTY, "drop the consultation and take the held call back"),
    "deflect": (s.ACTION_TO, s.EMPTY, "send the alerting call elsewhere"),
    "single-step-transfer": (s.ACTION_TO, s.CALL_ID, "transfer the call without consulting"),
    "dtmf": (s.ACTION_DTMF, s.EMPTY, "send DTMF digits on the call"),
    "monitor": (s.ACTION_MONITOR, s.CALL_ID, "listen, whisper or barge in (supervisors)"),
}

_CALLS = [
    Route("GET", "/calls", h.list_calls, AGENT, "calls the caller may see",
          response=s.array(s.CALL), tag="calls"),
    Route("POST", "/calls", h.make_call, AGENT, "make a call", request=s.MAKE_CALL,
          response=s.CALL_ID, status=201, tag="calls"),
    Route("GET", "/calls/{call_id}", h.get_call, AGENT,
          "one call (old IDs of a transferred call resolve too)", response=s.CALL, tag="calls"),
    Route("PATCH", "/calls/{call_id}/data", h.patch_call_data, AGENT,
          "merge keys into the call's attached data", request=s.CALL_DATA, response=s.CALL,
          tag="calls"),
    Route("POST", "/calls/{call_id}/notes", h.add_call_note, AGENT, "add a note to the call",
          request=s.ADD_NOTE, response=s.CALL, status=201, tag="calls"),
    Route("POST", "/calls/{call_id}/disposition", h.call_disposition, AGENT,
          "record the call's outcome as an interaction", request=s.DISPOSITION,
          response=s.INTERACTION, status=201, tag="calls"),
] + [
    Route("POST", f"/calls/{{call_id}}/{action}", h.call_action(action),
          SUPERVISOR if action == "monitor" else AGENT, summary, request=body, response=out,
          tag="calls")
    for action, (body, out, summary) in _ACTION_BODIES.items()
]

ROUTES = RouteTable(
    [
        Route("GET", "/openapi.json", h.openapi, None, "this OpenAPI document",
              response=s.ANY_OBJECT, tag="meta"),
        Route("POST", "/sessions", h.login, None, "log in (agents also log on to the ACD)",
              request=s.LOGIN, response=s.SESSION, status=201, tag="sessions"),
        Route("GET", "/sessions/current", h.current_session, AGENT, "the caller's session",
              response=s.SESSION, tag="sessions"),
        Route("DELETE", "/sessions/current", h.logout, AGENT,
              "log out (and off the ACD)", status=204, tag="sessions"),
        *_CALLS,
        Route("GET", "/agents", h.list_agents, AGENT,
              "agents (agents see themselves, supervisors the tenant)",
              response=s.array(s.AGENT), tag="agents"),
        Route("GET", "/agents/me", h.my_agent, AGENT, "the caller's agent",
              response=s.AGENT, tag="agents"),
        Route("POST", "/agents/me/state", h.set_my_state, AGENT, "set the caller's state",
              request=s.SET_AGENT_STATE, response=s.AGENT, tag="agents"),
        Route("POST", "/agents/{agent_id}/state", h.set_agent_state, SUPERVISOR,
              "set another agent's state", request=s.SET_AGENT_STATE, response=s.AGENT,
              tag="agents"),
        Route("GET", "/reasons", h.reasons, AGENT, "not-ready reason codes",
              response=s.array(s.CODE_LABEL), tag="agents"),
        Route("GET", "/dispositions", h.dispositions, AGENT, "disposition codes",
              response=s.array(s.CODE_LABEL), tag="calls"),
        Route("GET", "/directory", h.directory, AGENT, "address book for click-to-dial",
              response=s.array(s.DIRECTORY_ENTRY), tag="agents"),
        Route("GET", "/queues", h.list_queues, AGENT, "queues with live statistics",
              response=s.array(s.QUEUE), tag="queues"),
        Route("GET", "/customers", h.search_customers, AGENT,
              "find customers by phone (any spelling) or text", response=s.array(s.CUSTOMER),
              query=(("phone", "a phone number in any national or international spelling"),
                     ("q", "text in name, company or e-mail")), tag="customers"),
        Route("POST", "/customers", h.create_customer, AGENT, "create a customer",
              request=s.CUSTOMER_IN, response=s.CUSTOMER, status=201, tag="customers"),
        Route("GET", "/customers/{customer_id}", h.get_customer, AGENT, "one customer",
              response=s.CUSTOMER, tag="customers"),
        Route("PUT", "/customers/{customer_id}", h.update_customer, AGENT,
              "replace a customer's fields", request=s.CUSTOMER_IN, response=s.CUSTOMER,
              tag="customers"),
        Route("GET", "/customers/{customer_id}/interactions", h.customer_interactions, AGENT,
              "the customer's interactions, newest first", response=s.array(s.INTERACTION),
              tag="customers"),
        Route("POST", "/customers/{customer_id}/interactions", h.add_interaction, AGENT,
              "record an interaction", request=s.INTERACTION_IN, response=s.INTERACTION,
              status=201, tag="customers"),
        Route("GET", "/customers/{customer_id}/tickets", h.customer_tickets, AGENT,
              "the customer's tickets", response=s.array(s.TICKET), tag="tickets"),
        Route("POST", "/customers/{customer_id}/tickets", h.add_ticket, AGENT,
              "open a ticket (complaint, order, after-sales, ...)", request=s.TICKET_IN,
              response=s.TICKET, status=201, tag="tickets"),
        Route("PATCH", "/tickets/{ticket_id}", h.update_ticket, AGENT,
              "change a ticket's status or body", request=s.TICKET_PATCH, response=s.TICKET,
              tag="tickets"),
        *ADMIN_ROUTES,
    ]
)

__all__ = ["ROUTES", "ADMINISTRATOR"]
