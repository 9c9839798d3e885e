"""A real CSTA simulator on loopback and a real server linked to it through the CSTA driver."""

from __future__ import annotations

import pytest
import pytest_twisted

from cti.server import testing


@pytest.fixture
def pbx():
    switch = testing.SimulatedPbx()
    yield switch
    pytest_twisted.blockon(switch.close())


@pytest.fixture
def linked(tmp_path, pbx):
    """(running server, API client, pbx) with the link up and every device monitored."""
    running = pytest_twisted.blockon(
        testing.start_server(tmp_path, links=[pbx.link()], disconnect_grace=0.3))
    client = testing.ApiClient(running.url)
    pytest_twisted.blockon(running.links_ready())
    yield running, client, pbx
    pytest_twisted.blockon(client.close())
    pytest_twisted.blockon(running.stop())
