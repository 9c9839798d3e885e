"""What a database server needs for a CTI server, read from the server itself (`cti db check`).

A screen-pop is a handful of index and row pages; on MariaDB every page missing from the InnoDB
buffer pool is a disk read (O_DIRECT), and a read queued behind the disk's writes can wait tens
to hundreds of milliseconds. The pool must hold the project's tables and indexes, which only
the server can say: information_schema gives their size, the server variables its settings.
Recommendations are pure functions of those figures, so they can be tested with any sizes.
SQLite has no server to tune: the engine (db.engine) sets WAL, mmap and the page cache itself,
and the operating system's page cache holds the file.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

MB = 1024 * 1024
POOL_STEP = 128 * MB
"""Buffer pool recommendations are whole multiples of InnoDB's default size (and so of any
power-of-two chunk size up to it)."""
GROWTH = 1.25
"""Room for a year's customers and history on top of today's data."""
CONNECTION_HEADROOM = 2
"""A restarted CTI server connects again before the server has timed out its old connections."""
STRICT_MODES = ("STRICT_TRANS_TABLES", "STRICT_ALL_TABLES")
MIN_MARIADB = (10, 6)
MIN_MYSQL = (8, 0)


@dataclass(frozen=True)
class Finding:
    """One setting: what the server has, what the CTI server needs, and why. `statement` is
    the SET GLOBAL that fixes it online (None when it needs a restart or a table rebuild),
    `persist` the my.cnf line that keeps it."""

    setting: str
    current: Any
    recommended: Any
    ok: bool
    why: str
    statement: str | None = None
    persist: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return f"{'ok' if self.ok else 'below'}: {self.setting} {self.why}"


@dataclass(frozen=True)
class Change:
    setting: str
    before: Any
    after: Any
    persist: str | None


def recommended_buffer_pool(data_bytes: int, chunk_bytes: int = 0) -> int:
    """Bytes of buffer pool for `data_bytes` of tables and indexes: the data plus a quarter,
    in whole POOL_STEPs, rounded up to the server's chunk size (0: the server sizes chunks
    itself, MariaDB 10.8+)."""
    wanted = max(1, math.ceil(data_bytes * GROWTH / POOL_STEP)) * POOL_STEP
    if chunk_bytes > 0:
        wanted = math.ceil(wanted / chunk_bytes) * chunk_bytes
    return wanted


def recommended_max_connections(servers: int, per_server: int) -> int:
    return servers * per_server * CONNECTION_HEADROOM


def buffer_pool_finding(pool_bytes: int, data_bytes: int, chunk_bytes: int = 0) -> Finding:
    recommended = recommended_buffer_pool(data_bytes, chunk_bytes)
    ok = pool_bytes >= data_bytes * GROWTH
    data = f"data+indexes {_mb(data_bytes)}"
    if ok:
        why = (f"{_mb(pool_bytes)} >= {data} plus a quarter: lookups are served from memory")
    else:
        why = (f"{_mb(pool_bytes)} < {data} plus a quarter: screen-pop lookups read disk; "
               f"recommend >= {_mb(recommended)} (SET GLOBAL innodb_buffer_pool_size="
               f"{recommended}, and in my.cnf [mysqld] to keep it; up to 70% of a dedicated "
               "server's memory)")
    return Finding("innodb_buffer_pool_size", pool_bytes, recommended, ok, why,
                   statement=None if ok else f"SET GLOBAL innodb_buffer_pool_size={recommended}",
                   persist=f"innodb_buffer_pool_size = {recommended // MB}M")


def flush_log_finding(value: int) -> Finding:
    ok = value == 1
    why = ("1: every committed call record is on disk" if ok else
           f"{value}: a crash loses up to a second of committed call records, which the CTI "
           "server's spool no longer holds; recommend 1 (the server batches its records, so "
           "the flushes are few)")
    return Finding("innodb_flush_log_at_trx_commit", value, 1, ok, why,
                   statement=None if ok else "SET GLOBAL innodb_flush_log_at_trx_commit=1",
                   persist="innodb_flush_log_at_trx_commit = 1")


def max_connections_finding(value: int, servers: int, per_server: int) -> Finding:
    recommended = recommended_max_connections(servers, per_server)
    ok = value >= recommended
    base = (f"{servers} CTI server(s) x {per_server} connections, twice over for restarts: "
            f"{recommended}")
    why = (f"{value} >= {base}" if ok else
           f"{value} < {base}: a server gets 'Too many connections'; recommend >= {recommended}")
    return Finding("max_connections", value, recommended, ok, why,
                   statement=None if ok else f"SET GLOBAL max_connections={recommended}",
                   persist=f"max_connections = {recommended}")


def charset_finding(database_charset: str, other_tables: list[str]) -> Finding:
    ok = database_charset == "utf8mb4" and not other_tables
    if ok:
        why = "utf8mb4: any name, note or emoji a customer record holds"
    else:
        wrong = ", ".join(other_tables[:5]) + (" ..." if len(other_tables) > 5 else "")
        why = (f"database {database_charset}, tables not utf8mb4: {wrong or 'none'}; names "
               "outside the Basic Multilingual Plane fail to store; recommend ALTER DATABASE "
               "... CHARACTER SET utf8mb4 and ALTER TABLE ... CONVERT TO CHARACTER SET "
               "utf8mb4 (rewrites the tables: not applied online)")
    return Finding("character_set", database_charset, "utf8mb4", ok, why)


def sql_mode_finding(sql_mode: str) -> Finding:
    modes = {m.strip() for m in sql_mode.split(",") if m.strip()}
    ok = bool(modes & set(STRICT_MODES))
    why = ("strict: bad values are refused, never silently truncated" if ok else
           "not strict: a value too long for its column is cut short with only a warning; "
           "recommend adding STRICT_TRANS_TABLES (global: affects every application on the "
           "server, so not applied here)")
    return Finding("sql_mode", sql_mode, "STRICT_TRANS_TABLES", ok, why,
                   persist=None if ok else
                   f"sql_mode = {','.join(sorted(modes | {'STRICT_TRANS_TABLES'}))}")


def version_finding(version: str) -> Finding:
    mariadb = "mariadb" in version.lower()
    numbers = tuple(int(part) for part in version.split("-")[0].split(".")[:2]
                    if part.isdigit())
    minimum = MIN_MARIADB if mariadb else MIN_MYSQL
    name = "MariaDB" if mariadb else "MySQL"
    wanted = f"{name} {minimum[0]}.{minimum[1]}"
    ok = numbers >= minimum
    why = (f"{version} >= {wanted} (the tests run on MariaDB 10.11)" if ok else
           f"{version} < {wanted}: out of maintenance; the tests run on MariaDB 10.11")
    return Finding("version", version, wanted, ok, why)


def check_mysql(conn: Connection, servers: int, per_server: int) -> list[Finding]:
    """Findings for the MySQL/MariaDB database `conn` is connected to."""
    row = conn.execute(text(
        "SELECT VERSION(), @@innodb_buffer_pool_size, @@innodb_buffer_pool_chunk_size, "
        "@@innodb_flush_log_at_trx_commit, @@max_connections, @@sql_mode")).one()
    version, pool, chunk, flush, max_connections, sql_mode = row
    charset, other_tables = _charsets(conn)
    return [
        buffer_pool_finding(int(pool), data_size(conn), int(chunk)),
        flush_log_finding(int(flush)),
        max_connections_finding(int(max_connections), servers, per_server),
        charset_finding(charset, other_tables),
        sql_mode_finding(sql_mode),
        version_finding(version),
    ]


def data_size(conn: Connection) -> int:
    """Bytes of the tables and indexes of the connected database (InnoDB's estimate)."""
    return int(conn.execute(text(
        "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
        "WHERE table_schema = DATABASE()")).scalar_one())


def sizes_mb(conn: Connection) -> dict[str, int]:
    """{"buffer_pool_mb", "data_mb"} of a MySQL/MariaDB connection: what a benchmark ran on."""
    pool = int(conn.execute(text("SELECT @@innodb_buffer_pool_size")).scalar_one())
    return {"buffer_pool_mb": round(pool / MB), "data_mb": round(data_size(conn) / MB)}


def _charsets(conn: Connection) -> tuple[str, list[str]]:
    charset = conn.execute(text(
        "SELECT default_character_set_name FROM information_schema.schemata "
        "WHERE schema_name = DATABASE()")).scalar_one()
    others = conn.execute(text(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
        "AND table_type = 'BASE TABLE' AND table_collation NOT LIKE 'utf8mb4%' "
        "ORDER BY table_name")).scalars().all()
    return charset, list(others)


def check_sqlite(conn: Connection, path: str | None) -> list[Finding]:
    """Findings for a SQLite database: what db.engine set on this connection and what the
    operating system can cache of the file."""
    journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    if not path or path == ":memory:":
        return [Finding("journal_mode", journal, journal, True,
                        "in-memory database: one connection's, nothing on disk to tune")]
    mmap = int(conn.exec_driver_sql("PRAGMA mmap_size").scalar_one())
    cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())
    cache_bytes = -cache * 1024 if cache < 0 else cache * int(
        conn.exec_driver_sql("PRAGMA page_size").scalar_one())
    size = os.path.getsize(path) if os.path.exists(path) else 0
    wal = journal.lower() == "wal"
    findings = [
        Finding("journal_mode", journal, "wal", wal,
                "wal: lookups never wait for the writer (set by db.engine on every connection)"
                if wal else f"{journal}: readers wait for every write; db.engine sets WAL on "
                "connect, so another program changed it or the file is read-only"),
        Finding("mmap_size", mmap, mmap, True,
                f"{_mb(mmap)} mapped of a {_mb(size)} file (db.engine): "
                + ("all of it read without a syscall a page" if mmap >= size else
                   "the rest is read through the operating system's page cache")),
        Finding("cache_size", cache_bytes, cache_bytes, True,
                f"{_mb(cache_bytes)} private page cache per connection (db.engine); SQLite has "
                "no server setting to size, the operating system caches the file"),
    ]
    available = _memory_available()
    if available is not None:
        fits = size * GROWTH <= available
        findings.append(Finding(
            "page_cache", available, math.ceil(size * GROWTH), fits,
            f"{_mb(available)} of memory available for the operating system's cache >= the "
            f"{_mb(size)} file plus a quarter" if fits else
            f"{_mb(available)} of memory available < the {_mb(size)} file plus a quarter: "
            "lookups read disk; give the machine more memory or move to MariaDB"))
    return findings


