"""Durable call records: nothing lost while the database is away, nothing stored twice.

A call record that cannot reach the database goes to a local spool, an append-only file of JSON
lines, each fsynced before record() returns. Once the spool holds anything, later records queue
behind it, so records reach the database in the order they happened. replay() stores the spool
in order and empties it only after every record is committed; a replay cut short is simply done
again, and the unique record_key makes the records that did reach the database a no-op.

A crash in the middle of an append leaves a torn last line without its newline: that record was
never acknowledged, so it is cut off when the spool is opened again. A spooled record the
database refuses as data (not as unreachable) goes to SPOOL.rejected for an operator instead of
blocking the records behind it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.logger import Logger
from twisted.python.failure import Failure

from db.calls import record_call
from db.records import CallRecord

STORED, DUPLICATE, SPOOLED = "stored", "duplicate", "spooled"

# MySQL client/server error codes that mean "the server is not there (right now)".
_MYSQL_UNAVAILABLE = {1040, 1053, 1205, 1213, 2002, 2003, 2005, 2006, 2013, 2014, 2045, 2055}
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open", "disk i/o error", "database is busy")
_TIMES = ("started_at", "answered_at", "ended_at")
_BATCH = 200
_log = Logger()


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` says the database cannot be reached, as opposed to a bad record."""
    if isinstance(error, sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if not isinstance(error, sa_exc.DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error, sa_exc.InterfaceError):
        return True
    if not isinstance(error, sa_exc.OperationalError):
        return False
    orig = error.orig
    if isinstance(orig, sqlite3.Error):
        return any(text in str(orig).lower() for text in _SQLITE_UNAVAILABLE)
    code = orig.args[0] if orig is not None and orig.args else None
    return code in _MYSQL_UNAVAILABLE


class Spool:
    """An append-only file of JSON objects, one a line, each on disk before append() returns."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "a+b")  # noqa: SIM115 - held open for the spool's life
        self._cut_torn_tail()
        self._count = sum(1 for _ in self._lines())

    def __len__(self) -> int:
        return self._count

    def append(self, item: dict[str, Any]) -> None:
        line = json.dumps(item, separators=(",", ":"), sort_keys=True).encode("utf-8") + b"\n"
        self._file.write(line)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._count += 1

    def read(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._lines()]

    def clear(self) -> None:
        self._file.truncate(0)
        self._file.flush()
        os.fsync(self._file.fileno())
        self._count = 0

    def close(self) -> None:
        self._file.close()

    def _lines(self) -> list[bytes]:
        self._file.seek(0)
        lines = [line for line in self._file.read().split(b"\n") if line.strip()]
        self._file.seek(0, os.SEEK_END)
        return lines

    def _cut_torn_tail(self) -> None:
        self._file.seek(0)
        data = self._file.read()
        if data and not data.endswith(b"\n"):
            self._file.truncate(data.rfind(b"\n") + 1)
            self._file.flush()
            os.fsync(self._file.fileno())
        self._file.seek(0, os.SEEK_END)


class DurableCallRecorder:
    """Stores call records, spooling them locally while the database is unreachable.

    After a failure, record() spools without trying the database for `retry_interval` seconds,
    so a dead server costs each call record an fsync, not a connect timeout; replay() (the
    SpoolReplayer's periodic retry) always tries. Thread-safe; meant to run on the database
    thread pool (DBThreadPool.run_plain).
    """

    def __init__(
        self,
        engine: Engine,
        spool_path: str | os.PathLike[str],
        *,
        retry_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.spool = Spool(spool_path)
        self.rejected = Spool(f"{os.fspath(spool_path)}.rejected")
        self._lock = threading.Lock()
        self._retry_interval = retry_interval
        self._monotonic = monotonic
        self._down_until = float("-inf")

    @property
    def pending(self) -> int:
        return len(self.spool)

    def record(self, record: CallRecord) -> str:
        """STORED, DUPLICATE (record_key already stored) or SPOOLED (database unreachable)."""
        with self._lock:
            if self._monotonic() < self._down_until:
                self.spool.append(record_to_json(record))
                return SPOOLED
            try:
                if len(self.spool):
                    self._replay()
                with self.engine.begin() as conn:
                    return STORED if record_call(conn, record) else DUPLICATE
            except Exception as error:
                if not is_unavailable(error):
                    raise
                self._down_until = self._monotonic() + self._retry_interval
                self.spool.append(record_to_json(record))
                return SPOOLED

    def record_many(self, records: Sequence[CallRecord]) -> list[str]:
        """record() for each of `records`, all in one transaction: one commit (one log flush)
        for a batch instead of one per call. Raises if the database refuses one of them as
        data (nothing of the batch stored then), so the caller can fall back to record()."""
        with self._lock:
            if self._monotonic() >= self._down_until:
                try:
                    if len(self.spool):
                        self._replay()
                    with self.engine.begin() as conn:
                        return [STORED if record_call(conn, r) else DUPLICATE for r in records]
                except Exception as error:
                    if not is_unavailable(error):
                        raise
                    self._down_until = self._monotonic() + self._retry_interval
            for record in records:
                self.spool.append(record_to_json(record))
            return [SPOOLED] * len(records)

    def replay(self) -> int:
        """Store every spooled record in order; returns how many were newly stored. Raises the
        database error if it is still unreachable (the spool is then kept whole)."""
        with self._lock:
            return self._replay()

    def close(self) -> None:
        self.spool.close()
        self.rejected.close()

    def _replay_one_by_one(self, batch: list[CallRecord]) -> int:
        """A batch the database refused as data: store its records one at a time and set the
        ones it refuses aside in the rejected file (kept for an operator, never dropped), so
        one bad record cannot block the spool for ever."""
        stored = 0
        for record in batch:
            try:
                with self.engine.begin() as conn:
                    stored += record_call(conn, record)
            except Exception as error:
                if is_unavailable(error):
                    raise
                self.rejected.append({**record_to_json(record), "error": str(error).splitlines()[0]})
                _log.error("call record {key} refused by the database, kept in {path}: {error}",
                           key=record.record_key, path=str(self.rejected.path), error=error)
        return stored

    def _replay(self) -> int:
        records = [record_from_json(item) for item in self.spool.read()]
        stored = 0
        try:
            for start in range(0, len(records), _BATCH):
                batch = records[start:start + _BATCH]
                try:
                    with self.engine.begin() as conn:
                        stored += sum(record_call(conn, r) for r in batch)
                except Exception as error:
                    if is_unavailable(error):
                        raise
                    stored += self._replay_one_by_one(batch)
        except Exception as error:
            if is_unavailable(error):
                self._down_until = self._monotonic() + self._retry_interval
            raise
        self.spool.clear()
        self._down_until = float("-inf")
        return stored


class SpoolReplayer:
    """Retries the spool from the reactor every `interval` seconds while it holds records."""

    def __init__(self, pool: Any, recorder: DurableCallRecorder, interval: float = 5.0,
                 clock: Any = None) -> None:
        self._pool = pool
        self._recorder = recorder
        self._loop = LoopingCall(self._tick)
        if clock is not None:
            self._loop.clock = clock
        self._interval = interval
        self.last_run: Deferred[None] | None = None

    def start(self) -> None:
        self._loop.start(self._interval, now=False)

    def stop(self) -> None:
        if self._loop.running:
            self._loop.stop()

    def _tick(self) -> Deferred[None] | None:
        if not self._recorder.pending:
            return None
        d = self._pool.run_plain(self._recorder.replay)
        d.addCallbacks(lambda _stored: None, self._failed)
        self.last_run = d
        return d

    def _failed(self, failure: Failure) -> None:
        # Keep retrying whatever went wrong: the records stay in the spool until stored.
        if not is_unavailable(failure.value):
            _log.failure("replaying the call record spool failed", failure)


def record_to_json(record: CallRecord) -> dict[str, Any]:
    data = dataclasses.asdict(record)
    for name in _TIMES:
        if data[name] is not None:
            data[name] = data[name].isoformat()
    return data


def record_from_json(data: dict[str, Any]) -> CallRecord:
    data = dict(data)
    for name in _TIMES:
        if data.get(name) is not None:
            data[name] = datetime.fromisoformat(data[name])
    return CallRecord(**data)
