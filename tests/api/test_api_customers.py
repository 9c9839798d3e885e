"""Customers, interactions and tickets through the API, on the tenant's own rows only."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.server import testing


@pytest.fixture
def running(tmp_path):
    running = pytest_twisted.blockon(testing.start_server(tmp_path))
    client = testing.ApiClient(running.url)
    token = pytest_twisted.blockon(client.login("1001"))["token"]
    yield client, token
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest_twisted.inlineCallbacks
def test_find_by_phone_in_any_spelling(running):
    client, token = running
    for spelling in ("%2B49301234567", "+49301234567", "0049301234567", "030%201234567",
                     "030-1234567"):
        status, found = yield client.get(f"/api/v1/customers?phone={spelling}", token)
        assert status == 200, spelling
        assert [c["name"] for c in found] == ["Ada Lovelace"], spelling
    status, found = yield client.get("/api/v1/customers?phone=%2B4940999", token)
    assert (status, found) == (200, [])
    status, body = yield client.get("/api/v1/customers", token)
    assert status == 400


@pytest_twisted.inlineCallbacks
def test_create_update_and_search(running):
    client, token = running
    status, made = yield client.post("/api/v1/customers", {
        "name": "Grace Hopper", "company": "Navy", "phones": ["030 5550001"],
        "emails": ["grace@example.org"], "fields": {"rank": "admiral"}}, token)
    assert status == 201
    assert made["phones"] == ["+49305550001"]
    assert made["emails"] == ["grace@example.org"] and made["fields"] == {"rank": "admiral"}
    status, changed = yield client.request("PUT", f"/api/v1/customers/{made['id']}", token,
                                           {"name": "Grace B. Hopper", "vip": True})
    assert status == 200 and changed["vip"] is True and changed["name"] == "Grace B. Hopper"
    status, found = yield client.get("/api/v1/customers?q=Grace", token)
    assert [c["id"] for c in found] == [made["id"]]
    status, body = yield client.post("/api/v1/customers", {"name": "X", "phones": ["abc"]},
                                     token)
    assert status == 400


@pytest_twisted.inlineCallbacks
def test_interactions_and_tickets(running):
    client, token = running
    _, (ada,) = yield client.get("/api/v1/customers?q=Ada", token)
    status, made = yield client.post(f"/api/v1/customers/{ada['id']}/interactions",
                                     {"notes": "called about delivery", "disposition": "resolved"},
                                     token)
    assert status == 201 and made["agent_id"] == "1001"
    status, listed = yield client.get(f"/api/v1/customers/{ada['id']}/interactions", token)
    assert [i["notes"] for i in listed][:2] == ["called about delivery", "asked for a quote"]
    status, ticket = yield client.post(f"/api/v1/customers/{ada['id']}/tickets",
                                       {"type": "complaint", "subject": "Late", "body": "3 days"},
                                       token)
    assert status == 201 and ticket["status"] == "open" and ticket["type"] == "complaint"
    status, closed = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token,
                                          {"status": "closed"})
    assert (status, closed["status"]) == (200, "closed")
    status, body = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token,
                                        {"status": "exploded"})
    assert status == 400
    status, body = yield client.post(f"/api/v1/customers/{ada['id']}/tickets",
                                     {"type": "rumour", "subject": "x"}, token)
    assert status == 400
    status, body = yield client.get("/api/v1/customers/999999/tickets", token)
    assert status == 404
    status, body = yield client.get("/api/v1/customers/abc", token)
    assert status == 400


@pytest_twisted.inlineCallbacks
def test_codes_and_directory(running):
    client, token = running
    status, reasons = yield client.get("/api/v1/reasons", token)
    assert {"code": "lunch", "label": "Lunch"} in reasons
    status, codes = yield client.get("/api/v1/dispositions", token)
    assert {"code": "resolved", "label": "Resolved"} in codes
    status, book = yield client.get("/api/v1/directory", token)
    assert {"name": "Agent 1002", "number": "1002", "kind": "agent"} in book
