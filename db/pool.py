"""SQLAlchemy from Twisted: a dedicated thread pool, as Buildbot's master/buildbot/db/pool.py.

SQLAlchemy and its drivers block, so every database call runs on this pool's threads, never on
the reactor thread. A call is a repository function ``fn(conn, *args)``; it runs in one
transaction (committed on return, rolled back on error) and its plain-data result comes back
through a Deferred. The pool starts with the reactor and stops at reactor shutdown.

SQLite gets one thread: it has a single writer anyway, and one thread means no "database is
locked" waits between our own threads. MySQL/MariaDB gets as many as the engine pools.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorCore, IReactorThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from db.engine import is_mysql

T = TypeVar("T")


class DBThreadPool:
    """Runs repository functions on dedicated threads and hands back Deferreds."""

    def __init__(
        self,
        engine: Engine,
        reactor: Any = None,
        *,
        max_threads: int | None = None,
        name: str = "db",
    ) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        self.engine = engine
        self._reactor: IReactorCore | IReactorThreads = reactor
        if max_threads is None:
            max_threads = min(engine.pool.size(), 8) if is_mysql(engine) else 1
        self._pool = ThreadPool(minthreads=1, maxthreads=max_threads, name=name)
        self._running = False
        self._shutdown_trigger = None
        reactor.callWhenRunning(self.start)

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        self._pool.start()
        self._shutdown_trigger = self._reactor.addSystemEventTrigger(
            "during", "shutdown", self._stop_at_shutdown
        )

    def stop(self) -> None:
        """Finish queued work, join the threads and release the engine's connections."""
        if self._shutdown_trigger is not None:
            self._reactor.removeSystemEventTrigger(self._shutdown_trigger)
            self._shutdown_trigger = None
        self._stop_at_shutdown()

    def _stop_at_shutdown(self) -> None:
        self._shutdown_trigger = None
        if self._running:
            self._running = False
            self._pool.stop()
        self.engine.dispose()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """``fn(conn, *args, **kwargs)`` in one transaction on a database thread."""
        return deferToThreadPool(self._reactor, self._pool, self._transact, fn, args, kwargs)

    def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """``fn(conn, *args, **kwargs)`` on a database thread with no transaction begun or
        ended around it: with an engine from db.engine.make_reader_engine, the statements fn
        runs are all the round trips it costs. fn must not write."""
        return deferToThreadPool(self._reactor, self._pool, self._read, fn, args, kwargs)

    def run_plain(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """``fn(*args, **kwargs)`` on a database thread, for callers that manage their own
        transactions (the durable call recorder, bulk loads)."""
        return deferToThreadPool(self._reactor, self._pool, fn, *args, **kwargs)

    def _read(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        conn: Connection
        with self.engine.connect() as conn:
            return fn(conn, *args, **kwargs)

    def _transact(
        self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        conn: Connection
        with self.engine.begin() as conn:
            return fn(conn, *args, **kwargs)
