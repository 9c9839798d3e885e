"""End to end: CSTA simulator -> TCP -> CSTA driver -> call model -> API and event stream.

Callers ring real (simulated) extensions; agents act through the REST API; the assertions read
what a desktop would read: the calls list, the event stream and the screen-pop.
"""

from __future__ import annotations

import pytest_twisted
from twisted.internet import reactor, task

from cti.server import testing
from cti.server.testing import EventStreamClient, wait_for

CALLER = "+49301234567"


@pytest_twisted.inlineCallbacks
def test_delivered_call_pops_the_customer_on_the_agents_screen_only(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    other = yield client.login("1002", extension="1002")
    sup = yield client.login("sup")
    streams = []
    try:
        for session in (agent, other, sup):
            stream = yield EventStreamClient.connect(running.url, session["token"])
            streams.append(stream)
            hello = yield stream.next_event("hello")
            assert hello["session"]["user"] == session["user"]
        mine, theirs, watching = streams

        call_id = pbx.switch.inbound_call(CALLER, "1001")

        delivered = yield mine.next_event("delivered", device="1001")
        assert delivered["call_id"] == call_id
        pop = yield mine.next_event("screen_pop")
        assert pop["call_id"] == call_id
        assert pop["agent"] == "1001" and pop["device"] == "1001"
        assert pop["customer"]["name"] == "Ada Lovelace"
        assert pop["customer"]["vip"] is True
        assert [t["subject"] for t in pop["tickets"]] == ["Difference engine"]
        assert [i["notes"] for i in pop["interactions"]] == ["asked for a quote"]
        assert pop["data"] == {} and pop["notes"] == []

        yield watching.next_event("delivered", device="1001")
        status, calls = yield client.get("/api/v1/calls", agent["token"])
        assert status == 200
        assert len(calls) == 1
        call = calls[0]
        assert call["call_id"] == call_id
        assert call["state"] == "alerting"
        assert {"device": "1001", "state": "alerting"} in call["parties"]
        assert call["calling"] == CALLER and call["called"] == "1001"
        assert call["data"] == {}
        assert call["customer_id"] == pop["customer"]["id"]

        status, none = yield client.get("/api/v1/calls", other["token"])
        assert (status, none) == (200, [])
        status, body = yield client.get(f"/api/v1/calls/{call_id}", other["token"])
        assert status == 404
        assert not [m for m in theirs.messages if m["event"] in ("delivered", "screen_pop")]
        assert not [m for m in watching.messages if m["event"] == "screen_pop"]

        status, body = yield client.post(f"/api/v1/calls/{call_id}/answer", {}, agent["token"])
        assert (status, body) == (200, {})
        yield mine.next_event("established", device="1001")
        status, call = yield client.get(f"/api/v1/calls/{call_id}", agent["token"])
        assert call["state"] == "connected"
        status, me = yield client.get("/api/v1/agents/me", agent["token"])
        assert me["state"] == "in_call"
    finally:
        for stream in streams:
            yield stream.close()


@pytest_twisted.inlineCallbacks
def test_data_and_notes_travel_with_the_call_to_the_next_agent(linked):
    running, client, pbx = linked
    first = yield client.login("1001", extension="1001")
    second = yield client.login("1002", extension="1002")
    one = yield EventStreamClient.connect(running.url, first["token"])
    two = yield EventStreamClient.connect(running.url, second["token"])
    try:
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        yield one.next_event("screen_pop", call_id=call_id)
        yield client.post(f"/api/v1/calls/{call_id}/answer", {}, first["token"])
        yield one.next_event("established", device="1001")
        status, _ = yield client.request("PATCH", f"/api/v1/calls/{call_id}/data",
                                         first["token"], {"order": "A-17"})
        assert status == 200
        status, call = yield client.post(f"/api/v1/calls/{call_id}/notes",
                                         {"text": "wants express delivery"}, first["token"])
        assert status == 201 and call["notes"][0]["text"] == "wants express delivery"

        status, body = yield client.post(f"/api/v1/calls/{call_id}/consult", {"to": "1002"},
                                         first["token"])
        assert status == 200
        consult_id = body["call_id"]
        consult_pop = yield two.next_event("screen_pop", call_id=consult_id)
        assert consult_pop["customer"]["name"] == "Ada Lovelace"
        assert consult_pop["consulting_call_id"] == call_id
        yield client.post(f"/api/v1/calls/{consult_id}/answer", {}, second["token"])
        yield two.next_event("established", device="1002")

        status, body = yield client.post(f"/api/v1/calls/{call_id}/transfer",
                                         {"consult_call_id": consult_id}, first["token"])
        assert status == 200, body
        pop = yield two.next_event("screen_pop", agent="1002", call_id=body["call_id"])
        assert pop["customer"]["name"] == "Ada Lovelace"
        assert pop["data"]["order"] == "A-17"
        assert [n["text"] for n in pop["notes"]] == ["wants express delivery"]

        status, calls = yield client.get("/api/v1/calls", second["token"])
        assert [c["calling"] for c in calls] == [CALLER]
        assert calls[0]["data"]["order"] == "A-17"
        status, old = yield client.get(f"/api/v1/calls/{call_id}", second["token"])
        assert status == 200 and old["call_id"] == calls[0]["call_id"]
        status, mine = yield client.get("/api/v1/calls", first["token"])
        assert mine == []
    finally:
        yield one.close()
        yield two.close()


@pytest_twisted.inlineCallbacks
def test_a_vanished_desktop_leaves_the_call_up_and_the_agent_not_ready(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    yield client.post("/api/v1/agents/me/state", {"state": "ready"}, agent["token"])
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    call_id = pbx.switch.inbound_call(CALLER, "1001")
    yield stream.next_event("screen_pop", call_id=call_id)
    yield client.post(f"/api/v1/calls/{call_id}/answer", {}, agent["token"])
    yield stream.next_event("established")
    yield stream.close()

    board = running.server.agents
    yield wait_for(lambda: board.get("acme", "1001").reason == "disconnected", timeout=3)
    view = board.get("acme", "1001")
    assert view.status == "not_ready"
    status, call = yield client.get(f"/api/v1/calls/{call_id}", agent["token"])
    assert status == 200 and call["state"] == "connected"

    back = yield EventStreamClient.connect(running.url, agent["token"])
    hello = yield back.next_event("hello")
    assert [c["call_id"] for c in hello["calls"]] == [call_id]
    assert hello["agent"]["reason"] == "disconnected"
    yield back.close()


@pytest_twisted.inlineCallbacks
def test_reconnecting_within_the_grace_period_keeps_the_agent_ready(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    yield client.post("/api/v1/agents/me/state", {"state": "ready"}, agent["token"])
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    yield stream.close()
    again = yield EventStreamClient.connect(running.url, agent["token"])
    yield again.next_event("hello")
    yield task.deferLater(reactor, 0.5, lambda: None)
    assert running.server.agents.get("acme", "1001").status == "ready"
    yield again.close()


@pytest_twisted.inlineCallbacks
def test_make_call_from_the_agents_extension(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    status, body = yield client.post("/api/v1/calls", {"to": "1003"}, agent["token"])
    assert status == 201
    yield wait_for(lambda: running.server.calls.live(body["call_id"]) is not None)
    status, calls = yield client.get("/api/v1/calls", agent["token"])
    assert [c["call_id"] for c in calls] == [body["call_id"]]
    status, err = yield client.post("/api/v1/calls", {"to": "1003", "from": "1002"},
                                    agent["token"])
    assert (status, err["code"]) == (403, "forbidden")
    status, err = yield client.post(f"/api/v1/calls/{body['call_id']}/answer", {},
                                    agent["token"])
    assert status in (409, 502)


@pytest_twisted.inlineCallbacks
def test_the_acd_hands_a_queued_caller_to_the_ready_agent(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    sup = yield client.login("sup")
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    watch = yield EventStreamClient.connect(running.url, sup["token"])
    try:
        yield client.post("/api/v1/agents/me/state", {"state": "ready"}, agent["token"])
        yield stream.next_event("agent_state", status="ready")

        call_id = pbx.switch.inbound_call(CALLER, "1900")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        assert pop["customer"]["name"] == "Ada Lovelace"
        ringing = yield stream.next_event("agent_state", state="ringing")
        assert ringing["agent_id"] == "1001"
        stats = yield watch.next_event("queue_stats", queue="sales")
        assert stats["stats"]["offered"] >= 1
        own = yield stream.next_event("queue_stats", queue="sales")
        assert "callers" not in own

        yield client.post(f"/api/v1/calls/{call_id}/answer", {}, agent["token"])
        yield stream.next_event("agent_state", state="in_call")
        status, queues = yield client.get("/api/v1/queues", sup["token"])
        (sales,) = [q for q in queues if q["queue"] == "sales"]
        assert sales["stats"]["answered"] == 1
        assert sales["waiting"] == 0 and sales["callers"] == []
        status, mine = yield client.get("/api/v1/queues", agent["token"])
        assert [q["queue"] for q in mine] == ["sales"] and "callers" not in mine[0]
    finally:
        yield stream.close()
        yield watch.close()


@pytest_twisted.inlineCallbacks
def test_a_caller_waits_in_queue_while_nobody_is_ready(linked):
    running, client, pbx = linked
    sup = yield client.login("sup")
    agent = yield client.login("1002", extension="1002")
    call_id = pbx.switch.inbound_call(CALLER, "1900")
    yield wait_for(lambda: running.server.services.acd.queue_views("acme")
                   .get("sales", {}).get("waiting") == 1)
    status, queues = yield client.get("/api/v1/queues", sup["token"])
    (sales,) = queues
    assert sales["waiting"] == 1
    assert sales["callers"][0]["call_id"] == call_id
    assert sales["callers"][0]["calling"] == CALLER and sales["callers"][0]["position"] == 1
    yield client.post("/api/v1/agents/me/state", {"state": "ready"}, agent["token"])
    yield wait_for(lambda: "1002" in pbx.switch.call(call_id).connections)


@pytest_twisted.inlineCallbacks
def test_supervisor_listens_in_and_changes_an_agents_state(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    sup = yield client.login("sup", extension="1003")
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    try:
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        yield stream.next_event("screen_pop", call_id=call_id)
        yield client.post(f"/api/v1/calls/{call_id}/answer", {}, agent["token"])
        yield stream.next_event("established", device="1001")

        status, body = yield client.post(f"/api/v1/calls/{call_id}/monitor", {"mode": "listen"},
                                         sup["token"])
        assert status == 200, body
        yield wait_for(lambda: "1003" in pbx.switch.call(call_id).connections)
        status, call = yield client.get(f"/api/v1/calls/{call_id}", sup["token"])
        assert "1003" in [p["device"] for p in call["parties"]]
        stream.send({"action": "ping"})
        yield stream.next_event("pong")
        assert len([m for m in stream.messages if m["event"] == "screen_pop"]) == 1

        status, view = yield client.post("/api/v1/agents/1001/state",
                                         {"state": "not_ready", "reason": "meeting"}, sup["token"])
        assert (status, view["status"], view["reason"]) == (200, "not_ready", "meeting")
        change = yield stream.next_event("agent_state", reason="meeting")
        assert change["agent_id"] == "1001"
        status, agents = yield client.get("/api/v1/agents", sup["token"])
        by_id = {a["agent_id"]: a for a in agents}
        assert set(by_id) == {"1001", "1002", "1003"}
        assert by_id["1001"]["state"] == "in_call" and by_id["1002"]["status"] == "logged_out"
        status, agents = yield client.get("/api/v1/agents", agent["token"])
        assert [a["agent_id"] for a in agents] == ["1001"]

        from db import calls as db_calls

        def rows(conn):
            acd = running.server.services.acd.tenants["acme"]
            return db_calls.agent_states(conn, acd.record)

        for _ in range(50):
            history = yield running.server.database.run(rows)
            if ("in_call", "meeting") in [(r.state, r.reason) for r in history]:
                break
            yield task.deferLater(reactor, 0.05, lambda: None)
        else:
            raise AssertionError(f"no agent state row for the meeting: {history}")
    finally:
        yield stream.close()


@pytest_twisted.inlineCallbacks
def test_hold_retrieve_hangup_disposition_and_the_call_record(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    try:
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        for action, event in (("answer", "established"), ("hold", "held"),
                              ("retrieve", "retrieved")):
            status, _ = yield client.post(f"/api/v1/calls/{call_id}/{action}", {},
                                          agent["token"])
            assert status == 200, action
            yield stream.next_event(event, device="1001")
        status, body = yield client.post(f"/api/v1/calls/{call_id}/dtmf", {"digits": "12#"},
                                         agent["token"])
        assert status == 200, body
        yield client.post(f"/api/v1/calls/{call_id}/hangup", {}, agent["token"])
        yield stream.next_event("call", kind="ended")

        status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                         {"code": "sale", "notes": "two units"}, agent["token"])
        assert status == 201, body
        assert body["customer_id"] == pop["customer"]["id"]
        status, history = yield client.get(f"/api/v1/customers/{pop['customer']['id']}"
                                           "/interactions", agent["token"])
        assert history[0]["disposition"] == "sale" and history[0]["call_id"] == call_id
        status, body = yield client.post(f"/api/v1/calls/{call_id}/hold", {}, agent["token"])
        assert status == 404

        from db import calls as db_calls
        from db import tenants as db_tenants

        def stored(conn):
            return db_calls.list_calls(conn, db_tenants.get_tenant(conn, "acme"))

        yield wait_for(lambda: running.server.services.calls.ended(call_id) is not None)
        records = []
        for _ in range(50):
            records = yield running.server.database.run(stored)
            if records:
                break
            yield task.deferLater(reactor, 0.05, lambda: None)
        (record,) = records
        assert record.call_id == call_id and record.direction == "in"
        assert record.calling == CALLER and record.extension == "1001"
    finally:
        yield stream.close()


@pytest_twisted.inlineCallbacks
def test_single_step_transfer_pops_the_caller_with_the_notes_at_the_next_agent(linked):
    running, client, pbx = linked
    first = yield client.login("1001", extension="1001")
    second = yield client.login("1002", extension="1002")
    one = yield EventStreamClient.connect(running.url, first["token"])
    two = yield EventStreamClient.connect(running.url, second["token"])
    try:
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        yield one.next_event("screen_pop", call_id=call_id)
        yield client.post(f"/api/v1/calls/{call_id}/answer", {}, first["token"])
        yield one.next_event("established", device="1001")
        yield client.post(f"/api/v1/calls/{call_id}/notes", {"text": "VIP, be quick"},
                          first["token"])
        status, body = yield client.post(f"/api/v1/calls/{call_id}/single-step-transfer",
                                         {"to": "1002"}, first["token"])
        assert status == 200, body
        pop = yield two.next_event("screen_pop", agent="1002")
        assert pop["customer"]["name"] == "Ada Lovelace"
        assert [n["text"] for n in pop["notes"]] == ["VIP, be quick"]
        assert pop["calling"] == CALLER
    finally:
        yield one.close()
        yield two.close()


@pytest_twisted.inlineCallbacks
def test_conference_brings_the_consulted_agent_in_with_the_data(linked):
    running, client, pbx = linked
    first = yield client.login("1001", extension="1001")
    second = yield client.login("1002", extension="1002")
    one = yield EventStreamClient.connect(running.url, first["token"])
    two = yield EventStreamClient.connect(running.url, second["token"])
    try:
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        yield one.next_event("screen_pop", call_id=call_id)
        yield client.post(f"/api/v1/calls/{call_id}/answer", {}, first["token"])
        yield one.next_event("established", device="1001")
        yield client.request("PATCH", f"/api/v1/calls/{call_id}/data", first["token"],
                             {"case": "C-9"})
        _, body = yield client.post(f"/api/v1/calls/{call_id}/consult", {"to": "1002"},
                                    first["token"])
        consult_id = body["call_id"]
        yield two.next_event("screen_pop", call_id=consult_id)
        yield client.post(f"/api/v1/calls/{consult_id}/answer", {}, second["token"])
        yield two.next_event("established", device="1002")
        status, body = yield client.post(f"/api/v1/calls/{consult_id}/conference",
                                         {"consult_call_id": call_id}, first["token"])
        assert status == 200, body
        pop = yield two.next_event("screen_pop", agent="1002", call_id=body["call_id"])
        assert pop["data"]["case"] == "C-9"
        status, calls = yield client.get("/api/v1/calls", first["token"])
        (call,) = calls
        assert {p["device"] for p in call["parties"]} == {CALLER, "1001", "1002"}
    finally:
        yield one.close()
        yield two.close()


@pytest_twisted.inlineCallbacks
def test_the_server_reconnects_to_a_switch_that_dropped_the_link(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    sup = yield client.login("sup")
    watch = yield EventStreamClient.connect(running.url, sup["token"])
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    link = running.server.links.links["pbx1"]
    try:
        for protocol in list(pbx.factory.connections):
            protocol.transport.loseConnection()
        down = yield watch.next_event("link_down")
        assert down["link"] == "pbx1"
        status, body = yield client.post("/api/v1/calls", {"to": "1002"}, agent["token"])
        assert status == 503
        yield watch.next_event("link_up", timeout=10)
        yield wait_for(lambda: link.up and link.driver.connected, timeout=10)
        yield running.links_ready()
        call_id = pbx.switch.inbound_call(CALLER, "1001")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        assert pop["customer"]["name"] == "Ada Lovelace"
    finally:
        yield watch.close()
        yield stream.close()


@pytest_twisted.inlineCallbacks
def test_an_agent_busy_on_a_direct_call_is_not_offered_a_queued_caller(linked):
    running, client, pbx = linked
    busy = yield client.login("1001", extension="1001")
    free = yield client.login("1002", extension="1002")
    for session in (busy, free):
        yield client.post("/api/v1/agents/me/state", {"state": "ready"}, session["token"])
    direct = pbx.switch.inbound_call("+49307654321", "1001")
    yield wait_for(lambda: running.server.agents.get("acme", "1001").state == "ringing")
    queued = pbx.switch.inbound_call(CALLER, "1900")
    yield wait_for(lambda: "1002" in pbx.switch.call(queued).connections)
    assert "1001" not in pbx.switch.call(queued).connections
    assert "1001" in pbx.switch.call(direct).connections


def _fast_queue(conn):
    """Queue `fast` at number 1901: ring timeout 1 s, members 1001 then 1002 (linear)."""
    from db import agents, queues, tenants

    tenant = tenants.get_tenant(conn, "acme")
    queues.create_queue(conn, tenant, "fast", "linear", ring_timeout_seconds=1)
    for position, number in enumerate(("1001", "1002")):
        agent = agents.get_agent_by_number(conn, tenant, number)
        queues.add_queue_member(conn, tenant, "fast", agent.id, position=position)
    queues.create_number(conn, tenant, "1901", queue="fast")


@pytest_twisted.inlineCallbacks
def test_ring_no_answer_requeues_the_caller_and_pauses_the_agent(tmp_path):
    pbx = testing.SimulatedPbx(queues=("1900", "1901"))
    running = yield testing.start_server(tmp_path, links=[pbx.link()])
    client = testing.ApiClient(running.url)
    try:
        yield running.links_ready()
        yield running.server.database.run(_fast_queue)
        yield running.services.acd.reload("acme")
        # The ring to 1001 lasts the one-second ring timeout: recorded as the switch delivers
        # it, since polling the switch could miss it on a loaded machine.
        delivered = []
        pbx.switch.subscribe(lambda e: e.kind == "delivered"
                             and delivered.append((e.call_id, e.device)))
        sleepy = yield client.login("1001", extension="1001")
        yield client.post("/api/v1/agents/me/state", {"state": "ready"}, sleepy["token"])
        call_id = pbx.switch.inbound_call(CALLER, "1901")
        board = running.server.agents
        yield wait_for(lambda: board.get("acme", "1001").status == "not_ready", timeout=10)
        assert (call_id, "1001") in delivered
        yield wait_for(lambda: "1001" not in pbx.switch.call(call_id).connections)
        # Room for the answer below: the next offer rings until answered, however slow the
        # machine (the timeout is read when the ACD offers).
        admin = yield client.login("admin")
        status, _ = yield client.request("PATCH", "/api/v1/admin/queues/fast", admin["token"],
                                         {"ring_timeout": 60})
        assert status == 200
        awake = yield client.login("1002", extension="1002")
        yield client.post("/api/v1/agents/me/state", {"state": "ready"}, awake["token"])
        yield wait_for(lambda: "1002" in pbx.switch.call(call_id).connections)
        status, _ = yield client.post(f"/api/v1/calls/{call_id}/answer", {}, awake["token"])
        assert status in (200, 202, 204)
        yield wait_for(lambda: board.get("acme", "1002").state == "in_call")
    finally:
        yield client.close()
        yield running.stop()
        yield pbx.close()
