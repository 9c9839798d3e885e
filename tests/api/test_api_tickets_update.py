"""Changing a ticket's body and status, and a customer's address, through the API: what the
answer says is what a later read finds, and a refused change leaves the row as it was."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.server import testing
from db import customers, tenants
from db.engine import make_engine
from db.records import Address


@pytest.fixture
def running(tmp_path):
    running = pytest_twisted.blockon(testing.start_server(tmp_path))
    client = testing.ApiClient(running.url)
    token = pytest_twisted.blockon(client.login("1001"))["token"]
    yield client, token
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest_twisted.inlineCallbacks
def _ticket_of_ada(client, token):
    _, (ada,) = yield client.get("/api/v1/customers?q=Ada", token)
    status, ticket = yield client.post(f"/api/v1/customers/{ada['id']}/tickets",
                                       {"type": "complaint", "subject": "Late", "body": "3 days"},
                                       token)
    assert status == 201
    return ada, ticket


def _stored(tickets, ticket_id):
    return next(t for t in tickets if t["id"] == ticket_id)


@pytest_twisted.inlineCallbacks
def test_patching_the_body_stores_it_and_answers_the_whole_ticket(running):
    client, token = running
    ada, ticket = yield _ticket_of_ada(client, token)
    status, changed = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token,
                                           {"body": "5 days now; wants a refund"})
    assert status == 200
    assert (changed["id"], changed["body"], changed["status"], changed["subject"]) == (
        ticket["id"], "5 days now; wants a refund", "open", "Late")
    assert changed["updated"] >= ticket["updated"]
    _, listed = yield client.get(f"/api/v1/customers/{ada['id']}/tickets", token)
    assert _stored(listed, ticket["id"])["body"] == "5 days now; wants a refund"


@pytest_twisted.inlineCallbacks
def test_status_and_body_change_together(running):
    client, token = running
    ada, ticket = yield _ticket_of_ada(client, token)
    status, changed = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token,
                                           {"status": "closed", "body": "refunded"})
    assert (status, changed["status"], changed["body"]) == (200, "closed", "refunded")
    _, listed = yield client.get(f"/api/v1/customers/{ada['id']}/tickets", token)
    assert (_stored(listed, ticket["id"])["status"], _stored(listed, ticket["id"])["body"]) == (
        "closed", "refunded")


@pytest_twisted.inlineCallbacks
def test_a_refused_patch_changes_nothing(running):
    client, token = running
    ada, ticket = yield _ticket_of_ada(client, token)
    status, error = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token,
                                         {"status": "exploded", "body": "lost"})
    assert status == 400 and "ticket status" in error["error"]
    status, error = yield client.request("PATCH", f"/api/v1/tickets/{ticket['id']}", token, {})
    assert status == 400 and "nothing to change" in error["error"]
    status, error = yield client.request("PATCH", "/api/v1/tickets/999999", token,
                                         {"body": "x"})
    assert status == 404
    _, listed = yield client.get(f"/api/v1/customers/{ada['id']}/tickets", token)
    assert (_stored(listed, ticket["id"])["status"], _stored(listed, ticket["id"])["body"]) == (
        "open", "3 days")


@pytest_twisted.inlineCallbacks
def test_a_customer_address_is_stored_replaced_and_cleared(running):
    client, token = running
    _, (ada,) = yield client.get("/api/v1/customers?q=Ada", token)
    url = f"/api/v1/customers/{ada['id']}"
    status, changed = yield client.request("PUT", url, token, {
        "name": ada["name"], "address": "Seestr. 9, 20095 Hamburg"})
    assert (status, changed["address"]) == (200, "Seestr. 9, 20095 Hamburg")
    _, read = yield client.get(url, token)
    assert read["address"] == "Seestr. 9, 20095 Hamburg"
    status, kept = yield client.request("PUT", url, token, {"name": "Ada King"})
    assert (status, kept["address"], kept["name"]) == (200, "Seestr. 9, 20095 Hamburg", "Ada King")
    status, error = yield client.request("PUT", url, token, {"name": "Ada", "address": "x" * 201})
    assert status == 400 and "longer than 200" in error["error"]
    _, read = yield client.get(url, token)
    assert (read["name"], read["address"]) == ("Ada King", "Seestr. 9, 20095 Hamburg")
    status, cleared = yield client.request("PUT", url, token, {"name": "Ada King", "address": ""})
    assert (status, cleared["address"]) == (200, None)


@pytest_twisted.inlineCallbacks
def test_a_new_customer_keeps_the_address_it_was_created_with(running):
    client, token = running
    status, made = yield client.post("/api/v1/customers", {
        "name": "Grace Hopper", "address": "1 Navy Yard, Arlington"}, token)
    assert (status, made["address"]) == (201, "1 Navy Yard, Arlington")
    _, read = yield client.get(f"/api/v1/customers/{made['id']}", token)
    assert read["address"] == "1 Navy Yard, Arlington"


@pytest_twisted.inlineCallbacks
def test_an_unchanged_structured_address_keeps_its_parts(tmp_path):
    running = yield testing.start_server(tmp_path)
    client = testing.ApiClient(running.url)
    engine = make_engine(f"sqlite:///{tmp_path / 'cti.db'}")
    parts = Address(street="Hauptstr. 1", city="Berlin", postal_code="10115", country="DE")
    try:
        with engine.begin() as conn:
            acme = tenants.get_tenant(conn, "acme")
            bob = customers.create_customer(conn, acme, "Bob", addresses=[parts])
        token = (yield client.login("1001"))["token"]
        _, read = yield client.get(f"/api/v1/customers/{bob}", token)
        assert read["address"] == "Hauptstr. 1, 10115, Berlin, DE"
        status, changed = yield client.request("PUT", f"/api/v1/customers/{bob}", token,
                                               {**read, "name": "Bob Baker"})
        assert (status, changed["name"], changed["address"]) == (
            200, "Bob Baker", "Hauptstr. 1, 10115, Berlin, DE")
        with engine.begin() as conn:
            assert customers.get_customer(conn, acme, bob).addresses == (parts,)
    finally:
        engine.dispose()
        yield client.close()
        yield running.stop()
