"""Fixtures of the desktop tests.

BOUNDARY FIXTURE: `RecordedApi` is a small stand-in for the CTI server's public API, serving
answers shaped exactly as docs/api.md records them, over real HTTP and a real WebSocket on
127.0.0.1:0. It exists so the desktop's client and viewmodels are tested against the wire
contract while the real server (cti/api, cti/server) is built in parallel; it keeps just
enough state (sessions, calls, agent state, customers) for the client's requests to have
observable effects, and records every request for the tests to check. Tests that need the
real call model use the real server instead.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import pytest_twisted
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.websocket import WebSocketResource
from wsproto.utilities import LocalProtocolError

from cti.events import iso_time

USERS = {
    "1001": {"password": "secret", "role": "agent", "agent_id": "1001", "name": "Anna Berg"},
    "1002": {"password": "secret", "role": "agent", "agent_id": "1002", "name": "Ben Ode"},
    "sup": {"password": "secret", "role": "supervisor", "agent_id": None, "name": "Sue Pervis"},
}

CUSTOMER = {
    "id": 7, "name": "Clara Jansen", "company": "Jansen Logistics", "phones": ["+4930123456"],
    "emails": ["clara@jansen.example"], "address": "Hafenstr. 1, Hamburg", "vip": True,
    "fields": {"contract": "GOLD-2291"}, "notes": "Prefers e-mail",
}


class _Stream:
    """Server side of one /api/v1/events connection."""

    def __init__(self, api: RecordedApi, session: dict[str, Any]) -> None:
        self.api = api
        self.session = session
        self.transport: Any = None

    def negotiationStarted(self, transport: Any) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        self.api.streams.append(self)
        if self.api.send_hello:
            self.send(self.api.hello(self.session))

    def textMessageReceived(self, message: str) -> None:
        self.api.received.append(json.loads(message))
        if json.loads(message).get("action") == "ping" and self.api.answer_pings:
            self.send({"event": "pong"})

    def bytesMessageReceived(self, data: bytes) -> None:
        pass

    def pongReceived(self, payload: bytes) -> None:
        pass

    def connectionLost(self, reason: Any) -> None:
        if self in self.api.streams:
            self.api.streams.remove(self)

    def send(self, event: dict[str, Any]) -> None:
        self.transport.sendTextMessage(json.dumps(event))

    def drop(self) -> None:
        try:
            self.transport.loseConnection()
        except LocalProtocolError:  # the client closed first
            self.transport.transport.loseConnection()


class RecordedApi(Resource):
    """docs/api.md answers over real HTTP; see the module docstring."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.received: list[dict[str, Any]] = []
        self.streams: list[_Stream] = []
        self.send_hello = True
        self.answer_pings = True
        self.calls: dict[str, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {7: copy.deepcopy(CUSTOMER)}
        self.tickets: dict[int, list[dict[str, Any]]] = {7: [
            {"id": 31, "type": "complaint", "subject": "Late delivery", "status": "open",
             "body": "Parcel 4471 two days late"},
            {"id": 30, "type": "order", "subject": "Pallets", "status": "closed", "body": ""},
        ]}
        self.interactions: dict[int, list[dict[str, Any]]] = {7: [
            {"id": 3, "time": "2026-11-20T09:12:00Z", "agent": "1002", "disposition": "resolved",
             "notes": "Asked about invoice 118"},
        ]}
        self.agents: dict[str, dict[str, Any]] = {}
        self.next_call = 100
        self.ws = WebSocketResource(self)
        for user, info in USERS.items():
            if info["agent_id"]:
                self.agents[user] = {
                    "agent_id": user, "name": info["name"], "extension": None,
                    "status": "logged_out", "state": "logged_out", "reason": None,
                    "since": iso_time(time.time()), "queues": ["sales"], "skills": {},
                    "calls_answered": 0, "talk_seconds": 0,
                }

    # -- what tests drive ----------------------------------------------------------------------

    def push(self, event: dict[str, Any]) -> None:
        for stream in list(self.streams):
            stream.send(event)

    def drop_streams(self) -> None:
        for stream in list(self.streams):
            stream.drop()

    def add_call(self, call: dict[str, Any]) -> dict[str, Any]:
        full = {"state": "alerting", "parties": [], "calling": None, "called": None, "ani": None,
                "dnis": None, "data": {}, "notes": [], "customer_id": None, "queue": None,
                "started": iso_time(time.time()), "answered": None, "aliases": [], **call}
        self.calls[full["call_id"]] = full
        return full

    def hello(self, session: dict[str, Any]) -> dict[str, Any]:
        ext = session.get("extension")
        calls = [c for c in self.calls.values()
                 if session["role"] != "agent" or any(p["device"] == ext for p in c["parties"])]
        agent = self.agents.get(session.get("agent_id") or "")
        return {"event": "hello", "session": self.public(session), "calls": calls,
                "agent": agent}

    @staticmethod
    def public(session: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in session.items() if k != "password"}

    # -- HTTP ----------------------------------------------------------------------------------

    def render(self, request: Any) -> bytes | int:
        path = request.path.decode()
        if not path.startswith("/api/v1/"):
            return self._answer(request, 404, {"error": "no such resource", "code": "not_found"})
        path = path[len("/api/v1"):]
        query = parse_qs(urlsplit(request.uri.decode()).query)
        if path == "/events":
            session = self.tokens.get((query.get("token") or [""])[0])
            if session is None:
                return self._answer(request, 401, {"error": "bad token", "code": "unauthorized"})
            request.cti_session = session
            return self.ws.render_GET(request)
        raw = request.content.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self._answer(request, 400, {"error": "malformed JSON", "code": "bad_request"})
        method = request.method.decode()
        self.requests.append((method, path, body))
        if (method, path) == ("POST", "/sessions"):
            return self._login(request, body or {})
        auth = (request.getHeader("authorization") or "").removeprefix("Bearer ")
        session = self.tokens.get(auth)
        if session is None:
            return self._answer(request, 401, {"error": "not logged in or session expired",
                                               "code": "unauthorized"})
        status, answer = self._route(method, path, query, body, session)
        return self._answer(request, status, answer)

    def buildProtocol(self, request: Any) -> _Stream:
        return _Stream(self, request.cti_session)

    def _answer(self, request: Any, status: int, answer: Any) -> bytes:
        request.setResponseCode(status)
        if status == 204:
            return b""
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(answer).encode()

    def _login(self, request: Any, body: dict[str, Any]) -> bytes:
        user = USERS.get(body.get("user", ""))
        if user is None or user["password"] != body.get("password"):
            return self._answer(request, 401, {"error": "wrong user or password",
                                               "code": "unauthorized"})
        token = f"tok-{len(self.tokens) + 1}"
        session = {"token": token, "role": user["role"], "tenant": "acme",
                   "user": body["user"], "agent_id": user["agent_id"],
                   "extension": body.get("extension"), "expires": "2026-11-23T23:00:00Z"}
        self.tokens[token] = session
        agent = self.agents.get(user["agent_id"] or "")
        if agent is not None and body.get("extension"):
            agent.update(extension=body["extension"], status="not_ready", state="idle",
                         reason="login")
        return self._answer(request, 201, session)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               session: dict[str, Any]) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        ext = session.get("extension")
        if (method, path) == ("DELETE", "/sessions/current"):
            self.tokens.pop(session["token"], None)
            return 204, None
        if (method, path) == ("GET", "/sessions/current"):
            return 200, session
        if (method, path) == ("GET", "/reasons"):
            return 200, [{"code": "break", "label": "Break"}, {"code": "lunch", "label": "Lunch"},
                         {"code": "training", "label": "Training"}]
        if (method, path) == ("GET", "/dispositions"):
            return 200, [{"code": "resolved", "label": "Resolved"},
                         {"code": "callback", "label": "Call back"},
                         {"code": "sale", "label": "Sale"}]
        if (method, path) == ("GET", "/directory"):
            return 200, [{"name": "Anna Berg", "number": "2001", "kind": "agent"},
                         {"name": "Ben Ode", "number": "2002", "kind": "agent"},
                         {"name": "Reception", "number": "2000", "kind": "extension"},
                         {"name": "Head office", "number": "+4940998877", "kind": "speed_dial"}]
        if (method, path) == ("GET", "/calls"):
            return 200, [c for c in self.calls.values() if session["role"] != "agent"
                         or any(p["device"] == ext for p in c["parties"])]
        if (method, path) == ("POST", "/calls"):
            if not (body or {}).get("to"):
                return 400, {"error": "field 'to' is required", "code": "bad_request"}
            call_id = str(self.next_call)
            self.next_call += 1
            self.add_call({"call_id": call_id, "state": "connected", "calling": ext,
                           "called": body["to"], "parties": [
                               {"device": ext, "state": "connected"},
                               {"device": body["to"], "state": "alerting"}]})
            return 201, {"call_id": call_id}
        if parts[0] == "calls" and len(parts) == 3:
            return self._call_action(parts[1], parts[2], body or {}, session)
        if (method, path) == ("GET", "/agents/me"):
            return 200, self.agents.get(session.get("agent_id") or "")
        if (method, path) == ("GET", "/agents"):
            if session["role"] == "agent":
                return 200, [self.agents[session["agent_id"]]]
            return 200, list(self.agents.values())
        if method == "POST" and parts[0] == "agents" and parts[-1] == "state":
            agent = self.agents.get(session["agent_id"] if parts[1] == "me" else parts[1])
            if agent is None:
                return 404, {"error": "no such agent", "code": "not_found"}
            state = (body or {}).get("state")
            if state not in ("ready", "not_ready", "wrap_up_done", "logged_out"):
                return 400, {"error": f"unknown state {state!r}", "code": "bad_request"}
            status = "ready" if state == "wrap_up_done" else state
            agent.update(status=status, state="idle" if status != "logged_out" else status,
                         reason=(body or {}).get("reason"), since=iso_time(time.time()))
            self.push({"event": "agent_state", **agent})
            return 200, agent
        if (method, path) == ("GET", "/queues"):
            return 200, [{"queue": "sales", "name": "Sales", "strategy": "longest-idle",
                          "waiting": 2, "longest_wait": 41, "agents_ready": 1, "agents_busy": 1,
                          "agents_logged_on": 2, "callers": [], "stats": {
                              "offered": 40, "answered": 36, "abandoned": 4, "asa": 12,
                              "aht": 180, "service_level": 0.83, "service_level_2": 0.8,
                              "occupancy": 0.7, "sl_seconds": 20}}]
        if parts[0] == "customers":
            return self._customers(method, parts, query, body)
        return 404, {"error": f"no route for {method} {path}", "code": "not_found"}

    def _call_action(self, call_id: str, action: str, body: dict[str, Any],
                     session: dict[str, Any]) -> tuple[int, Any]:
        call = self.calls.get(call_id)
        ext = session.get("extension")
        if call is None:
            return 404, {"error": f"no call {call_id}", "code": "not_found"}
        mine = next((p for p in call["parties"] if p["device"] == ext), None)
        if action == "notes":
            call["notes"].append({"time": iso_time(time.time()), "author": session["user"],
                                  "text": body.get("text", "")})
            return 201, call
        if action == "disposition":
            customer_id = body.get("customer_id")
            if customer_id is None:
                customer_id = call.get("customer_id")
            elif customer_id not in self.customers:
                return 404, {"error": f"customer_id: no customer {customer_id}",
                             "code": "not_found"}
            if customer_id is not None:
                self.interactions.setdefault(customer_id, []).insert(0, {
                    "id": 99, "time": iso_time(time.time()), "agent": session["agent_id"],
                    "call_id": call_id, "disposition": body.get("code"),
                    "notes": body.get("notes", "")})
            return 201, {"id": 99, "customer_id": customer_id, "call_id": call_id,
                         "disposition": body.get("code")}
        if mine is None:
            return 409, {"error": f"extension {ext} is not on call {call_id}", "code": "conflict"}
        if action == "answer":
            if mine["state"] != "alerting":
                return 409, {"error": f"call {call_id} is not alerting at {ext}",
                             "code": "conflict"}
            mine["state"] = "connected"
            call["state"] = "connected"
            call["answered"] = iso_time(time.time())
        elif action == "hold":
            mine["state"] = "hold"
            call["state"] = "hold"
        elif action == "retrieve":
            mine["state"] = "connected"
            call["state"] = "connected"
        elif action == "hangup":
            del self.calls[call_id]
            self.push({"event": "call", "kind": "ended", "call": call})
            return 200, {}
        elif action == "consult":
            mine["state"] = "hold"
            call["state"] = "hold"
            self.push({"event": "call", "kind": "updated", "call": call})
            new_id = str(self.next_call)
            self.next_call += 1
            consult = self.add_call({"call_id": new_id, "state": "connected", "calling": ext,
                                     "called": body.get("to"), "parties": [
                                         {"device": ext, "state": "connected"},
                                         {"device": body.get("to"), "state": "connected"}]})
            self.push({"event": "call", "kind": "created", "call": consult})
            return 200, {"call_id": new_id}
        elif action == "transfer":
            consult = self.calls.pop(body.get("consult_call_id"), None)
            if consult is None:
                return 409, {"error": "no such consultation call", "code": "conflict"}
            del self.calls[call_id]
            self.push({"event": "call", "kind": "ended", "call": consult})
            self.push({"event": "call", "kind": "ended", "call": call})
            return 200, {"call_id": call_id}
        elif action == "dtmf":
            return 200, {}
        else:
            return 409, {"error": f"{action} is not supported here", "code": "conflict"}
        self.push({"event": "call", "kind": "updated", "call": call})
        return 200, {}

    def _customers(self, method: str, parts: list[str], query: dict[str, list[str]],
                   body: Any) -> tuple[int, Any]:
        if len(parts) == 1 and method == "GET":
            phone = (query.get("phone") or [""])[0]
            text = (query.get("q") or [""])[0].lower()
            return 200, [c for c in self.customers.values()
                         if (phone and phone in c["phones"]) or (text and text in c["name"].lower())]
        if len(parts) == 1 and method == "POST":
            new_id = max(self.customers) + 1
            self.customers[new_id] = {**body, "id": new_id}
            return 201, self.customers[new_id]
        try:
            customer_id = int(parts[1])
        except ValueError:
            return 404, {"error": "no such customer", "code": "not_found"}
        if customer_id not in self.customers:
            return 404, {"error": f"no customer {customer_id}", "code": "not_found"}
        if len(parts) == 2 and method == "GET":
            return 200, self.customers[customer_id]
        if len(parts) == 2 and method == "PUT":
            if not (body or {}).get("name"):
                return 400, {"error": "field 'name' must not be empty", "code": "bad_request"}
            self.customers[customer_id] = {**body, "id": customer_id}
            return 200, self.customers[customer_id]
        if parts[2] == "interactions":
            return 200, self.interactions.get(customer_id, [])
        if parts[2] == "tickets" and method == "GET":
            return 200, self.tickets.get(customer_id, [])
        if parts[2] == "tickets" and method == "POST":
            ticket = {"id": 40, "status": "open", **body}
            self.tickets.setdefault(customer_id, []).insert(0, ticket)
            return 201, ticket
        return 404, {"error": "no such resource", "code": "not_found"}


