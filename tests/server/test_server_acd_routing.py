"""The live ACD on both paths into a queue: a call to a pilot number the switch offers to the
server (RouteRequest, answered by RouteSelect to the chosen agent), and a call waiting at a
queue device (deflected to the chosen agent). An unanswered agent is passed over and the call
rings the next (ring-no-answer); administration changes apply to the running engine without a
restart. Every assertion about where a call rings reads the simulated switch's own state."""

from __future__ import annotations

from dataclasses import replace

import pytest
import pytest_twisted
from twisted.internet import defer

from cti.commands.admin import main as admin
from cti.server import testing
from db import agents as db_agents
from db import queues as db_queues

PILOT = "5000"
QUEUE_DEVICE = "1900"
"""The seeded number of queue `sales` and a queue device of the switch: the deflect path."""
ENTRIES = pytest.mark.parametrize("entry", [PILOT, QUEUE_DEVICE], ids=["pilot", "queue-device"])


@pytest.fixture
def pilot_pbx():
    pbx = testing.SimulatedPbx(route_timeout=30.0)
    pbx.switch.add_pilot(PILOT, list(pbx.extensions), "hunt")
    yield pbx
    pytest_twisted.blockon(pbx.close())


@pytest.fixture
def routed(tmp_path, pilot_pbx):
    """(running server, API client, pbx, database URL): the link registers the pilot, which
    leads to queue `sales` (linear: 1001, 1002, 1003 by position, ring timeout 1 s)."""
    link = replace(pilot_pbx.link(), route_devices=(PILOT,))
    running = pytest_twisted.blockon(testing.start_server(
        tmp_path, links=[link], acd_reload_seconds=0.2))
    client = testing.ApiClient(running.url)

    def prepare(conn, tenant):
        db_queues.update_queue(conn, tenant, "sales", strategy="linear", ring_timeout_seconds=1)
        for position, number in enumerate(("1001", "1002", "1003"), start=1):
            agent = db_agents.get_agent_by_number(conn, tenant, number)
            db_queues.update_queue_member(conn, tenant, "sales", agent.id, position=position)
        db_queues.create_number(conn, tenant, PILOT, queue="sales")

    def work(conn):
        from db.tenants import get_tenant
        prepare(conn, get_tenant(conn, "acme"))

    pytest_twisted.blockon(running.services.db.run(work))
    pytest_twisted.blockon(running.services.acd.reload("acme"))
    pytest_twisted.blockon(running.links_ready())
    pytest_twisted.blockon(testing.wait_for(
        lambda: any(d == PILOT for d in pilot_pbx.switch.registrations.values())))
    yield running, client, pilot_pbx, running.server.config.database_url
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@defer.inlineCallbacks
def ready(client, *numbers):
    for number in numbers:
        token = (yield client.login(number, extension=number))["token"]
        status, _ = yield client.post("/api/v1/agents/me/state", {"state": "ready"}, token)
        assert status == 200


def alerting(pbx, call_id):
    call = pbx.switch.calls.get(call_id)
    if call is None:
        return set()
    return {d for d, c in call.connections.items() if c.state == "alerting" and not c.external}


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_a_queued_call_rings_the_agent_the_acd_chose(routed, entry):
    running, client, pbx, _ = routed
    yield ready(client, "1003", "1002")
    call_id = pbx.switch.inbound_call("+4930111222", entry)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1002"})
    pbx.switch.answer_call(call_id, "1002")
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(
        lambda: acd.engine.agents["1002"].state == "in_call")
    assert pbx.switch.calls[call_id].connections["1002"].state == "connected"
    assert entry not in pbx.switch.calls[call_id].connections


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_an_unanswered_agent_is_passed_over_and_the_call_rings_the_next(routed, entry):
    running, client, pbx, _ = routed
    yield ready(client, "1001", "1002")
    call_id = pbx.switch.inbound_call("+4930111222", entry)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1002"}, timeout=5)
    assert "1001" not in pbx.switch.calls[call_id].connections
    acd = running.services.acd.tenants["acme"]
    assert acd.engine.agents["1001"].status == "not_ready"
    pbx.switch.answer_call(call_id, "1002")
    yield testing.wait_for(
        lambda: acd.engine.agents["1002"].state == "in_call")


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_a_strategy_changed_by_cti_admin_decides_the_next_call(routed, entry):
    running, client, pbx, url = routed
    yield ready(client, "1002", "1001")
    first = pbx.switch.inbound_call("+4930111222", entry)
    yield testing.wait_for(lambda: alerting(pbx, first) == {"1001"})
    pbx.switch.answer_call(first, "1001")
    pbx.switch.clear_call(first)
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(
        lambda: acd.engine.agents["1001"].state == "idle")

    assert admin(["queue", "set", "sales", "--strategy", "longest-idle", "--tenant", "acme",
                  "--database", url, "--actor", "test"]) == 0
    yield testing.wait_for(
        lambda: acd.engine.queues["sales"].config.strategy == "longest-idle")
    second = pbx.switch.inbound_call("+4930333444", entry)
    yield testing.wait_for(lambda: alerting(pbx, second) == {"1002"})


