"""The database from the reactor: db/'s synchronous repositories on a dedicated thread pool.

Every call runs one repository function inside one transaction on a pool thread and returns a
Deferred (the Buildbot pattern of field-notes.md), so a slow query never stalls the reactor.
Connection trouble becomes a ServiceError, which the API answers as 503 unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from twisted.internet import threads
from twisted.internet.defer import Deferred
from twisted.python.threadpool import ThreadPool

from cti.errors import ServiceError
from db.engine import make_engine

T = TypeVar("T")


class Database:
    def __init__(self, url: str, reactor: Any, threads_max: int = 4) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._reactor = reactor
        self._pool = ThreadPool(minthreads=1, maxthreads=threads_max, name="cti-db")
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._pool.start()
            self._started = True

    def stop(self) -> None:
        if self._started:
            self._pool.stop()
            self._started = False
        self.engine.dispose()

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """fn(connection, *args, **kwargs) in one transaction on a database thread."""
        return threads.deferToThreadPool(self._reactor, self._pool, self._transaction, fn,
                                         args, kwargs)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Deferred[T]:
        """fn(engine, *args, **kwargs) on a database thread (migrations, bulk work)."""
        return threads.deferToThreadPool(self._reactor, self._pool, self._guarded,
                                         lambda: fn(self.engine, *args, **kwargs))

    def _transaction(self, fn: Callable[..., T], args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> T:
        def work() -> T:
            with self.engine.begin() as connection:
                return fn(connection, *args, **kwargs)

        return self._guarded(work)

    @staticmethod
    def _guarded(work: Callable[[], T]) -> T:
        try:
            return work()
        except OperationalError as exc:
            raise ServiceError(f"database unavailable: {str(exc.orig).splitlines()[0]}") from exc
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise ServiceError("database connection lost; retry") from exc
            raise
