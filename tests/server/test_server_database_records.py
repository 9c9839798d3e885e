"""The server's call records: gathered for a moment and stored in one transaction, each
record's Deferred told how it went, and none left behind when the server stops."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted
from twisted.internet import reactor
from twisted.internet.defer import DeferredList
from twisted.internet.threads import deferToThread

from cti.server.database import Database
from db import calls, migrate, tenants
from db.engine import make_engine
from db.records import CallRecord

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{os.path.join(str(tmp_path), 'cti.db')}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def database(url, tmp_path):
    database = Database(url, reactor, spool_path=str(tmp_path / "calls.spool"))
    database.start()
    yield database
    database.stop()


@pytest.fixture
def tenant(url):
    engine = make_engine(url)
    with engine.begin() as conn:
        tenant = tenants.create_tenant(conn, "acme", "Acme")
    engine.dispose()
    return tenant


def _record(n: int, tenant_id: int, direction: str | None = None) -> CallRecord:
    return CallRecord(source="csta", started_at=T0 + timedelta(seconds=n), tenant_id=tenant_id,
                      link="pbx1", call_id=str(n), record_key=f"pbx1/{n}/0", direction=direction)


def _stored(url, tenant) -> list[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        keys = [c.record_key for c in calls.list_calls(conn, tenant)]
    engine.dispose()
    return keys


@pytest_twisted.inlineCallbacks
def test_records_of_calls_ending_together_share_one_transaction(database, tenant, url):
    batches = []
    record_many = database.recorder.record_many

    def spy(records):
        batches.append([r.record_key for r in records])
        return record_many(records)

    database.recorder.record_many = spy  # one call is one transaction (tests/db/test_spool.py)
    outcomes = yield DeferredList(
        [database.record_call(_record(n, tenant.id)) for n in (1, 2, 3, 1)],
        consumeErrors=True)
    assert [result for _, result in outcomes] == ["stored", "stored", "stored", "duplicate"]
    assert batches == [["pbx1/1/0", "pbx1/2/0", "pbx1/3/0", "pbx1/1/0"]]
    assert _stored(url, tenant) == ["pbx1/1/0", "pbx1/2/0", "pbx1/3/0"]


@pytest_twisted.inlineCallbacks
def test_a_record_refused_as_data_fails_alone(database, tenant, url):
    outcomes = yield DeferredList(
        [database.record_call(_record(1, tenant.id)),
         database.record_call(_record(2, tenant.id, direction="sideways")),
         database.record_call(_record(3, tenant.id))],
        consumeErrors=True)
    assert [ok for ok, _ in outcomes] == [True, False, True]
    assert "bad direction" in str(outcomes[1][1].value)
    assert _stored(url, tenant) == ["pbx1/1/0", "pbx1/3/0"]


@pytest_twisted.inlineCallbacks
def test_records_still_gathering_are_stored_when_the_server_stops(url, tenant, tmp_path):
    database = Database(url, reactor, spool_path=str(tmp_path / "calls.spool"))
    database.start()
    pending = database.record_call(_record(1, tenant.id))
    yield deferToThread(database.stop)
    assert _stored(url, tenant) == ["pbx1/1/0"]
    assert (yield pending) == "stored"
