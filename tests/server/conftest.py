"""A real CSTA simulator on loopback and a real server linked to it through the CSTA driver."""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer

from cti.server import testing
from cti.server.config import LinkConfig
from simulators.csta.server import CSTAServerFactory
from simulators.pbx import Switch

EXTENSIONS = ("1001", "1002", "1003")
QUEUE = "1900"


class Pbx:
    def __init__(self) -> None:
        from twisted.internet import reactor

        self.switch = Switch(reactor, external_answer_seconds=None)
        self.switch.add_extensions(EXTENSIONS)
        self.switch.add_queue(QUEUE)
        self.factory = CSTAServerFactory(self.switch, keepalive=0)
        self.port = reactor.listenTCP(0, self.factory, interface="127.0.0.1")

    @property
    def url(self) -> str:
        return f"csta://127.0.0.1:{self.port.getHost().port}"

    @defer.inlineCallbacks
    def close(self):
        self.switch.close()
        self.factory.close()
        yield self.port.stopListening()


@pytest.fixture
def pbx():
    switch = Pbx()
    yield switch
    pytest_twisted.blockon(switch.close())


@pytest.fixture
def linked(tmp_path, pbx):
    """(running server, API client, pbx) with the link up and every extension monitored."""
    link = LinkConfig(name="pbx1", url=pbx.url, devices=(*EXTENSIONS, QUEUE), tenant="acme",
                      options={"keepalive": 0, "snapshot_on_connect": False})
    running = pytest_twisted.blockon(
        testing.start_server(tmp_path, links=[link], disconnect_grace=0.3))
    client = testing.ApiClient(running.url)
    driver = running.server.links.links["pbx1"].driver
    pytest_twisted.blockon(driver.ready())
    yield running, client, pbx
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())
