"""Sessions, roles and errors against a real server on 127.0.0.1:0 with a SQLite database."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.web.client import readBody
from twisted.web.http_headers import Headers

from cti.server import testing


@pytest.fixture
def running(tmp_path):
    running = pytest_twisted.blockon(testing.start_server(tmp_path))
    client = testing.ApiClient(running.url)
    yield running, client
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


def _sleep(seconds):
    return task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.inlineCallbacks
def test_login_returns_a_session_with_token_role_and_tenant(running):
    _, client = running
    status, body = yield client.post("/api/v1/sessions",
                                     {"user": "sup", "password": testing.PASSWORD})
    assert status == 201
    assert body["role"] == "supervisor"
    assert body["tenant"] == "acme"
    assert len(body["token"]) >= 40
    assert body["expires"].endswith("Z")
    status, again = yield client.get("/api/v1/sessions/current", body["token"])
    assert status == 200 and again["user"] == "sup"


@pytest_twisted.inlineCallbacks
def test_wrong_password_is_401_after_a_delay(running):
    server, client = running
    started = time.monotonic()
    status, body = yield client.post("/api/v1/sessions", {"user": "sup", "password": "nope"})
    elapsed = time.monotonic() - started
    assert status == 401
    assert body["code"] == "unauthorized"
    assert "\n" not in body["error"]
    assert elapsed >= server.server.config.login_failure_delay


@pytest_twisted.inlineCallbacks
def test_the_delay_does_not_block_other_requests(running):
    _, client = running
    token = (yield client.login("sup"))["token"]
    finished = []
    slow = client.post("/api/v1/sessions", {"user": "sup", "password": "nope"})
    slow.addCallback(lambda result: finished.append("failed login") or result)
    yield _sleep(0.05)
    status, _ = yield client.get("/api/v1/reasons", token)
    finished.append("other request")
    assert status == 200
    status, _ = yield slow
    assert status == 401
    assert finished == ["other request", "failed login"]


@pytest_twisted.inlineCallbacks
def test_no_token_bad_token_and_logged_out_token_are_401(running):
    _, client = running
    status, body = yield client.get("/api/v1/calls")
    assert (status, body["code"]) == (401, "unauthorized")
    status, _ = yield client.get("/api/v1/calls", "not-a-token")
    assert status == 401
    token = (yield client.login("sup"))["token"]
    status, _ = yield client.request("DELETE", "/api/v1/sessions/current", token)
    assert status == 204
    status, _ = yield client.get("/api/v1/calls", token)
    assert status == 401


@pytest_twisted.inlineCallbacks
def test_expired_token_is_401(running):
    server, client = running
    token = (yield client.login("sup"))["token"]
    server.server.sessions.lifetime = 0.05
    short = (yield client.login("sup"))["token"]
    yield _sleep(0.1)
    status, body = yield client.get("/api/v1/calls", short)
    assert status == 401 and "expired" in body["error"]
    status, _ = yield client.get("/api/v1/calls", token)
    assert status == 200


@pytest_twisted.inlineCallbacks
def test_agent_may_not_do_supervisor_things(running):
    _, client = running
    token = (yield client.login("1001"))["token"]
    status, body = yield client.post("/api/v1/agents/1002/state", {"state": "ready"}, token)
    assert (status, body["code"]) == (403, "forbidden")
    status, body = yield client.post("/api/v1/calls/1/monitor", {"mode": "listen"}, token)
    assert status == 403


@pytest_twisted.inlineCallbacks
def test_malformed_json_is_400_with_one_line(running):
    _, client = running
    token = (yield client.login("sup"))["token"]
    status, body = yield client.request("POST", "/api/v1/customers", token, raw=b'{"name": ')
    assert status == 400
    assert body["code"] == "bad_request"
    assert body["error"].startswith("malformed JSON")
    assert "\n" not in body["error"]
    status, body = yield client.request("POST", "/api/v1/sessions", raw=b"[1, 2")
    assert status == 400


@pytest_twisted.inlineCallbacks
def test_missing_and_wrong_fields_are_400_naming_the_field(running):
    _, client = running
    status, body = yield client.post("/api/v1/sessions", {"user": "sup"})
    assert status == 400 and "password" in body["error"]
    token = (yield client.login("sup"))["token"]
    status, body = yield client.post("/api/v1/customers", {"name": 5}, token)
    assert status == 400 and "'name'" in body["error"]


@pytest_twisted.inlineCallbacks
def test_unknown_path_is_404_and_wrong_method_405(running):
    _, client = running
    status, body = yield client.get("/api/v1/nothing")
    assert (status, body["code"]) == (404, "not_found")
    status, body = yield client.request("PUT", "/api/v1/sessions")
    assert status == 405


@pytest_twisted.inlineCallbacks
def test_another_tenants_customer_is_404(running):
    server, client = running
    seeded = yield server.server.database.run(testing.demo_tenant, "globex", ("2001",))
    globex_ada = seeded["ada"]
    acme = (yield client.login("sup", tenant="acme"))["token"]
    globex = (yield client.login("sup", tenant="globex"))["token"]
    status, body = yield client.get(f"/api/v1/customers/{globex_ada}", acme)
    assert (status, body["code"]) == (404, "not_found")
    status, body = yield client.get(f"/api/v1/customers/{globex_ada}", globex)
    assert status == 200 and body["name"] == "Ada Lovelace"
    status, body = yield client.get("/api/v1/customers?phone=030%201234567", acme)
    assert status == 200
    assert len(body) == 1 and body[0]["id"] != globex_ada


@pytest_twisted.inlineCallbacks
def test_same_login_in_two_tenants_needs_the_tenant(running):
    server, client = running
    yield server.server.database.run(testing.demo_tenant, "globex", ("2001",))
    status, body = yield client.post("/api/v1/sessions",
                                     {"user": "sup", "password": testing.PASSWORD})
    assert status == 401 and "several tenants" in body["error"]


@pytest_twisted.inlineCallbacks
def test_browser_origins_get_cors_headers_only_when_configured(tmp_path):
    running = yield testing.start_server(tmp_path, seed=False,
                                         cors_origins=("https://wall.example",))
    client = testing.ApiClient(running.url)
    try:
        url = (running.url + "/api/v1/calls").encode()
        allowed = yield client.agent.request(
            b"OPTIONS", url, Headers({b"origin": [b"https://wall.example"],
                                      b"access-control-request-method": [b"GET"]}))
        assert allowed.code == 204
        assert allowed.headers.getRawHeaders(b"access-control-allow-origin") == \
            [b"https://wall.example"]
        other = yield client.agent.request(b"GET", url,
                                           Headers({b"origin": [b"https://evil.example"]}))
        assert other.code == 401
        assert not other.headers.hasHeader(b"access-control-allow-origin")
        for response in (allowed, other):
            yield readBody(response)
    finally:
        yield client.close()
        yield running.stop()
