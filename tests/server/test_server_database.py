"""The server's database: screen-pop lookups never queue behind writes."""

from __future__ import annotations

import os
import threading

import pytest_twisted
from twisted.internet import reactor
from twisted.internet.threads import deferToThread

from cti.server.database import Database
from db import customers, migrate, tenants
from db.engine import make_engine


def _database(tmp_path) -> tuple[Database, object]:
    url = f"sqlite:///{os.path.join(str(tmp_path), 'cti.db')}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        tenant = tenants.create_tenant(conn, "acme", "Acme")
        customers.create_customer(conn, tenant, "Ada Lovelace", phones=["+49301234567"])
    engine.dispose()
    database = Database(url, reactor)
    database.start()
    return database, tenant


@pytest_twisted.inlineCallbacks
def test_a_lookup_completes_while_the_write_pool_is_busy(tmp_path):
    database, tenant = _database(tmp_path)
    release = threading.Event()
    try:
        busy = database.run(lambda conn: release.wait(10))
        pop = yield database.lookup(customers.screen_pop, tenant, "+49301234567")
        assert pop.customer.name == "Ada Lovelace"
        assert not busy.called
    finally:
        release.set()
    yield busy
    yield deferToThread(database.stop)


@pytest_twisted.inlineCallbacks
def test_a_write_is_visible_to_the_next_lookup(tmp_path):
    database, tenant = _database(tmp_path)
    try:
        yield database.run(lambda conn: customers.create_customer(
            conn, tenant, "Grace Hopper", phones=["+49307777777"]))
        pop = yield database.lookup(customers.screen_pop, tenant, "030 7777777")
        assert pop.customer.name == "Grace Hopper"
    finally:
        yield deferToThread(database.stop)


def test_an_in_memory_database_keeps_one_pool():
    """Each connection to sqlite:// is a database of its own: lookups must use the writer's."""
    database = Database("sqlite://", reactor)
    assert database.lookups is database.pool
    database.stop()
