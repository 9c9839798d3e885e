"""Repository functions run from Twisted on the dedicated database threads."""

from __future__ import annotations

import threading

import pytest
import pytest_twisted
from sqlalchemy import event
from twisted.internet import reactor
from twisted.internet.defer import gatherResults

from db import customers
from db.engine import make_reader_engine
from db.errors import NotFound
from db.pool import DBThreadPool


@pytest.fixture
def pool(engine):
    pool = DBThreadPool(engine, reactor)
    pool.start()
    yield pool
    pool.stop()


@pytest_twisted.inlineCallbacks
def test_a_screen_pop_runs_on_a_database_thread_and_returns_plain_data(pool, acme):
    def create(conn):
        return customers.create_customer(conn, acme, "Bob", phones=["01715551234"])

    seen = []

    def pop(conn, caller):
        seen.append(threading.current_thread())
        return customers.screen_pop(conn, acme, caller)

    bob = yield pool.run(create)
    result = yield pool.run(pop, "+491715551234")
    assert result.customer.id == bob
    assert seen and seen[0] is not threading.current_thread()
    assert seen[0].name.startswith("PoolThread-db")


@pytest_twisted.inlineCallbacks
def test_a_failing_call_rolls_back_and_fails_its_deferred(pool, acme):
    def create_then_fail(conn):
        customers.create_customer(conn, acme, "Ghost", phones=["0301234567"])
        customers.get_customer(conn, acme, 10**9)

    with pytest.raises(NotFound):
        yield pool.run(create_then_fail)
    count = yield pool.run(customers.count_customers, acme)
    assert count == 0


@pytest_twisted.inlineCallbacks
def test_many_concurrent_calls_all_complete(pool, acme):
    ids = yield gatherResults([
        pool.run(customers.create_customer, acme, f"c{i}", phones=[f"030{1000000 + i}"])
        for i in range(20)
    ])
    pops = yield gatherResults([pool.run(customers.screen_pop, acme, f"030{1000000 + i}")
                                for i in range(20)])
    assert [p.customer.id for p in pops] == ids


@pytest.fixture
def reader(db_url):
    reader = DBThreadPool(make_reader_engine(db_url, 2), reactor, max_threads=2, name="reader")
    reader.start()
    yield reader
    reader.stop()


@pytest_twisted.inlineCallbacks
def test_a_read_sees_what_the_writers_committed(pool, reader, acme):
    assert (yield reader.read(customers.screen_pop, acme, "030 7777777")).customer is None
    grace = yield pool.run(customers.create_customer, acme, "Grace", phones=["030 7777777"])
    pop = yield reader.read(customers.screen_pop, acme, "+49307777777")
    assert pop.customer.id == grace


@pytest_twisted.inlineCallbacks
def test_a_screen_pop_read_on_mariadb_is_its_two_statements_and_nothing_else(
        backend, db_url, pool, acme):
    """No COMMIT after the lookup, no ROLLBACK when its connection goes back to the pool:
    each would be one more round trip on the caller's way to the agent's screen."""
    if backend != "mysql":
        pytest.skip("round trips are MariaDB's; SQLite runs in the process")
    grace = yield pool.run(customers.create_customer, acme, "Grace", phones=["030 1234567"])
    engine = make_reader_engine(db_url, 1)
    sent: list[str] = []

    @event.listens_for(engine, "checkout")
    def count_commands(dbapi_connection, record, proxy):
        execute = type(dbapi_connection)._execute_command

        def counted(command, sql):
            sent.append(sql if isinstance(sql, str) else sql.decode())
            return execute(dbapi_connection, command, sql)

        dbapi_connection._execute_command = counted

    reader = DBThreadPool(engine, reactor, max_threads=1, name="reader")
    reader.start()
    try:
        yield reader.read(customers.screen_pop, acme, "030 7777777")
        sent.clear()
        pop = yield reader.read(customers.screen_pop, acme, "030 1234567")
    finally:
        reader.stop()
    assert pop.customer.id == grace
    assert [s.split()[0] for s in sent] == ["SELECT", "SELECT"]
