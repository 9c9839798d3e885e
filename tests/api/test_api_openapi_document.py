"""The OpenAPI document is generated from the very route table the server dispatches with."""

from __future__ import annotations

import re

import pytest_twisted

from cti.api.openapi import build_document
from cti.api.routes import ROUTES
from cti.server import testing

PINNED = [  # interfaces.md and docs/api.md
    ("post", "/api/v1/sessions"), ("get", "/api/v1/sessions/current"),
    ("delete", "/api/v1/sessions/current"), ("get", "/api/v1/calls"),
    ("post", "/api/v1/calls"), ("get", "/api/v1/calls/{call_id}"),
    ("patch", "/api/v1/calls/{call_id}/data"), ("post", "/api/v1/calls/{call_id}/notes"),
    ("post", "/api/v1/calls/{call_id}/disposition"), ("get", "/api/v1/agents"),
    ("get", "/api/v1/agents/me"), ("post", "/api/v1/agents/me/state"),
    ("post", "/api/v1/agents/{agent_id}/state"), ("get", "/api/v1/reasons"),
    ("get", "/api/v1/dispositions"), ("get", "/api/v1/directory"), ("get", "/api/v1/queues"),
    ("get", "/api/v1/customers"), ("post", "/api/v1/customers"),
    ("get", "/api/v1/customers/{customer_id}"), ("put", "/api/v1/customers/{customer_id}"),
    ("get", "/api/v1/customers/{customer_id}/interactions"),
    ("post", "/api/v1/customers/{customer_id}/interactions"),
    ("get", "/api/v1/customers/{customer_id}/tickets"),
    ("post", "/api/v1/customers/{customer_id}/tickets"), ("patch", "/api/v1/tickets/{ticket_id}"),
] + [
    ("post", f"/api/v1/calls/{{call_id}}/{action}")
    for action in ("answer", "hangup", "hold", "retrieve", "consult", "transfer", "conference",
                   "alternate", "reconnect", "deflect", "single-step-transfer", "dtmf", "monitor")
]


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_route_is_documented_and_nothing_else():
    doc = build_document(ROUTES.routes)
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    served = {(r.method.lower(), "/api/v1" + r.path) for r in ROUTES.routes}
    assert documented == served
    assert set(PINNED) <= documented


def test_document_is_well_formed_openapi_3():
    doc = build_document(ROUTES.routes)
    assert doc["openapi"].startswith("3.0")
    assert doc["info"]["title"] and doc["info"]["version"]
    operation_ids = []
    for path, ops in doc["paths"].items():
        params = set(re.findall(r"\{(\w+)\}", path))
        for method, op in ops.items():
            assert method in {"get", "post", "put", "patch", "delete"}
            operation_ids.append(op["operationId"])
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == params, (method, path)
            assert op["responses"], (method, path)
            for status in op["responses"]:
                assert re.fullmatch(r"[1-5]\d\d", status)
            if "requestBody" in op:
                assert op["requestBody"]["content"]["application/json"]["schema"]
    assert len(operation_ids) == len(set(operation_ids))
    for ref in _refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"]


def test_public_and_protected_routes_say_so():
    doc = build_document(ROUTES.routes)
    assert doc["paths"]["/api/v1/sessions"]["post"]["security"] == []
    assert doc["paths"]["/api/v1/calls"]["get"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/api/v1/calls/{call_id}/monitor"]["post"]["x-role"] == "supervisor"


@pytest_twisted.inlineCallbacks
def test_served_document_needs_no_token(tmp_path):
    running = yield testing.start_server(tmp_path, seed=False)
    client = testing.ApiClient(running.url)
    try:
        status, doc = yield client.get("/api/v1/openapi.json")
        assert status == 200
        assert doc == build_document(ROUTES.routes)
    finally:
        yield client.close()
        yield running.stop()
