"""The same server on MariaDB (production's database), when CTI_TEST_MYSQL_URL names one."""

from __future__ import annotations

import os
import uuid

import pytest
import pytest_twisted
from sqlalchemy import text
from sqlalchemy.engine import make_url

from cti.server import testing
from cti.server.database import LOOKUP_THREADS
from db.engine import make_engine

MYSQL_ENV = "CTI_TEST_MYSQL_URL"


@pytest.fixture
def mariadb_url():
    server_url = os.environ.get(MYSQL_ENV)
    if not server_url:
        pytest.skip(f"{MYSQL_ENV} is not set: MariaDB server test skipped (CI sets it)")
    name = f"cti_api_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(make_url(server_url))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
                          "COLLATE utf8mb4_unicode_ci"))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest_twisted.inlineCallbacks
def test_login_customers_and_tickets_on_mariadb(mariadb_url):
    config = testing.server_config(mariadb_url, database_upgrade=True)
    running = yield testing.start_server(config=config)
    client = testing.ApiClient(running.url)
    try:
        seeded = yield running.server.database.run(testing.demo_tenant)
        status, body = yield client.post("/api/v1/sessions", {"user": "1001", "password": "x"})
        assert status == 401
        token = (yield client.login("1001"))["token"]
        status, found = yield client.get("/api/v1/customers?phone=0301234567", token)
        assert [c["id"] for c in found] == [seeded["ada"]]
        status, ticket = yield client.post(f"/api/v1/customers/{seeded['ada']}/tickets",
                                           {"type": "after_sales", "subject": "Repair"}, token)
        assert status == 201 and ticket["type"] == "after-sales"
    finally:
        yield client.close()
        yield running.stop()


@pytest_twisted.inlineCallbacks
def test_a_screen_pop_lookup_survives_its_connection_being_killed(mariadb_url):
    """The lookup pool skips the pre-ping round trip; a dead connection costs a retry only."""
    from db import customers

    config = testing.server_config(mariadb_url, database_upgrade=True)
    running = yield testing.start_server(config=config)
    database = running.server.database
    try:
        seeded = yield database.run(testing.demo_tenant)
        tenant = seeded["tenant"]
        ids = set()
        for _ in range(2 * LOOKUP_THREADS):  # every lookup thread holds a connection
            ids.add((yield database.lookup(lambda conn: conn.execute(
                text("SELECT CONNECTION_ID()")).scalar())))
        for connection_id in ids:
            yield database.run(lambda conn, cid=connection_id: conn.execute(text(f"KILL {cid}")))
        for _ in range(2 * LOOKUP_THREADS):
            pop = yield database.lookup(customers.screen_pop, tenant, "0301234567")
            assert pop.customer.id == seeded["ada"]
    finally:
        yield running.stop()
