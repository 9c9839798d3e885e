"""Engines for the two supported back ends, each set up the way it has to be for this product.

SQLite (the embedded default): WAL so readers never wait for the writer, foreign keys on (off
by default in SQLite), a busy timeout instead of instant "database is locked", memory-mapped
reads. MySQL/MariaDB
(production, through pymysql): utf8mb4, pre-ping and recycle so a server restart or an idle
timeout costs one retry instead of an error, READ COMMITTED to avoid gap-lock stalls between
CTI servers sharing one database.
"""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from cti.errors import CLIError

DEFAULT_URL = "sqlite:///cti.db"
ENV_URL = "CTI_DATABASE_URL"


def database_url(explicit: str | None = None) -> str:
    """The URL to use: the explicit one, else $CTI_DATABASE_URL, else sqlite:///cti.db."""
    return explicit or os.environ.get(ENV_URL) or DEFAULT_URL


def parse_url(url: str | URL) -> URL:
    """A SQLAlchemy URL for a supported back end, or CLIError saying what is wrong with it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CLIError(f"bad database URL {str(url)!r}") from None
    if parsed.get_backend_name() not in ("sqlite", "mysql", "mariadb"):
        raise CLIError(
            f"unsupported database {parsed.get_backend_name()!r} (use sqlite:/// or mysql+pymysql://)"
        )
    return parsed


def create_database(url: str | URL) -> None:
    """CREATE DATABASE IF NOT EXISTS (utf8mb4) for a MySQL/MariaDB URL; SQLite needs nothing.

    Lets the first `cti db upgrade` (or a benchmark) start from a bare server account.
    Connection failures propagate as SQLAlchemy errors for the caller to word.
    """
    parsed = parse_url(url)
    if parsed.get_backend_name() == "sqlite":
        return
    if not parsed.database:
        raise CLIError(f"{parsed.render_as_string()} names no database: add /NAME to the URL")
    server = make_engine(parsed._replace(database=None))
    quoted = "`" + parsed.database.replace("`", "``") + "`"
    try:
        with server.begin() as conn:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS {quoted} "
                              "CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    finally:
        server.dispose()


def make_engine(url: str | URL | None = None, *, connect_timeout: int = 5, **kwargs: Any) -> Engine:
    """An engine for `url` (default: database_url()) with the settings of its back end."""
    parsed = parse_url(url if url is not None else database_url())
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, **kwargs)
    return _mysql_engine(parsed, connect_timeout, **kwargs)


def _sqlite_engine(url: URL, **kwargs: Any) -> Engine:
    kwargs.setdefault("connect_args", {}).setdefault("timeout", 5)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if url.database and url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Reads through the OS page cache without a syscall per page, and a larger private
            # cache: the screen-pop touches a few dozen pages scattered over a big file.
            cursor.execute(f"PRAGMA mmap_size={256 * 1024 * 1024}")
            cursor.execute("PRAGMA cache_size=-16384")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return engine


def _mysql_engine(url: URL, connect_timeout: int, **kwargs: Any) -> Engine:
    if "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", connect_timeout)
    connect_args.setdefault("read_timeout", 30)
    connect_args.setdefault("write_timeout", 30)
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_recycle", 1800)
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    return create_engine(url, **kwargs)


def make_reader_engine(url: str | URL, pool_size: int) -> Engine:
    """An engine for reads a caller waits on (the screen-pop), used through
    DBThreadPool.read: autocommit, so a lookup costs its own statements' round trips and no
    more (no COMMIT after it, no ROLLBACK when its connection goes back to the pool), and no
    pre-ping (the caller retries once on a connection found dead). Each statement reads the
    data committed when it starts."""
    return make_engine(url, pool_size=pool_size, pool_pre_ping=False,
                       isolation_level="AUTOCOMMIT", skip_autocommit_rollback=True,
                       pool_reset_on_return=None)


def is_mysql(engine: Engine) -> bool:
    return engine.dialect.name in ("mysql", "mariadb")
