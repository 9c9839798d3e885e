"""Repository functions run from Twisted on the dedicated database threads."""

from __future__ import annotations

import threading

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import gatherResults

from db import customers
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
