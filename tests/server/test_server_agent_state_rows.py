"""Agent state changes become rows for the reports, written in batches and none lost at stop."""

from __future__ import annotations

import os

import pytest_twisted

from cti.server import services
from db import calls as db_calls
from db import tenants
from db.engine import make_engine


def _stored_states(tmp_path) -> list[tuple[str, str | None]]:
    engine = make_engine(f"sqlite:///{os.path.join(str(tmp_path), 'cti.db')}")
    try:
        with engine.connect() as conn:
            tenant = tenants.get_tenant(conn, "acme")
            return [(r.state, r.reason) for r in db_calls.agent_states(conn, tenant)]
    finally:
        engine.dispose()


@pytest_twisted.inlineCallbacks
def test_changes_within_the_flush_interval_are_written_by_the_stop(tmp_path, pbx, monkeypatch):
    from cti.server import testing

    monkeypatch.setattr(services, "AGENT_STATE_FLUSH_SECONDS", 60.0)
    running = yield testing.start_server(tmp_path, links=[pbx.link()])
    client = testing.ApiClient(running.url)
    try:
        yield running.links_ready()
        agent = yield client.login("1001", extension="1001")
        for state, reason in (("ready", None), ("not_ready", "lunch"), ("ready", None)):
            body = {"state": state, **({"reason": reason} if reason else {})}
            status, _ = yield client.post("/api/v1/agents/me/state", body, agent["token"])
            assert status == 200
        assert running.server.services._agent_flush is not None
    finally:
        yield client.close()
        yield running.stop()
    assert _stored_states(tmp_path)[-4:] == [("not_ready", "login"), ("ready", None),
                                            ("not_ready", "lunch"), ("ready", None)]
