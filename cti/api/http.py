"""The Twisted web resources: parse, authenticate, check the role, call the handler, render.

Everything under /api/v1/ except the WebSocket is one leaf resource dispatching by the route
table, so the rules (JSON in and out, one-line errors, role checks) live in exactly one place.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import unquote

from twisted.internet import defer
from twisted.logger import Logger
from twisted.python.failure import Failure
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

from cti.api.auth import SessionStore, bearer_token
from cti.api.errors import ApiError, BadRequest, SwitchError, Unavailable
from cti.api.routing import ApiRequest, RouteTable
from cti.api.schemas import validate
from cti.errors import ServiceError

PREFIX = "/api/v1"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_MAX_BODY = 1 << 20

log = Logger(namespace="cti.api")


class ApiV1(Resource):
    """/api/v1: the WebSocket at `events`, every other path to the dispatcher."""

    def __init__(self, dispatcher: Resource, events: Resource) -> None:
        super().__init__()
        self._dispatcher = dispatcher
        self.putChild(b"events", events)

    def getChild(self, path: bytes, request: Request) -> Resource:
        return self._dispatcher

    def render(self, request: Request) -> Any:
        return self._dispatcher.render(request)


class Dispatcher(Resource):
    isLeaf = True

    def __init__(self, routes: RouteTable, sessions: SessionStore, services: Any,
                 cors_origins: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.routes = routes
        self.sessions = sessions
        self.services = services
        self.cors_origins = frozenset(cors_origins)

    def render(self, request: Request) -> Any:
        if self._cors(request) and request.method == b"OPTIONS":
            request.setResponseCode(204)
            return b""
        started = time.monotonic()
        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))
        d = defer.maybeDeferred(self._handle, request)
        d.addCallback(self._ok, request, gone)
        d.addErrback(self._failed, request, gone)
        d.addBoth(self._logged, request, started)
        return NOT_DONE_YET

    def _cors(self, request: Request) -> bool:
        """Let browser wallboards and CRMs of the configured origins call the API."""
        origin = request.getHeader(b"origin")
        if not origin or not self.cors_origins:
            return False
        text = origin.decode("latin-1")
        if text not in self.cors_origins and "*" not in self.cors_origins:
            return False
        request.setHeader(b"access-control-allow-origin", origin)
        request.setHeader(b"vary", b"Origin")
        request.setHeader(b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE")
        request.setHeader(b"access-control-allow-headers", b"Authorization, Content-Type")
        request.setHeader(b"access-control-max-age", b"600")
        return True

    def _handle(self, request: Request) -> defer.Deferred[tuple[int, Any]]:
        method = request.method.decode("ascii", "replace").upper()
        path = _api_path(request.path)
        route, params = self.routes.match(method, path)
        session = None
        if route.role is not None:
            header = request.getHeader(b"authorization")
            session = self.sessions.resolve(bearer_token(header))
            session.require(route.role)
            request.cti_user = session.user  # type: ignore[attr-defined]
        body = _read_body(request, route.request) if method in _BODY_METHODS else None
        api_request = ApiRequest(
            session=session,
            params=params,
            query=_query(request),
            body=body,
            client=getattr(request.getClientAddress(), "host", ""),
        )
        d = defer.maybeDeferred(route.handler, self.services, api_request)
        d.addCallback(lambda result: (route.status, result))
        return d

    def _ok(self, outcome: tuple[int, Any], request: Request, gone: list[bool]) -> int:
        status, result = outcome
        if not gone:
            _write(request, status, None if status == 204 else result)
        return status

    def _failed(self, failure: Failure, request: Request, gone: list[bool]) -> int:
        error = as_api_error(failure)
        if error.status >= 500 and not isinstance(error, (SwitchError, Unavailable)):
            log.failure("unhandled error on {method} {path}", failure,
                        method=request.method.decode(), path=request.path.decode())
        if not gone:
            _write(request, error.status, error.to_dict())
        return error.status

    def _logged(self, status: int, request: Request, started: float) -> None:
        log.info(
            "{method} {path} {status} {ms:.1f}ms {user}",
            method=request.method.decode("ascii", "replace"),
            path=request.path.decode("ascii", "replace"),
            status=status,
            ms=(time.monotonic() - started) * 1000,
            user=getattr(request, "cti_user", "-"),
        )


def as_api_error(failure: Failure) -> ApiError:
    """Map any failure to the error of docs/api.md: switch and database trouble are 502/503."""
    exc = failure.value
    if isinstance(exc, ApiError):
        return exc
    try:
        from drivers.base import DriverError, LinkDown
    except ImportError:  # pragma: no cover - drivers/base.py is part of the tree
        DriverError = LinkDown = ()  # type: ignore[assignment,misc]
    if LinkDown and isinstance(exc, LinkDown):
        return Unavailable(str(exc))
    if DriverError and isinstance(exc, DriverError):
        return SwitchError(str(exc))
    if isinstance(exc, ServiceError):
        return Unavailable(str(exc))
    error = ApiError(f"internal error: {type(exc).__name__}")
    return error


def _api_path(raw: bytes) -> str:
    path = unquote(raw.decode("utf-8", "replace"))
    if path.startswith(PREFIX):
        path = path[len(PREFIX):]
    return "/" + path.strip("/")


def _query(request: Request) -> dict[str, str]:
    return {
        key.decode("utf-8", "replace"): values[-1].decode("utf-8", "replace")
        for key, values in (request.args or {}).items()
        if values
    }


def _read_body(request: Request, schema: dict[str, Any] | None) -> Any:
    raw = request.content.read(_MAX_BODY + 1) if request.content is not None else b""
    if len(raw) > _MAX_BODY:
        raise BadRequest("request body too large (limit 1 MiB)")
    if not raw.strip():
        body: Any = {}
    else:
        try:
            body = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest("malformed JSON: body is not UTF-8") from None
        except json.JSONDecodeError as exc:
            raise BadRequest(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if schema is not None:
        validate(schema, body)
    return body


def _write(request: Request, status: int, payload: Any) -> None:
    request.setResponseCode(status)
    if payload is None:
        request.finish()
        return
    data = json.dumps(payload, separators=(",", ":"), default=str).encode("utf-8")
    request.setHeader(b"content-type", b"application/json; charset=utf-8")
    request.setHeader(b"cache-control", b"no-store")
    request.write(data)
    request.finish()
