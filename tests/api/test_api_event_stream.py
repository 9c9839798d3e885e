"""The WebSocket event stream: who sees which event, hello on connect, ping/pong, auth."""

from __future__ import annotations

import time

import pytest
import pytest_twisted
from twisted.web.websocket import ConnectionRejected

from cti import events as ev
from cti.api.auth import Session
from cti.api.stream import Audience, visible
from cti.server import testing
from cti.server.config import LinkConfig
from cti.server.testing import EventStreamClient

NOWHERE = "csta://127.0.0.1:1"


def _session(role, tenant="acme", agent_id=None, extension=None):
    return Session("t", "u", role, tenant, time.time() + 60, agent_id, extension)


def test_visibility_rules():
    about_1001 = Audience("acme", frozenset({"1001", "+4930123"}))
    assert visible(_session("agent", agent_id="1001", extension="1001"), about_1001)
    assert not visible(_session("agent", agent_id="1002", extension="1002"), about_1001)
    assert visible(_session("supervisor"), about_1001)
    assert not visible(_session("supervisor", tenant="globex"), about_1001)
    pop = Audience("acme", frozenset({"1001"}), frozenset({"1001"}), personal=True)
    assert visible(_session("agent", agent_id="1001", extension="1001"), pop)
    assert not visible(_session("supervisor"), pop)
    links = Audience("acme", supervisors_only=True)
    assert not visible(_session("agent", agent_id="1001", extension="1001"), links)
    assert visible(_session("administrator"), links)
    platform = Audience(None)
    assert visible(_session("administrator", tenant="x"), platform)
    assert not visible(_session("supervisor"), platform)


@pytest.fixture
def two_tenants(tmp_path):
    links = [
        LinkConfig("pbx1", NOWHERE, ("1001", "1002", "1003"), tenant="acme", retry_seconds=60),
        LinkConfig("pbx2", NOWHERE, ("2001",), tenant="globex", retry_seconds=60),
    ]
    running = pytest_twisted.blockon(testing.start_server(tmp_path, links=links))
    pytest_twisted.blockon(running.server.database.run(testing.demo_tenant, "globex", ("2001",)))
    client = testing.ApiClient(running.url)
    streams = []
    yield running, client, streams
    for stream in streams:
        pytest_twisted.blockon(stream.close())
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest_twisted.inlineCallbacks
def _open(running, client, streams, user, **login):
    session = yield client.login(user, **login)
    stream = yield EventStreamClient.connect(running.url, session["token"])
    streams.append(stream)
    hello = yield stream.next_event("hello")
    assert hello["session"]["token"] == session["token"]
    return stream


@pytest_twisted.inlineCallbacks
def _quiet(stream, *names):
    """Round-trip a ping: anything published before it has arrived by the pong."""
    stream.send({"action": "ping"})
    yield stream.next_event("pong")
    return [m for m in stream.messages if m["event"] in names]


@pytest_twisted.inlineCallbacks
def test_events_reach_the_agent_at_the_device_and_the_tenants_supervisors_only(two_tenants):
    running, client, streams = two_tenants
    agent = yield _open(running, client, streams, "1001", tenant="acme", extension="1001")
    neighbour = yield _open(running, client, streams, "1002", tenant="acme", extension="1002")
    sup = yield _open(running, client, streams, "sup", tenant="acme")
    other_sup = yield _open(running, client, streams, "sup", tenant="globex")
    services = running.server.services
    now = time.time()

    services.on_event("pbx1", ev.Event(ev.DELIVERED, now, call_id="7", device="1001",
                                       calling="+49301234567", called="1001", monitor="1001"))
    delivered = yield agent.next_event("delivered")
    assert delivered["call_id"] == "7" and delivered["link"] == "pbx1"
    pop = yield agent.next_event("screen_pop")
    assert pop["customer"]["name"] == "Ada Lovelace"
    call = yield agent.next_event("call", kind="created")
    assert call["call"]["call_id"] == "7"
    yield sup.next_event("delivered")
    assert (yield _quiet(neighbour, "delivered", "screen_pop", "call")) == []
    assert (yield _quiet(other_sup, "delivered", "screen_pop", "call")) == []
    assert (yield _quiet(sup, "screen_pop")) == []

    services.on_event("pbx1", ev.Event(ev.CALL_CLEARED, now + 1, call_id="7", monitor="1001"))
    cleared = yield agent.next_event("call_cleared")
    assert cleared["device"] is None
    ended = yield agent.next_event("call", kind="ended")
    assert ended["call"]["call_id"] == "7"

    services.on_event("pbx2", ev.Event(ev.DELIVERED, now, call_id="7", device="2001",
                                       calling="+49301234567", called="2001", monitor="2001"))
    theirs = yield other_sup.next_event("delivered")
    assert theirs["device"] == "2001"
    assert [m for m in (yield _quiet(sup, "delivered")) if m["device"] == "2001"] == []


@pytest_twisted.inlineCallbacks
def test_agent_state_changes_are_streamed(two_tenants):
    running, client, streams = two_tenants
    session = yield client.login("1001", tenant="acme", extension="1001")
    stream = yield EventStreamClient.connect(running.url, session["token"])
    streams.append(stream)
    hello = yield stream.next_event("hello")
    assert hello["agent"]["status"] == "not_ready" and hello["agent"]["reason"] == "login"
    status, body = yield client.post("/api/v1/agents/me/state", {"state": "ready"},
                                     session["token"])
    assert status == 200 and body["status"] == "ready"
    change = yield stream.next_event("agent_state")
    assert change["agent_id"] == "1001" and change["status"] == "ready"
    status, body = yield client.post("/api/v1/agents/me/state",
                                     {"state": "not_ready", "reason": "nap"}, session["token"])
    assert status == 400
    status, body = yield client.post("/api/v1/agents/me/state", {"state": "wrap_up_done"},
                                     session["token"])
    assert (status, body["code"]) == (409, "conflict")


@pytest_twisted.inlineCallbacks
def test_stream_without_a_valid_token_is_refused(two_tenants):
    running, _, _ = two_tenants
    with pytest.raises(ConnectionRejected) as caught:
        yield EventStreamClient.connect(running.url, "bogus")
    assert caught.value.response.code == 401


@pytest_twisted.inlineCallbacks
def test_unknown_actions_get_an_error_frame(two_tenants):
    running, client, streams = two_tenants
    stream = yield _open(running, client, streams, "sup", tenant="acme")
    stream.send({"action": "dance"})
    error = yield stream.next_event("error")
    assert error["code"] == "bad_request"
    stream.transport.sendTextMessage("{not json")
    error = yield stream.next_event("error")
    assert error["error"] == "malformed JSON"


@pytest_twisted.inlineCallbacks
def test_logout_closes_the_stream(two_tenants):
    running, client, streams = two_tenants
    session = yield client.login("sup", tenant="acme")
    stream = yield EventStreamClient.connect(running.url, session["token"])
    yield stream.next_event("hello")
    yield client.request("DELETE", "/api/v1/sessions/current", session["token"])
    yield stream.closed


@pytest_twisted.inlineCallbacks
def test_commands_on_a_link_that_is_down_are_503(two_tenants):
    running, client, _ = two_tenants
    session = yield client.login("1001", tenant="acme", extension="1001")
    status, body = yield client.post("/api/v1/calls", {"to": "1002"}, session["token"])
    assert (status, body["code"]) == (503, "unavailable")
    assert "pbx1" in body["error"] and "down" in body["error"]
