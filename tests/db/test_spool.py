"""Call records survive a database outage: spooled locally, replayed in order, never doubled.

The outage is real. For MariaDB the engine talks through a loopback TCP proxy that the test cuts
(existing connections dropped, new ones closed at once) and restores; the shared server itself
is never touched. For SQLite another process-level connection holds an exclusive lock.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_twisted
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from twisted.internet import reactor, task
from twisted.internet.defer import succeed

from db import calls
from db.engine import make_engine
from db.pool import DBThreadPool
from db.records import CallRecord
from db.spool import (
    DUPLICATE,
    SPOOLED,
    STORED,
    DurableCallRecorder,
    Spool,
    SpoolReplayer,
    is_unavailable,
    record_to_json,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class TcpProxy:
    """Forwards loopback connections to `target` until cut; cut() drops every connection and
    refuses new ones (accepts and closes them) until restore()."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._cut = False
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="tcp-proxy").start()

    def cut(self) -> None:
        with self._lock:
            self._cut = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _close(sock)

    def restore(self) -> None:
        with self._lock:
            self._cut = False

    def close(self) -> None:
        self._closed = True
        self.cut()
        _close(self._listener)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refused = self._cut
            if refused:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        _close(src)
        _close(dst)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class SqliteLock:
    """Another connection holding SQLite's exclusive lock: writers get 'database is locked'."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    def cut(self) -> None:
        self._conn = sqlite3.connect(self.path, isolation_level=None)
        self._conn.execute("BEGIN EXCLUSIVE")

    def restore(self) -> None:
        if self._conn is not None:
            self._conn.execute("ROLLBACK")
            self._conn.close()
            self._conn = None

    close = restore


@pytest.fixture
def outage(backend, db_url) -> Iterator[tuple[str, object]]:
    """(url to use, switch with cut()/restore()) for the back end under test."""
    if backend == "sqlite":
        switch = SqliteLock(make_url(db_url).database)
        yield db_url, switch
    else:
        url = make_url(db_url)
        switch = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
        yield url.set(host="127.0.0.1", port=switch.port).render_as_string(hide_password=False), switch
    switch.close()


@pytest.fixture
def flaky_engine(outage):
    url, _ = outage
    engine = make_engine(url, connect_timeout=2, connect_args={"timeout": 0.2}
                         if url.startswith("sqlite") else {})
    yield engine
    engine.dispose()


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def monotonic():
    return FakeMonotonic()


@pytest.fixture
def recorder(flaky_engine, tmp_path, monotonic):
    recorder = DurableCallRecorder(flaky_engine, tmp_path / "spool" / "calls.jsonl",
                                   retry_interval=5, monotonic=monotonic)
    yield recorder
    recorder.close()


def _record(n: int, tenant_id: int) -> CallRecord:
    return CallRecord(source="csta", started_at=T0 + timedelta(seconds=n), tenant_id=tenant_id,
                      link="pbx1", call_id=str(n), record_key=f"pbx1/{n}/0")


def _stored_keys(engine, tenant):
    with engine.begin() as conn:
        return [c.record_key for c in calls.list_calls(conn, tenant)]


def test_records_go_to_the_spool_while_the_database_is_away_and_come_back_in_order(
        outage, recorder, flaky_engine, engine, acme, monotonic):
    _, switch = outage
    assert recorder.record(_record(1, acme.id)) == STORED
    switch.cut()
    try:
        assert [recorder.record(_record(n, acme.id)) for n in (2, 3, 4)] == [SPOOLED] * 3
        assert recorder.pending == 3
        with pytest.raises(SQLAlchemyError) as failure:
            recorder.replay()
        assert is_unavailable(failure.value)
        assert recorder.pending == 3
    finally:
        switch.restore()
    # Within the retry interval records keep queueing behind the spool, untried.
    assert recorder.record(_record(5, acme.id)) == SPOOLED
    assert _stored_keys(engine, acme) == ["pbx1/1/0"]
    monotonic.now += 5
    assert recorder.record(_record(6, acme.id)) == STORED
    assert recorder.pending == 0
    assert _stored_keys(engine, acme) == [f"pbx1/{n}/0" for n in range(1, 7)]
    with engine.begin() as conn:
        ids = [conn.exec_driver_sql(f"SELECT id FROM call_records WHERE record_key = 'pbx1/{n}/0'")
               .scalar() for n in range(1, 7)]
    assert ids == sorted(ids), "replayed records were stored out of order"


def test_a_replay_after_a_partial_write_stores_nothing_twice(recorder, engine, acme):
    for n in (1, 2):
        assert recorder.record(_record(n, acme.id)) == STORED
    # As if the process died after committing 1 and 2 but before emptying the spool.
    for n in (1, 2, 3):
        recorder.spool.append(record_to_json(_record(n, acme.id)))
    assert recorder.replay() == 1
    assert recorder.record(_record(3, acme.id)) == DUPLICATE
    assert _stored_keys(engine, acme) == ["pbx1/1/0", "pbx1/2/0", "pbx1/3/0"]


def test_a_record_the_database_refuses_is_set_aside_and_the_rest_replayed(recorder, engine, acme):
    for n in (1, 2, 3):
        record = _record(n, acme.id if n != 2 else 10**6)  # 2 names no tenant: refused
        recorder.spool.append(record_to_json(record))
    assert recorder.replay() == 2
    assert recorder.pending == 0
    assert _stored_keys(engine, acme) == ["pbx1/1/0", "pbx1/3/0"]
    [rejected] = recorder.rejected.read()
    assert rejected["record_key"] == "pbx1/2/0" and rejected["error"]


def test_a_batch_is_stored_in_one_transaction(recorder, engine, acme):
    commits = []

    def committed(conn):
        commits.append(conn)

    event.listen(recorder.engine, "commit", committed)
    try:
        assert recorder.record(_record(2, acme.id)) == STORED
        commits.clear()
        assert recorder.record_many([_record(n, acme.id) for n in (1, 2, 3)]) == [
            STORED, DUPLICATE, STORED]
        assert len(commits) == 1
    finally:
        event.remove(recorder.engine, "commit", committed)
    assert _stored_keys(engine, acme) == ["pbx1/1/0", "pbx1/2/0", "pbx1/3/0"]


def test_a_batch_with_a_record_the_database_refuses_stores_nothing_and_says_so(
        recorder, engine, acme):
    batch = [_record(1, acme.id), _record(2, 10**6)]  # 2 names no tenant: refused
    with pytest.raises(SQLAlchemyError) as failure:
        recorder.record_many(batch)
    assert not is_unavailable(failure.value)
    assert _stored_keys(engine, acme) == [] and recorder.pending == 0


def test_a_batch_goes_to_the_spool_while_the_database_is_away(
        outage, recorder, engine, acme, monotonic):
    _, switch = outage
    switch.cut()
    try:
        assert recorder.record_many([_record(n, acme.id) for n in (1, 2)]) == [SPOOLED] * 2
        assert recorder.record_many([_record(3, acme.id)]) == [SPOOLED]
    finally:
        switch.restore()
    monotonic.now += 5
    assert recorder.record_many([_record(4, acme.id)]) == [STORED]
    assert recorder.pending == 0
    assert _stored_keys(engine, acme) == [f"pbx1/{n}/0" for n in range(1, 5)]


def test_the_spool_outlives_the_process(outage, flaky_engine, engine, acme, tmp_path):
    _, switch = outage
    path = tmp_path / "calls.jsonl"
    first = DurableCallRecorder(flaky_engine, path)
    switch.cut()
    try:
        assert first.record(_record(1, acme.id)) == SPOOLED
    finally:
        first.close()
        switch.restore()
    second = DurableCallRecorder(flaky_engine, path)
    try:
        assert second.pending == 1
        assert second.replay() == 1
    finally:
        second.close()
    assert _stored_keys(engine, acme) == ["pbx1/1/0"]


@pytest_twisted.inlineCallbacks
def test_the_replayer_empties_the_spool_from_the_reactor_once_the_database_is_back(
        outage, recorder, flaky_engine, engine, acme):
    _, switch = outage
    pool = DBThreadPool(flaky_engine, reactor)
    pool.start()
    clock = task.Clock()
    replayer = SpoolReplayer(pool, recorder, interval=5, clock=clock)
    replayer.start()
    try:
        switch.cut()
        result = yield pool.run_plain(recorder.record, _record(1, acme.id))
        assert result == SPOOLED
        clock.advance(5)
        yield _settled(replayer)
        assert recorder.pending == 1
        switch.restore()
        clock.advance(5)
        yield _settled(replayer)
        assert recorder.pending == 0
    finally:
        switch.restore()
        replayer.stop()
        pool.stop()
    assert _stored_keys(engine, acme) == ["pbx1/1/0"]


def _settled(replayer):
    """The replay the last tick started (already fired if it is over)."""
    return replayer.last_run or succeed(None)


def test_a_torn_last_line_is_cut_off_and_earlier_records_kept(tmp_path):
    path = tmp_path / "spool.jsonl"
    spool = Spool(path)
    spool.append({"n": 1})
    spool.append({"n": 2})
    spool.close()
    with open(path, "ab") as f:
        f.write(b'{"n": 3, "tru')
    reopened = Spool(path)
    assert reopened.read() == [{"n": 1}, {"n": 2}]
    reopened.append({"n": 4})
    assert reopened.read() == [{"n": 1}, {"n": 2}, {"n": 4}]
    assert len(reopened) == 3
    reopened.close()