def _memory_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def check(engine: Engine, servers: int = 1, per_server: int = 1) -> list[Finding]:
    """Findings for the database of `engine`: `servers` CTI servers using `per_server`
    connections each (MySQL/MariaDB; SQLite has one server by construction)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return check_sqlite(conn, engine.url.database)
        return check_mysql(conn, servers, per_server)


def apply(engine: Engine, findings: list[Finding], wait_seconds: float = 600.0) -> list[Change]:
    """Run the online fixes (SET GLOBAL) of the findings below recommendation and read the
    values back; a buffer pool resize is waited for. Nothing that needs a restart."""
    changes = []
    with engine.connect() as conn:
        for finding in findings:
            if finding.ok or finding.statement is None:
                continue
            conn.execute(text(finding.statement))
            if finding.setting == "innodb_buffer_pool_size":
                wait_for_resize(conn, wait_seconds)
            after = conn.execute(text(f"SELECT @@{finding.setting}")).scalar_one()
            changes.append(Change(finding.setting, finding.current, after, finding.persist))
    return changes


def resize_status(conn: Connection) -> str:
    row = conn.execute(text("SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status'")).first()
    return row[1] if row else ""


def pool_bytes_in_use(conn: Connection) -> int:
    """The pages InnoDB has actually allocated (the variable changes at SET GLOBAL, the pages
    once the resize thread has run)."""
    pages = conn.execute(text("SHOW STATUS LIKE 'Innodb_buffer_pool_pages_total'")).first()
    page_size = conn.execute(text("SELECT @@innodb_page_size")).scalar_one()
    return int(pages[1]) * int(page_size) if pages else 0


def wait_for_resize(conn: Connection, wait_seconds: float, settle_seconds: float = 10.0) -> str:
    """Wait until InnoDB's resize is over: no resize in progress and the allocated pages within
    5% of the size asked for (they count a little under it). A status that reads finished for
    `settle_seconds` while the pages disagree is taken as finished too (a server counting pages
    otherwise); still running after `wait_seconds`: TimeoutError."""
    target = int(conn.execute(text("SELECT @@innodb_buffer_pool_size")).scalar_one())
    deadline = time.monotonic() + wait_seconds
    finished_since = None
    while True:
        status = resize_status(conn)
        running = bool(status) and not any(word in status.lower()
                                           for word in ("complete", "not needed"))
        now = time.monotonic()
        if not running:
            finished_since = finished_since or now
            if (abs(pool_bytes_in_use(conn) - target) <= target * 0.05
                    or now - finished_since >= settle_seconds):
                return status
        else:
            finished_since = None
        if now > deadline:
            raise TimeoutError(f"buffer pool resize still running: {status}")
        time.sleep(0.2)


def _mb(size: int) -> str:
    return f"{round(size / MB)} MB"
