"""The write-through of call contexts (cti/server/calls.py CallContexts) against a real SQLite
database on the server's thread pool: what a restart reads back is merged with what the call
gathered meanwhile, and an ended, disposed call leaves no row behind."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

import pytest
import pytest_twisted
from sqlalchemy import event, func, select
from twisted.internet import reactor, task
from twisted.internet.threads import deferToThread

from cti import events as ev
from cti.server.calls import ENDED_RETENTION, CallContexts, LinkCalls
from cti.server.database import Database
from cti.server.testing import wait_for
from db import call_context as db_context
from db import migrate, tenants
from db import models as m
from db.call_context import CallContext, ContextNote
from db.engine import make_engine

T = 1_795_424_400.0


@pytest.fixture
def database(tmp_path):
    url = f"sqlite:///{os.path.join(str(tmp_path), 'cti.db')}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        tenant = tenants.create_tenant(conn, "acme", "Acme")
        db_context.save_context(conn, tenant, CallContext(
            link="pbx1", call_id="C1", call_ids=("C0",), data={"order": "A-17", "qty": 1},
            notes=(ContextNote(T, "1001", "typed before the restart"),)))
    database = Database(url, reactor)
    database.start()
    yield database, engine, tenant
    pytest_twisted.blockon(deferToThread(database.stop))
    engine.dispose()


def _rebuilt(calls: LinkCalls, call_id: str) -> None:
    """The call as a new server's snapshot makes it: its ID and its devices, nothing else."""
    calls.apply(ev.Event(ev.SNAPSHOT_CALL, T + 60, call_id=call_id, link="pbx1",
                         parties=(ev.Party(call_id, "1001", ev.CONNECTED),)))


def _contexts(database, calls: LinkCalls, clock=reactor) -> CallContexts:
    return CallContexts(database, clock, calls.find, lambda call: None,
                        lambda tenant, found: [calls.restore_context(c) for c in found])


def _note_written_at(db, now: float) -> CallContexts:
    """A note on the rebuilt call C1 at `now`, its write under way: the tenant's first."""
    clock = task.Clock()
    clock.advance(now)
    calls = LinkCalls()
    calls.add_link("pbx1", ["1001"])
    contexts = _contexts(db, calls, clock)
    _rebuilt(calls, "C1")
    calls.add_note("C1", now, "1001", "a note")
    contexts.save("acme", calls.live("C1"))
    clock.advance(contexts.flush_seconds)
    return contexts


@pytest_twisted.inlineCallbacks
def test_a_note_typed_before_the_stored_context_is_read_back_is_merged_not_lost(database):
    db, engine, tenant = database
    calls = LinkCalls()
    calls.add_link("pbx1", ["1001"])
    contexts = _contexts(db, calls)
    _rebuilt(calls, "C1")
    release = threading.Event()
    busy = db.run(lambda conn: release.wait(10))
    try:
        # Another call's read is under way, so C1's read and its save go out together.
        contexts.restore("acme", "pbx1", ["C9"])
        contexts.restore("acme", "pbx1", ["C1"])
        calls.attach_data("C1", {"qty": 2})
        calls.add_note("C1", T + 90, "1001", "typed during the restart")
        contexts.save("acme", calls.live("C1"))
        assert not contexts.idle
    finally:
        release.set()
    yield busy
    yield wait_for(lambda: contexts.idle)

    call = calls.live("C1")
    assert call.data == {"order": "A-17", "qty": 2}, "what the call gathered since wins"
    # The model keeps notes in the order they reached it (a restored one after a newer one).
    assert {n.text for n in call.notes} == {"typed before the restart",
                                            "typed during the restart"}
    with engine.begin() as conn:
        [stored] = db_context.load_contexts(conn, tenant, "pbx1", ["C0"])
    assert stored.data == {"order": "A-17", "qty": 2}
    assert {n.text for n in stored.notes} == {"typed before the restart",
                                              "typed during the restart"}
    assert stored.ids == ("C0", "C1")