@pytest_twisted.async_yield_fixture
async def recorded_api() -> AsyncIterator[tuple[RecordedApi, str]]:
    """The boundary fixture on 127.0.0.1:0: (api, base URL)."""
    from twisted.internet import reactor  # only now: the suite installs its reactor first

    api = RecordedApi()
    site = Site(api)
    site.log = lambda request: None
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield api, f"http://127.0.0.1:{port.getHost().port}"
    api.drop_streams()
    await port.stopListening()


async def _poll(predicate: Any, timeout: float = 5.0) -> None:
    from twisted.internet import reactor, task

    deadline = reactor.seconds() + timeout
    while not predicate():
        if reactor.seconds() > deadline:
            raise AssertionError("condition not reached in time")
        await task.deferLater(reactor, 0.01, lambda: None)


@pytest.fixture
def wait_until() -> Any:
    """await wait_until(predicate[, timeout]): poll the shared reactor, bounded."""
    return _poll


@pytest.fixture(autouse=True)
def keep_qt_loop_alive() -> None:
    """Closing the last window must not quit the Qt loop: it is the suite's reactor loop."""
    from PyQt5.QtWidgets import QApplication

    app = QApplication.instance()
    if app is not None:
        app.setQuitOnLastWindowClosed(False)


@pytest.fixture
def live_server(tmp_path: Any) -> Iterator[tuple[Any, Any]]:
    """The REAL server (cti.server.testing, seeded demo tenant "acme": agents 1001-1003 at
    those extensions, supervisor "sup", password testing.PASSWORD, customer Ada Lovelace at
    +49301234567) linked over loopback TCP to the CSTA switch simulator: (running, switch)."""
    from twisted.internet import reactor

    from cti.server import testing
    from cti.server.config import LinkConfig
    from simulators.csta.server import CSTAServerFactory
    from simulators.pbx import Switch

    extensions = ("1001", "1002", "1003")
    switch = Switch(reactor, external_answer_seconds=None)
    switch.add_extensions(extensions)
    switch.add_queue("1900")
    factory = CSTAServerFactory(switch, keepalive=0)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    link = LinkConfig(name="pbx1", url=f"csta://127.0.0.1:{port.getHost().port}",
                      devices=(*extensions, "1900"), tenant="acme",
                      options={"keepalive": 0, "snapshot_on_connect": False})
    running = pytest_twisted.blockon(testing.start_server(tmp_path, links=[link]))
    pytest_twisted.blockon(running.server.links.links["pbx1"].driver.ready())
    yield running, switch
    pytest_twisted.blockon(running.stop())
    switch.close()
    factory.close()
    pytest_twisted.blockon(port.stopListening())