@pytest_twisted.inlineCallbacks
def test_a_member_added_through_the_api_takes_the_caller_already_waiting(routed):
    running, client, pbx, _ = routed
    admin_token = (yield client.login("admin"))["token"]
    status, _ = yield client.request("POST", "/api/v1/admin/queues", admin_token,
                                     {"name": "support", "strategy": "hunt"})
    assert status == 201
    status, _ = yield client.request("DELETE", f"/api/v1/admin/numbers/{PILOT}", admin_token)
    assert status == 204
    status, _ = yield client.request("POST", "/api/v1/admin/numbers", admin_token,
                                     {"number": PILOT, "queue": "support"})
    assert status == 201
    yield ready(client, "1003")
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: call_id in acd.engine.calls)
    assert alerting(pbx, call_id) == set()

    status, member = yield client.request("POST", "/api/v1/admin/queues/support/members",
                                          admin_token, {"agent": "1003", "penalty": 0})
    assert (status, member["agent"]) == (201, "1003")
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1003"})


@pytest_twisted.inlineCallbacks
def test_a_caller_hanging_up_at_the_pilot_leaves_the_queue(routed):
    running, client, pbx, _ = routed
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    yield testing.wait_for(lambda: "acme" in running.services.acd.tenants)
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: call_id in acd.engine.calls)
    pbx.switch.clear_call(call_id)
    yield testing.wait_for(lambda: call_id not in acd.engine.calls)
    assert acd.engine.stats.queue("sales").as_dict()["abandoned"] == 1


@pytest_twisted.inlineCallbacks
def test_a_caller_waiting_too_long_overflows_to_the_number_of_the_queue(routed):
    running, client, pbx, _ = routed
    admin_token = (yield client.login("admin"))["token"]
    status, _ = yield client.request("PATCH", "/api/v1/admin/queues/sales", admin_token,
                                     {"max_wait": 1, "overflow_number": "1003"})
    assert status == 200
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1003"}, timeout=5)
    assert PILOT not in pbx.switch.calls[call_id].connections


@pytest_twisted.inlineCallbacks
def test_a_queue_deleted_under_a_waiting_caller_hands_the_call_back_to_the_switch(routed):
    running, client, pbx, url = routed
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    yield testing.wait_for(lambda: "acme" in running.services.acd.tenants)
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: call_id in acd.engine.calls)
    assert admin(["queue", "delete", "sales", "--tenant", "acme", "--database", url]) == 0
    yield testing.wait_for(lambda: call_id not in acd.engine.calls)
    # RouteEnd: the pilot's own hunt distribution takes the call (all its members are free).
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
    assert not acd.routes


@pytest_twisted.inlineCallbacks
def test_a_pilot_leading_to_no_queue_is_left_to_the_switch(routed):
    running, client, pbx, url = routed
    assert admin(["number", "delete", PILOT, "--tenant", "acme", "--database", url]) == 0
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: PILOT not in acd.engine.dnis)
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
    assert call_id not in acd.engine.calls and not acd.routes


@ENTRIES
@pytest_twisted.inlineCallbacks
def test_an_unanswered_call_waits_again_until_an_agent_is_free(routed, entry):
    running, client, pbx, _ = routed
    yield ready(client, "1001")
    call_id = pbx.switch.inbound_call("+4930111222", entry)
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
    yield testing.wait_for(lambda: entry in pbx.switch.calls[call_id].connections
                           and not alerting(pbx, call_id), timeout=5)
    acd = running.services.acd.tenants["acme"]
    assert acd.engine.calls[call_id].state == "waiting"
    yield ready(client, "1002")
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1002"})


@pytest_twisted.inlineCallbacks
def test_a_skill_given_by_cti_admin_lets_a_logged_on_agent_take_the_waiting_caller(routed):
    running, client, pbx, url = routed

    def cti_admin(*args):
        assert admin([*args, "--tenant", "acme", "--database", url]) == 0

    cti_admin("queue", "add", "french", "--skill", "french=2")
    cti_admin("number", "delete", PILOT)
    cti_admin("number", "add", PILOT, "--queue", "french")
    yield ready(client, "1002")
    acd = running.services.acd.tenants["acme"]
    yield testing.wait_for(lambda: "french" in acd.engine.queues)
    call_id = pbx.switch.inbound_call("+4930111222", PILOT)
    yield testing.wait_for(lambda: call_id in acd.engine.calls)
    assert alerting(pbx, call_id) == set()
    cti_admin("agent", "set", "1002", "--skill", "french=3", "--skill", "sales=6")
    yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1002"})
