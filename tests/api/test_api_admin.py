"""Administration through the API: administrators only, audited under their login, mistakes
answered 400 / 404 / 409, and each change applied to the running ACD before the response."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.acd.decisions import Target
from cti.server import testing
from db import audit, tenants


@pytest.fixture
def running(tmp_path):
    running = pytest_twisted.blockon(testing.start_server(tmp_path, acd_reload_seconds=0))
    client = testing.ApiClient(running.url)
    token = pytest_twisted.blockon(client.login("admin"))["token"]
    yield running, client, token
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest_twisted.inlineCallbacks
def test_only_administrators_may_administer(running):
    _, client, _ = running
    for user in ("1001", "sup"):
        token = (yield client.login(user, acd=False))["token"]
        status, body = yield client.get("/api/v1/admin/agents", token)
        assert (status, body["code"]) == (403, "forbidden")


@pytest_twisted.inlineCallbacks
def test_an_agent_is_created_changed_and_deleted(running):
    server, client, token = running
    status, agent = yield client.post("/api/v1/admin/agents", {
        "number": "1004", "password": "pw-1004", "name": "Dora", "extension": "1003",
        "skills": {"sales": 4}}, token)
    assert status == 201
    assert agent == {"number": "1004", "name": "Dora", "role": "agent", "extension": "1003",
                     "wrapup": None, "skills": {"sales": 4}}
    status, agent = yield client.request("PATCH", "/api/v1/admin/agents/1004", token,
                                         {"skills": {"sales": 9, "french": 2}})
    assert (status, agent["skills"]) == (200, {"french": 2, "sales": 9})
    assert (yield client.login("1004", "pw-1004", acd=False))["role"] == "agent"
    status, _ = yield client.request("DELETE", "/api/v1/admin/agents/1004", token)
    assert status == 204
    status, listed = yield client.get("/api/v1/admin/agents", token)
    assert [a["number"] for a in listed] == ["1001", "1002", "1003"]

    def entries(conn):
        return audit.list_audit(conn, tenants.get_tenant(conn, "acme").id, limit=3)

    newest = yield server.services.db.run(entries)
    assert {(e.actor, e.entity) for e in newest} >= {("admin", "agent")}


@pytest_twisted.inlineCallbacks
def test_a_queue_change_reaches_the_running_engine_at_once(running):
    server, client, token = running
    acme = yield server.services.tenant("acme")
    engine = (yield server.services.acd.tenant(acme)).engine
    status, queue = yield client.request("PATCH", "/api/v1/admin/queues/sales", token, {
        "strategy": "round-robin", "max_wait": 90, "penalty_steps": [[20, 1]]})
    assert (status, queue["strategy"], queue["max_wait_seconds"]) == (200, "round-robin", 90)
    config = engine.queues["sales"].config
    assert (config.strategy, config.max_wait, config.penalty_steps) == (
        "round-robin", 90.0, ((20.0, 1),))

    status, _ = yield client.post("/api/v1/admin/queues", {"name": "vip", "strategy": "linear",
                                                           "ring_timeout": 8}, token)
    assert status == 201 and engine.queues["vip"].config.ring_timeout == 8.0
    status, member = yield client.post("/api/v1/admin/queues/vip/members",
                                       {"agent": "1002", "penalty": 2, "position": 1}, token)
    assert (status, member) == (201, {"agent": "1002", "penalty": 2, "weight": 1, "position": 1})
    assert engine.queues["vip"].explicit["1002"].penalty == 2
    status, _ = yield client.request("PATCH", "/api/v1/admin/queues/vip/members/1002", token,
                                     {"penalty": 5})
    assert status == 200 and engine.queues["vip"].explicit["1002"].penalty == 5
    status, _ = yield client.post("/api/v1/admin/numbers", {"number": "1950", "queue": "vip"},
                                  token)
    assert status == 201 and engine.dnis["1950"] == "vip"
    status, _ = yield client.request("DELETE", "/api/v1/admin/queues/vip/members/1002", token)
    assert status == 204 and "1002" not in engine.queues["vip"].explicit
    status, _ = yield client.request("DELETE", "/api/v1/admin/queues/vip", token)
    assert status == 204 and "vip" not in engine.queues and "1950" not in engine.dnis


@pytest_twisted.inlineCallbacks
def test_what_waiting_callers_hear_is_set_live_audited_and_cleared(running):
    server, client, token = running
    acme = yield server.services.tenant("acme")
    engine = (yield server.services.acd.tenant(acme)).engine
    status, queue = yield client.request("PATCH", "/api/v1/admin/queues/sales", token, {
        "music": "jazz.2", "expected_aht": 95.5, "announce_position": True,
        "announce_every": 40, "autopause": False, "empty_means": "no_available"})
    assert status == 200, queue
    assert queue["options"] == {"music": "jazz.2", "expected_aht": 95.5, "announce_every": 40,
                                "autopause": False, "empty_means": "no_available"}
    config = engine.queues["sales"].config
    assert (config.music, config.expected_aht, config.announce_position, config.announce_every,
            config.autopause, config.empty_means) == (
        "jazz.2", 95.5, True, 40.0, False, "no_available")

    def newest(conn):
        return audit.list_audit(conn, acme.id, limit=1)[0]

    entry = yield server.services.db.run(newest)
    assert (entry.actor, entry.entity, entry.changes["options"]["music"]) == (
        "admin", "queue", "jazz.2")
    status, queue = yield client.request("PATCH", "/api/v1/admin/queues/sales", token,
                                         {"music": None})
    assert status == 200 and "music" not in queue["options"]
    assert engine.queues["sales"].config.music is None
    status, queue = yield client.post("/api/v1/admin/queues", {"name": "vip", "music": "harp"},
                                      token)
    assert status == 201 and engine.queues["vip"].config.music == "harp"


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("bodies, options, empty", [
    ([{"empty_target": "voicemail:700"}], {"empty_target": "voicemail:700"},
     Target("voicemail", "700")),
    ([{"empty_target": "voicemail:700"}, {"empty_target": None}], {}, Target("number", "0800")),
])
def test_the_empty_target_is_set_live_and_cleared_back_to_the_overflow(running, bodies,
                                                                       options, empty):
    server, client, token = running
    base = {"join_empty": False, "overflow_number": "0800"}
    for body in bodies:
        status, queue = yield client.request("PATCH", "/api/v1/admin/queues/sales", token,
                                             {**base, **body})
        assert status == 200, queue
    assert queue["options"] == options
    tenant = yield server.services.acd.tenant((yield server.services.tenant("acme")))
    assert tenant.engine.queues["sales"].config.overflow["empty"] == empty


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("body, message", [
    ({"music": "on hold"}, "music: expected a music class name"),
    ({"music": "a;b"}, "music: expected a music class name"),
    ({"music": 5}, "field 'music' must be a string"),
    ({"empty_target": "mailbox:700"}, "empty_target: expected a number or KIND:VALUE"),
    ({"empty_target": ""}, "empty_target: expected a number or KIND:VALUE"),
    ({"empty_target": 700}, "field 'empty_target' must be a string"),
    ({"empty_target": "queue:sales"}, "empty_target: queue 'sales' cannot overflow to itself"),
    ({"expected_aht": 0}, "expected_aht: expected a number of seconds > 0"),
    ({"announce_every": 0}, "announce_every: expected a number of seconds > 0"),
    ({"penalty_steps": [[10]]}, "penalty_steps: expected [[after_seconds, max_penalty], ...]"),
    ({"penalty_steps": [[-5, 1]]}, "penalty_steps: expected"),
    ({"penalty_steps": [[10, 1.5]]}, "field 'penalty_steps'[0][1] must be an integer"),
    ({"empty_means": "nobody"}, "field 'empty_means' must be one of"),
    ({"autopause": "no"}, "field 'autopause' must be a boolean"),
])
def test_a_bad_queue_option_is_one_line_naming_it_and_changes_nothing(running, body, message):
    server, client, token = running

    def newest(conn):
        return audit.latest_id(conn)

    before = yield server.services.db.run(newest)
    status, answer = yield client.request("PATCH", "/api/v1/admin/queues/sales", token, body)
    assert status == 400 and answer["error"].startswith(message), answer
    assert "\n" not in answer["error"]
    assert (yield server.services.db.run(newest)) == before


@pytest_twisted.inlineCallbacks
@pytest.mark.parametrize("method, path, body, expected", [
    ("POST", "/admin/queues", {"name": "sales"}, 409),
    ("POST", "/admin/queues", {"name": "x", "strategy": "ringall"}, 400),
    ("POST", "/admin/queues", {"name": "x", "ring_timeout": -1}, 400),
    ("POST", "/admin/queues", {"name": "x", "colour": "red"}, 400),
    ("PATCH", "/admin/queues/nope", {"strategy": "hunt"}, 404),
    ("POST", "/admin/queues/sales/members", {"agent": "1001"}, 409),
    ("POST", "/admin/queues/sales/members", {"agent": "9999"}, 404),
    ("PATCH", "/admin/queues/sales/members/1001", {"weight": 0}, 400),
    ("PATCH", "/admin/queues/sales/members/1001", {"penalty": "high"}, 400),
    ("DELETE", "/admin/queues/sales/members/9999", None, 404),
    ("POST", "/admin/agents", {"number": "1001", "password": "x"}, 409),
    ("POST", "/admin/agents", {"number": "1009", "password": "x", "skills": {"a": 99}}, 400),
    ("POST", "/admin/numbers", {"number": "1900", "queue": "sales"}, 409),
    ("POST", "/admin/numbers", {"number": "1951"}, 400),
    ("DELETE", "/admin/numbers/1999", None, 404),
    ("POST", "/admin/skills", {"skill": "sales"}, 409),
    ("DELETE", "/admin/skills/nope", None, 404),
])
def test_mistakes_are_answered_and_change_nothing(running, method, path, body, expected):
    server, client, token = running

    def newest(conn):
        return audit.latest_id(conn)

    before = yield server.services.db.run(newest)
    status, answer = yield client.request(method, "/api/v1" + path, token, body)
    assert status == expected, answer
    assert answer["error"]
    assert (yield server.services.db.run(newest)) == before


@pytest_twisted.inlineCallbacks
def test_the_openapi_document_lists_the_administration(running):
    _, client, _ = running
    status, document = yield client.get("/api/v1/openapi.json")
    assert status == 200
    assert {"/api/v1/admin/agents", "/api/v1/admin/queues/{name}/members/{agent}",
            "/api/v1/admin/numbers/{number}"} <= set(document["paths"])
