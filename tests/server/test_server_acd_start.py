"""The ACD is running from the moment the server starts, not from the first agent login: a
caller to a queue device in the morning, before anyone has logged in, is queued (queue log
'enter') and hears the queue's music, or is refused by the queue's join-empty rule; the first
agent to log in and get ready takes the waiting caller. A database that is away at start
delays the ACD (one log line, retried) without stopping the server, and a tenant whose first
queue an administrator creates later gets it applied by the audit-log poll. Every assertion
about calls reads the simulated switch on loopback; queue-log rows are read from db/."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from dataclasses import replace

import pytest
import pytest_twisted
from sqlalchemy import text
from sqlalchemy.engine import make_url
from twisted.internet import defer, reactor, task, threads
from twisted.logger import globalLogPublisher

from cti.commands.admin import main as admin
from cti.server import testing
from cti.server.app import Server
from db import calls as db_calls
from db import queues as db_queues
from db import tenants as db_tenants
from db.engine import create_database, make_engine
from db.migrate import upgrade
from tests.server.test_server_acd_routing import alerting, ready
from tests.server.test_server_announcements import VoiceUnit

QUEUE_DEVICE = "1900"
"""Queue device of the switch and the number of queue `sales` in the demo tenant."""
CALLER = "+4930111222"
MYSQL_ENV = "CTI_TEST_MYSQL_URL"


@pytest.fixture
def pbx():
    simulated = testing.SimulatedPbx(message_seconds=0.3)
    yield simulated
    pytest_twisted.blockon(simulated.close())


@pytest.fixture
def servers():
    """Servers a test starts, stopped after it."""
    started: list[testing.RunningServer] = []
    yield started
    for running in started:
        pytest_twisted.blockon(running.stop())


@defer.inlineCallbacks
def morning(tmp_path, pbx, servers, **settings):
    """A server started on a database where queue `sales` has `settings` (its options in
    `options`), linked to the switch, nobody logged in: the configuration is stored by a
    server without links that is stopped again, as yesterday's administration would be."""
    yesterday = yield testing.start_server(tmp_path)

    def configure(conn):
        db_queues.update_queue(conn, db_tenants.get_tenant(conn, "acme"), "sales", **settings)

    yield yesterday.services.db.run(configure)
    running = yield testing.restart_server(yesterday, links=(pbx.link(),))
    servers.append(running)
    yield running.links_ready()
    yield testing.wait_for(lambda: "acme" in running.services.acd.tenants)
    assert running.services.agents.of_tenant("acme") == []
    return running


@defer.inlineCallbacks
def queue_log(running, tenant, call_id, wanted):
    """The queue-log events of the call once `wanted` is among them (written in the
    background; bounded wait)."""

    def read(conn):
        record = db_tenants.get_tenant(conn, tenant)
        return [row.event for row in db_calls.queue_events(conn, record)
                if row.call_id == call_id]

    for _ in range(100):
        events = yield running.services.db.run(read)
        if wanted in events:
            return events
        yield task.deferLater(reactor, 0.05, lambda: None)
    return events


@pytest_twisted.inlineCallbacks
def test_a_caller_before_any_login_waits_with_music_and_goes_to_the_first_ready_agent(
        tmp_path, pbx, servers):
    running = yield morning(tmp_path, pbx, servers, join_empty=True,
                            options={"music": "morning"})
    voice = VoiceUnit(pbx.switch)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(lambda: voice.played(QUEUE_DEVICE))
    assert voice.played(QUEUE_DEVICE) == ["music:morning"]
    acd = running.services.acd.tenants["acme"]
    assert acd.engine.calls[call_id].state == "waiting"
    assert (QUEUE_DEVICE, "queued") in pbx.switch.snapshot_call(call_id)
    assert "enter" in (yield queue_log(running, "acme", call_id, "enter"))

    client = testing.ApiClient(running.url)
    try:
        yield ready(client, "1001")
        yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1001"})
    finally:
        yield client.close()


@pytest_twisted.inlineCallbacks
def test_a_queue_refusing_callers_when_nobody_is_logged_in_clears_the_morning_caller(
        tmp_path, pbx, servers):
    running = yield morning(tmp_path, pbx, servers, join_empty=False,
                            options={"music": "morning"})
    voice = VoiceUnit(pbx.switch)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(lambda: call_id not in pbx.switch.calls)
    assert "exit-empty" in (yield queue_log(running, "acme", call_id, "exit-empty"))
    assert call_id not in running.services.acd.tenants["acme"].engine.calls
    assert voice.played(QUEUE_DEVICE) == []


@pytest_twisted.inlineCallbacks
def test_callers_already_waiting_when_the_server_starts_join_the_queue(tmp_path, pbx, servers):
    """A switch snapshot at connect shows a caller queued at the queue device since before the
    server ran: the loaded ACD takes the caller in."""
    yesterday = yield testing.start_server(tmp_path)
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    link = pbx.link()
    link = replace(link, options={**link.options, "snapshot_on_connect": True})
    running = yield testing.restart_server(yesterday, links=(link,))
    servers.append(running)
    yield running.links_ready()
    tenants = running.services.acd.tenants
    yield testing.wait_for(lambda: "acme" in tenants and call_id in tenants["acme"].engine.calls)
    acd = tenants["acme"]
    assert acd.queue_devices[call_id] == QUEUE_DEVICE
    client = testing.ApiClient(running.url)
    try:
        yield ready(client, "1002")
        yield testing.wait_for(lambda: alerting(pbx, call_id) == {"1002"})
    finally:
        yield client.close()


