"""The OpenAPI 3 document, generated from the route table the server dispatches with."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cti.api.routing import Route
from cti.api.schemas import ERROR

_ERRORS = {
    "400": "malformed JSON, missing or wrong field",
    "401": "no, bad or expired token; wrong password",
    "403": "role or tenant does not allow it",
    "404": "not found (or another tenant's)",
    "409": "the call or agent is not in a state that allows it",
    "502": "the switch refused or did not answer",
    "503": "database or switch link down",
}


def build_document(routes: Iterable[Route], version: str = "1.0.0") -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault("/api/v1" + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "CTI server API",
            "version": version,
            "description": "REST API of the CTI middleware; the event stream is a WebSocket at "
            "/api/v1/events?token=TOKEN (see docs/api.md).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in route.params
        ] + [
            {"name": name, "in": "query", "required": False, "description": text,
             "schema": {"type": "string"}}
            for name, text in route.query
        ],
        "responses": {},
    }
    if route.role is None:
        op["security"] = []
    else:
        op["security"] = [{"bearer": []}]
        op["x-role"] = route.role
    if route.request is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": route.request}},
        }
    ok: dict[str, Any] = {"description": "success"}
    if route.response is not None and route.status != 204:
        ok["content"] = {"application/json": {"schema": route.response}}
    op["responses"][str(route.status)] = ok
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for status, text in _ERRORS.items():
        if route.role is None and status in ("403", "409", "502"):
            continue
        op["responses"][status] = {"description": text, **error}
    return op