@pytest_twisted.inlineCallbacks
def test_an_ended_call_keeps_its_row_until_its_disposition(database):
    db, engine, tenant = database
    calls = LinkCalls()
    calls.add_link("pbx1", ["1001"])
    contexts = _contexts(db, calls)
    _rebuilt(calls, "C1")
    contexts.restore("acme", "pbx1", ["C1"])
    yield wait_for(lambda: contexts.idle)
    [record] = calls.apply(ev.Event(ev.CONNECTION_CLEARED, T + 120, call_id="C1",
                                    device="1001", link="pbx1"))
    contexts.end("acme", record)
    yield wait_for(lambda: contexts.idle)
    with engine.begin() as conn:
        assert db_context.load_contexts(conn, tenant, "pbx1", ["C1"]) == []
        assert conn.execute(select(func.count()).select_from(m.CallContext)).scalar_one() == 1

    contexts.disposed("acme", record)
    yield wait_for(lambda: contexts.idle)
    with engine.begin() as conn:
        assert conn.execute(select(func.count()).select_from(m.CallContext)).scalar_one() == 0


@pytest_twisted.inlineCallbacks
def test_rows_of_calls_ended_long_ago_go_with_the_next_write_of_their_tenant(database):
    db, engine, tenant = database
    now = time.time()
    with engine.begin() as conn:
        for call_id, ended in (("OLD", now - ENDED_RETENTION - 60), ("RECENT", now - 60)):
            db_context.save_context(conn, tenant, CallContext(link="pbx1", call_id=call_id,
                                                              data={"n": 1}))
            db_context.end_context(conn, tenant, "pbx1", [call_id],
                                   datetime.fromtimestamp(ended, UTC))
    contexts = _note_written_at(db, now)
    yield wait_for(lambda: contexts.idle)
    with engine.begin() as conn:
        left = conn.execute(select(m.CallContext.call_id).order_by(m.CallContext.call_id))
        assert left.scalars().all() == ["C1", "RECENT"]


@pytest_twisted.inlineCallbacks
def test_many_old_rows_go_a_chunk_per_transaction_until_none_is_left(database, monkeypatch):
    """Rows of a busy hour long past are not deleted in one long transaction beside the
    screen-pop lookups, and the writes go on chunk after chunk without waiting EXPIRE_EVERY."""
    db, engine, tenant = database
    monkeypatch.setattr(db_context, "EXPIRE_CHUNK", 3)
    now = time.time()
    ended = datetime.fromtimestamp(now - ENDED_RETENTION - 60, UTC)
    with engine.begin() as conn:
        for n in range(8):
            db_context.save_context(conn, tenant, CallContext(link="pbx1", call_id=f"OLD{n}"))
            db_context.end_context(conn, tenant, "pbx1", [f"OLD{n}"], ended)
    deletes: list[int] = []

    def count(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("DELETE FROM CALL_CONTEXTS "):
            deletes.append(len(parameters))

    event.listen(db.engine, "before_cursor_execute", count)
    contexts = _note_written_at(db, now)
    try:
        yield wait_for(lambda: contexts.idle)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert deletes == [3, 3, 2]
    assert contexts.writes == 3, "the note's write with the first chunk, then one per chunk"
    assert contexts._expiring == set()
    with engine.begin() as conn:
        left = conn.execute(select(m.CallContext.call_id)).scalars().all()
    assert left == ["C1"]


@pytest_twisted.inlineCallbacks
def test_a_batch_the_database_refuses_is_dropped_not_retried_forever(database):
    """A missing table is no outage: retrying every few seconds would never end."""
    db, engine, tenant = database
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE call_context_ids")
    calls = LinkCalls()
    calls.add_link("pbx1", ["1001"])
    contexts = _contexts(db, calls)
    _rebuilt(calls, "C1")
    calls.add_note("C1", T, "1001", "a note")
    contexts.save("acme", calls.live("C1"))
    yield wait_for(lambda: contexts.failures == 1 and contexts.idle)
    assert contexts._timer is None, "no retry is scheduled"
