"""Whose history a disposition goes to, against the CSTA simulator and a real server.

The customer is the one the request names, else the one the screen-pop found, else the first
the tenant's dial plan finds for the far party's number; the interaction keeps the call's
start and end, and an ended call's stored context goes with its disposition.
"""

from __future__ import annotations

import pytest_twisted
from sqlalchemy import func, select

from cti.server import testing
from cti.server.testing import EventStreamClient, wait_for
from db import models as m

ADA = "+49301234567"
BABBAGE_NATIONAL = "030 7654321"
STRANGER = "+49405550000"


def _babbage(client, token):
    return client.get("/api/v1/customers?q=Charles", token).addCallback(lambda r: r[1][0])


@pytest_twisted.inlineCallbacks
def _ended_inbound(running, client, pbx, agent, caller):
    """An inbound call to 1001, answered and hung up: (call ID, its screen_pop)."""
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    try:
        call_id = pbx.switch.inbound_call(caller, "1001")
        pop = yield stream.next_event("screen_pop", call_id=call_id)
        status, _ = yield client.post(f"/api/v1/calls/{call_id}/answer", {}, agent["token"])
        assert status == 200
        yield stream.next_event("established", device="1001")
        yield wait_for(lambda: running.services.contexts.idle)  # the pop's context is stored
        yield client.post(f"/api/v1/calls/{call_id}/hangup", {}, agent["token"])
        yield stream.next_event("call", kind="ended")
    finally:
        yield stream.close()
    return call_id, pop


def _context_rows(running):
    def count(conn):
        return conn.execute(select(func.count()).select_from(m.CallContext)).scalar_one()
    return running.server.database.run(count)


@pytest_twisted.inlineCallbacks
def _history(client, token, customer_id):
    status, history = yield client.get(f"/api/v1/customers/{customer_id}/interactions", token)
    assert status == 200
    return history


@pytest_twisted.inlineCallbacks
def test_an_outbound_call_goes_to_the_customer_of_the_dialled_number(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    babbage = yield _babbage(client, agent["token"])
    stream = yield EventStreamClient.connect(running.url, agent["token"])
    try:
        status, made = yield client.post("/api/v1/calls", {"to": BABBAGE_NATIONAL},
                                         agent["token"])
        assert status == 201, made
        call_id = made["call_id"]
        yield stream.next_event("delivered", call_id=call_id)
        yield client.post(f"/api/v1/calls/{call_id}/hangup", {}, agent["token"])
        yield stream.next_event("call", kind="ended")
    finally:
        yield stream.close()

    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "sale", "notes": "quoted"}, agent["token"])
    assert status == 201, body
    assert body["customer_id"] == babbage["id"]
    [latest, *_] = yield _history(client, agent["token"], babbage["id"])
    assert (latest["call_id"], latest["disposition"]) == (call_id, "sale")
    assert latest["time"] is not None and latest["ended"] is not None
    assert latest["ended"] >= latest["time"]


@pytest_twisted.inlineCallbacks
def _stranger_saved(linked, **record):
    """An unknown caller's call ended and the caller saved as a customer: (agent, call ID,
    customer)."""
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    call_id, pop = yield _ended_inbound(running, client, pbx, agent, STRANGER)
    assert pop["customer"] is None
    status, customer = yield client.post("/api/v1/customers",
                                         {"name": "Grace Hopper", **record}, agent["token"])
    assert status == 201
    return agent, call_id, customer


@pytest_twisted.inlineCallbacks
def test_a_caller_saved_during_the_call_is_named_by_the_disposition(linked):
    running, client, _ = linked
    agent, call_id, grace = yield _stranger_saved(linked)
    yield wait_for(lambda: running.services.contexts.idle)
    assert (yield _context_rows(running)) == 1

    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "resolved", "customer_id": grace["id"]},
                                     agent["token"])
    assert status == 201, body
    assert body["customer_id"] == grace["id"]
    [only] = yield _history(client, agent["token"], grace["id"])
    assert (only["call_id"], only["disposition"]) == (call_id, "resolved")
    assert only["ended"] is not None
    yield wait_for(lambda: running.services.contexts.idle)
    assert (yield _context_rows(running)) == 0


@pytest_twisted.inlineCallbacks
def test_without_a_name_a_caller_saved_with_their_number_is_found_by_it(linked):
    _, client, _ = linked
    agent, call_id, grace = yield _stranger_saved(linked, phones=["040 5550000"])
    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "resolved"}, agent["token"])
    assert status == 201 and body["customer_id"] == grace["id"]


@pytest_twisted.inlineCallbacks
def test_the_named_customer_wins_over_the_popped_one_and_the_popped_over_the_number(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    babbage = yield _babbage(client, agent["token"])
    first, pop = yield _ended_inbound(running, client, pbx, agent, ADA)
    ada = pop["customer"]
    assert ada["name"] == "Ada Lovelace"
    status, body = yield client.post(f"/api/v1/calls/{first}/disposition",
                                     {"code": "sale", "customer_id": babbage["id"]},
                                     agent["token"])
    assert status == 201 and body["customer_id"] == babbage["id"]

    second, _ = yield _ended_inbound(running, client, pbx, agent, ADA)
    status, _ = yield client.request("PUT", f"/api/v1/customers/{ada['id']}", agent["token"],
                                     {**ada, "phones": ["030 9999999"]})
    assert status == 200
    status, body = yield client.post(f"/api/v1/calls/{second}/disposition",
                                     {"code": "resolved", "customer_id": None}, agent["token"])
    assert status == 201 and body["customer_id"] == ada["id"]


@pytest_twisted.inlineCallbacks
def test_a_call_with_nobody_to_name_is_stored_without_a_customer(linked):
    running, client, pbx = linked
    agent = yield client.login("1001", extension="1001")
    call_id, _ = yield _ended_inbound(running, client, pbx, agent, STRANGER)
    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "resolved"}, agent["token"])
    assert status == 201 and body["customer_id"] is None


@pytest_twisted.inlineCallbacks
def test_another_tenants_customer_is_404_and_the_call_can_still_be_disposed(linked):
    running, client, pbx = linked
    seeded = yield running.server.database.run(testing.demo_tenant, "globex", ("2001",))
    agent = yield client.login("1001", extension="1001", tenant="acme")
    call_id, pop = yield _ended_inbound(running, client, pbx, agent, ADA)
    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "sale", "customer_id": seeded["ada"]},
                                     agent["token"])
    assert (status, body["code"]) == (404, "not_found")
    assert body["error"] == f"customer_id: no customer {seeded['ada']} in tenant 'acme'"
    history = yield _history(client, agent["token"], pop["customer"]["id"])
    assert call_id not in [i["call_id"] for i in history]

    status, body = yield client.post(f"/api/v1/calls/{call_id}/disposition",
                                     {"code": "sale"}, agent["token"])
    assert status == 201 and body["customer_id"] == pop["customer"]["id"]
