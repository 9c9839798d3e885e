"""The database from the reactor: db/'s thread pool, with the server's error mapping.

Repository functions run on db.pool.DBThreadPool (one transaction each, off the reactor
thread). Screen-pop lookups have a pool of their own: on the shared pool a caller's lookup
waited behind the call-record and agent-state writes queued before it (on SQLite behind every
one, the shared pool having a single thread), which is what made the pop's p99. Reads never
block the writer (SQLite WAL, MariaDB READ COMMITTED), so the two pools do not wait on each
other either. Call records go through db.spool.DurableCallRecorder so none is lost while the
database is away (spooled to a local file, replayed by SpoolReplayer), gathered for
RECORD_BATCH_SECONDS and stored in one transaction: on MariaDB every commit is a log flush,
and a flush per call kept the disk busy under the pops' page reads (a read queued behind it
waited tens to hundreds of milliseconds on a loaded machine). Connection trouble becomes a
ServiceError, which the API answers as 503 unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from cti.errors import ServiceError
from db.engine import make_engine, make_reader_engine
from db.pool import DBThreadPool
from db.records import CallRecord
from db.spool import DurableCallRecorder, SpoolReplayer, is_unavailable

T = TypeVar("T")

LOOKUP_THREADS = 4
"""More than one, so one slow lookup (a cold page, a MariaDB hiccup) does not hold up the next
caller; four, because a lookup waiting on the disk or the network holds no GIL and no lock:
at 50 calls a second two threads keep up only while a lookup takes under 40 ms. A lookup of
45 ms (cold pages) made them fall behind for good: pops took 0.9 s, by when the agent's
phone was still busy with the call before and the next call was refused (`cti bench
screenpop`: missing 1,152 of 1,250); four threads popped all with p99 147 ms."""

RECORD_BATCH_SECONDS = 0.2
"""How long a finished call's record waits for others to share its transaction: ten calls at
50 calls a second, and a report is never more than a fraction of a second behind."""


def _separate_readers(engine: Any) -> bool:
    """An in-memory SQLite database exists once per connection: readers must share the pool."""
    return not (engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"))


class Database:
    def __init__(self, url: str, reactor: Any, threads_max: int | None = None,
                 spool_path: str | None = None) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.pool = DBThreadPool(self.engine, reactor, max_threads=threads_max, name="cti-db")
        # Its own engine too: sharing the writers' connection pool, the lookup threads got
        # overflow connections, opened and closed again around every lookup. An autocommit
        # reader: a lookup on MariaDB is its two statements, no pre-ping, COMMIT or ROLLBACK
        # round trip around them (lookup() retries once on a connection found dead).
        self.lookups = (DBThreadPool(make_reader_engine(url, LOOKUP_THREADS), reactor,
                                     max_threads=LOOKUP_THREADS, name="cti-db-lookup")
                        if _separate_readers(self.engine) else self.pool)
        self.recorder = DurableCallRecorder(self.engine, spool_path) if spool_path else None
        self.replayer = (SpoolReplayer(self.pool, self.recorder, clock=reactor)
                         if self.recorder is not None else None)
        self._reactor = reactor
        self._records: list[tuple[CallRecord, Deferred[str]]] = []
        self._records_due: Any = None

    def start(self) -> None:
        self.pool.start()
        self.lookups.start()
        if self.replayer is not None:
            self.replayer.start()

    def stop(self) -> None:
        """Store the call records still gathering (here and now: the threads are about to
        stop), then stop the threads, which finish the work queued."""
        if self._records_due is not None and self._records_due.active():
            self._records_due.cancel()
        self._records_due = None
        batch, self._records = self._records, []
        if batch:
            results = _store_batch(self.recorder, [record for record, _ in batch])
            self._reactor.callFromThread(_deliver, batch, results)
        if self.replayer is not None:
            self.replayer.stop()
        if self.lookups is not self.pool:
            self.lookups.stop()
        self.pool.stop()
        if self.recorder is not None:
            self.recorder.close()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """fn(connection, *args, **kwargs) in one transaction on a database thread."""
        return self.pool.run(fn, *args, **kwargs).addErrback(_unavailable)

    def lookup(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """fn(connection, ...) on the lookup pool: for reads a caller waits on (the
        screen-pop), which must not queue behind writes. No transaction around fn (each
        statement reads what is committed when it starts); fn must not write."""
        def again(failure: Failure) -> Any:
            if isinstance(failure.value, DBAPIError) and failure.value.connection_invalidated:
                return self.lookups.read(fn, *args, **kwargs)
            return failure

        return self.lookups.read(fn, *args, **kwargs).addErrback(again).addErrback(_unavailable)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """fn(engine, *args, **kwargs) on a database thread (migrations, bulk work)."""
        return self.pool.run_plain(fn, self.engine, *args, **kwargs).addErrback(_unavailable)

    def record_call(self, record: CallRecord) -> Deferred[str]:
        """Store a call record, or spool it while the database is unreachable; fires with
        "stored", "duplicate" or "spooled" once its batch is written."""
        if self.recorder is None:
            from db.calls import record_call

            return self.run(record_call, record).addCallback(
                lambda stored: "stored" if stored else "duplicate")
        stored: Deferred[str] = Deferred()
        self._records.append((record, stored))
        if self._records_due is None:
            self._records_due = self._reactor.callLater(RECORD_BATCH_SECONDS,
                                                        self._store_gathered)
        return stored

    def _store_gathered(self) -> None:
        self._records_due = None
        batch, self._records = self._records, []
        if not batch:
            return

        def failed(failure: Failure) -> None:
            for _, waiting in batch:
                waiting.errback(failure)

        d = self.pool.run_plain(_store_batch, self.recorder, [r for r, _ in batch])
        d.addErrback(_unavailable).addCallbacks(lambda results: _deliver(batch, results), failed)


def _deliver(batch: list[tuple[CallRecord, Deferred[str]]], results: list[str | Failure]) -> None:
    for (_, waiting), result in zip(batch, results, strict=True):
        if isinstance(result, Failure):
            waiting.errback(result)
        else:
            waiting.callback(result)


def _store_batch(recorder: DurableCallRecorder, records: list[CallRecord]) -> list[str | Failure]:
    """The batch in one transaction; if the database refuses one of its records as data, each
    record on its own, so only that one fails (and the others are stored)."""
    try:
        return recorder.record_many(records)
    except Exception as error:
        if is_unavailable(error):
            raise
    results: list[str | Failure] = []
    for record in records:
        try:
            results.append(recorder.record(record))
        except Exception:
            results.append(Failure())
    return results


def _unavailable(failure: Failure) -> Failure:
    exc = failure.value
    if isinstance(exc, OperationalError):
        raise ServiceError(f"database unavailable: {str(exc.orig).splitlines()[0]}") from exc
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        raise ServiceError("database connection lost; retry") from exc
    return failure
