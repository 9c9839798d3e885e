"""An agent who logs in while a call is already up at the extension (it began before the login,
or before a server restart, and the server learned it from the switch) is busy: the agent board
says in_call and the ACD offers no queued caller until that call ends."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import task

from cti.server import testing

CALLER = "+49301234567"
QUEUE_DEVICE = "1900"


@pytest.fixture
def site(tmp_path):
    pbx = testing.SimulatedPbx()
    running = pytest_twisted.blockon(testing.start_server(tmp_path, links=[pbx.link()]))
    pytest_twisted.blockon(running.links_ready())
    client = testing.ApiClient(running.url)
    yield running, client, pbx
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())
    pytest_twisted.blockon(pbx.close())


def _rings(pbx, call_id, device):
    call = pbx.switch.calls.get(call_id)
    connection = call.connections.get(device) if call else None
    return connection is not None and connection.state == "alerting"


@pytest_twisted.inlineCallbacks
def test_a_call_up_before_login_keeps_the_agent_busy_until_it_ends(site):
    running, client, pbx = site
    first = pbx.switch.inbound_call(CALLER, "1001")
    pbx.switch.answer_call(first, "1001")
    yield testing.wait_for(lambda: any(c.call_id == first and "1001" in c.connections
                                       and c.connections["1001"].state == "connected"
                                       for c in running.server.services.calls.calls()))
    token = (yield client.login("1001", extension="1001"))["token"]
    status, me = yield client.get("/api/v1/agents/me", token)
    assert (status, me["status"], me["state"]) == (200, "not_ready", "in_call")
    status, _ = yield client.post("/api/v1/agents/me/state", {"state": "ready"}, token)
    assert status == 200

    queued = pbx.switch.inbound_call("+49409876543", QUEUE_DEVICE)
    yield task.deferLater(running.server.reactor, 1.0, lambda: None)
    assert not _rings(pbx, queued, "1001")

    pbx.switch.clear_call(first)
    yield testing.wait_for(lambda: _rings(pbx, queued, "1001"))
    status, me = yield client.get("/api/v1/agents/me", token)
    assert me["state"] in ("ringing", "reserved")