@contextmanager
def acd_log():
    """The ACD's log lines meanwhile, as (level name, event)."""
    lines = []

    def observe(event):
        if event.get("log_namespace") == "cti.server.acd":
            lines.append((event["log_level"].name, event))

    globalLogPublisher.addObserver(observe)
    try:
        yield lines
    finally:
        globalLogPublisher.removeObserver(observe)


@pytest.fixture(params=["sqlite", "mariadb"])
def absent_database(request, tmp_path):
    """(URL of a database not there yet, bring_back()): SQLite's file on a volume not mounted
    yet, or a MariaDB database not created yet on the server of CTI_TEST_MYSQL_URL; bring_back
    makes it there, migrated, with the demo tenant."""
    if request.param == "sqlite":
        missing = tmp_path / "not-mounted" / "cti.db"

        def bring_back():
            missing.parent.mkdir()
            _seed(make_engine(f"sqlite:///{missing}"))

        yield f"sqlite:///{missing}", bring_back
        return
    server_url = os.environ.get(MYSQL_ENV)
    if not server_url:
        pytest.skip(f"{MYSQL_ENV} is not set: the MariaDB half is skipped (CI sets it)")
    name = f"cti_acd_start_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url, lambda: (create_database(url), _seed(make_engine(url)))
    finally:
        admin_engine = make_engine(make_url(server_url))
        with admin_engine.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin_engine.dispose()


def _seed(engine):
    try:
        upgrade(engine)
        with engine.begin() as conn:
            testing.demo_tenant(conn)
    finally:
        engine.dispose()


@pytest_twisted.inlineCallbacks
def test_a_database_away_at_start_delays_the_acd_with_one_line_and_it_loads_once_back(
        tmp_path, pbx, servers, absent_database):
    """The server starts, says once that the ACD is not loaded, retries, and queues callers
    as soon as the database is there."""
    url, bring_back = absent_database
    config = testing.server_config(url, links=[pbx.link()], database_upgrade=False,
                                   database_spool=str(tmp_path / "calls.spool"))
    server = Server(config, reactor)
    server.services.acd.load_retry_seconds = 0.2
    with acd_log() as lines:
        yield server.start()
        servers.append(testing.RunningServer(server, server.url, *server.address))
        yield testing.wait_for(lambda: any(level == "warn" for level, _ in lines))
        yield task.deferLater(reactor, 0.7, lambda: None)
        warnings = [event for level, event in lines if level == "warn"]
        assert len(warnings) == 1
        assert warnings[0]["tenant"] == "acme" and "unavailable" in warnings[0]["error"]
        assert "acme" not in server.services.acd.tenants
        yield threads.deferToThread(bring_back)
        yield testing.wait_for(lambda: "acme" in server.services.acd.tenants)
        assert [event["tenant"] for level, event in lines if level == "info"
                and "loaded" in event["log_format"]] == ["acme"]
    yield servers[0].links_ready()
    call_id = pbx.switch.inbound_call(CALLER, QUEUE_DEVICE)
    yield testing.wait_for(lambda: call_id in server.services.acd.tenants["acme"].engine.calls)


@pytest_twisted.inlineCallbacks
def test_the_first_queue_of_a_tenant_made_by_cti_admin_takes_calls_without_a_restart(
        tmp_path, servers):
    """Tenant `beta` has a link but no queue yet: its (empty) ACD runs from the start, and
    the queue and number an administrator adds with `cti admin` reach it by the audit log."""
    beta_pbx = testing.SimulatedPbx(extensions=("2001",), queues=("2900",),
                                    message_seconds=0.3)
    try:
        yesterday = yield testing.start_server(tmp_path)

        def beta(conn):
            db_tenants.create_tenant(conn, "beta", "Beta")

        yield yesterday.services.db.run(beta)
        running = yield testing.restart_server(
            yesterday, links=(beta_pbx.link(tenant="beta"),), acd_reload_seconds=0.2)
        servers.append(running)
        yield running.links_ready()
        yield testing.wait_for(lambda: "beta" in running.services.acd.tenants)
        engine = running.services.acd.tenants["beta"].engine
        assert not engine.queues and not engine.dnis

        url = running.server.config.database_url
        for args in (("queue", "add", "support", "--music", "beta-hold"),
                     ("number", "add", "2900", "--queue", "support")):
            assert admin([*args, "--tenant", "beta", "--database", url]) == 0
        yield testing.wait_for(lambda: engine.dnis.get("2900") == "support")
        assert engine.queues["support"].config.music == "beta-hold"

        voice = VoiceUnit(beta_pbx.switch)
        call_id = beta_pbx.switch.inbound_call(CALLER, "2900")
        yield testing.wait_for(lambda: voice.played("2900"))
        assert voice.played("2900") == ["music:beta-hold"]
        assert "enter" in (yield queue_log(running, "beta", call_id, "enter"))
    finally:
        yield beta_pbx.close()
