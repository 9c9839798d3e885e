"""The disposition body: `code`, `notes`? and `customer_id`?, refused in one line when wrong.

Body validation answers before the call is looked up, so no switch is needed here; the
customer the interaction goes to is specified in tests/server/test_server_disposition.py.
"""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.server import testing


@pytest.fixture
def running(tmp_path):
    running = pytest_twisted.blockon(testing.start_server(tmp_path))
    client = testing.ApiClient(running.url)
    token = pytest_twisted.blockon(client.login("1001"))["token"]
    yield client, token, running
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())


@pytest.mark.parametrize("customer_id", ["12", True, 1.5, [12], {"id": 12}])
@pytest_twisted.inlineCallbacks
def test_a_customer_id_that_is_not_an_integer_is_400_naming_it(running, customer_id):
    client, token, _ = running
    status, body = yield client.post("/api/v1/calls/77/disposition",
                                     {"code": "sale", "customer_id": customer_id}, token)
    assert (status, body["code"]) == (400, "bad_request")
    assert body["error"] == "field 'customer_id' must be an integer"


@pytest.mark.parametrize("extra", [{}, {"customer_id": None}, {"customer_id": 12}])
@pytest_twisted.inlineCallbacks
def test_a_well_formed_body_reaches_the_call_lookup(running, extra):
    """Without or with a null or integer customer_id the body passes: the unknown call is 404."""
    client, token, _ = running
    status, body = yield client.post("/api/v1/calls/77/disposition",
                                     {"code": "sale", **extra}, token)
    assert (status, body["code"]) == (404, "not_found")
    assert body["error"] == "no call 77"


@pytest_twisted.inlineCallbacks
def test_the_code_is_still_required(running):
    client, token, _ = running
    status, body = yield client.post("/api/v1/calls/77/disposition", {"customer_id": 12}, token)
    assert status == 400 and body["error"] == "missing field 'code'"


@pytest_twisted.inlineCallbacks
def test_the_openapi_document_describes_the_optional_customer_id(running):
    client, token, _ = running
    _, document = yield client.get("/api/v1/openapi.json", token)
    operation = document["paths"]["/api/v1/calls/{call_id}/disposition"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["code"]
    assert schema["properties"]["customer_id"]["type"] == "integer"
    assert schema["properties"]["customer_id"]["nullable"] is True
