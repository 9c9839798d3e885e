"""`cti smdr listen URL --database URL`: live call records into the call-record table.

Real parts: the command runs as a user runs it (a process), reading a real pty or a loopback
terminal server (serial+tcp://), writing into a real SQLite file and the real MariaDB. The
database outage is real too (tests/db's helpers: SQLite's exclusive lock held by another
connection, MariaDB behind a loopback proxy that cuts every connection).
"""

from __future__ import annotations

import os
import pty
import socket
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from cti.numbers import DialPlan
from db import models as m
from db import tenants
from db.engine import make_engine
from db.records import Tenant
from drivers.serial.smdr import read_bytes
from tests.db.conftest import (  # noqa: F401 - the database fixtures of tests/db, shared
    backend,
    db_url,
    engine,
    mysql_server_url,
    mysql_url,
    sqlite_template,
)
from tests.db.test_spool import SqliteLock, TcpProxy
from tests.drivers.serial.test_smdr_command import cti_process, wait_until_opened

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "drivers", "serial", "fixtures")


def fixture(name: str) -> bytes:
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return handle.read()


def record_lines(data: bytes) -> list[bytes]:
    """The capture's lines that are call records, as sent (with their line ends)."""
    lines = data.splitlines(keepends=True)
    return [line for line in lines if list(read_bytes(line))]


@pytest.fixture
def acme(engine: Engine) -> Tenant:  # noqa: F811
    with engine.begin() as conn:
        return tenants.create_tenant(conn, "acme", "Acme GmbH",
                                     dial_plan=DialPlan.for_country("49"),
                                     time_zone="Europe/Berlin")


def stored_rows(engine: Engine) -> list:  # noqa: F811
    with engine.connect() as conn:
        return list(conn.execute(select(m.CallRecord).order_by(m.CallRecord.id)))


def listen(url: str, database: str, spool, *extra: str):
    return cti_process("smdr", "listen", url, "--database", database, "--tenant", "acme",
                       "--timezone", "Europe/Berlin", "--spool", str(spool), "--link", "pbx1",
                       *extra)


def until(predicate, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


def finished(process, timeout: float = 40.0) -> tuple[str, str]:
    try:
        out, err = process.communicate(timeout=timeout)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return out.decode(), err.decode()


def test_records_from_a_serial_port_are_stored_in_utc_and_a_second_read_stores_nothing(
        db_url, engine, acme, tmp_path):  # noqa: F811
    data = fixture("avaya-ip-office.csv")
    master, slave = pty.openpty()
    try:
        for run in ("first", "again"):
            process = listen(f"serial://{os.ttyname(slave)}?baud=9600", db_url,
                             tmp_path / "calls.spool", "--count", "4", "--seconds", "30")
            wait_until_opened(process.pid, os.ttyname(slave))
            os.write(master, data)
            out, err = finished(process)
            assert process.returncode == 0, err
            assert out == ""
            if run == "first":
                assert "4 stored, 0 duplicate, 0 spooled" in err
            else:
                assert "0 stored, 4 duplicate, 0 spooled" in err
    finally:
        os.close(master)
        os.close(slave)
    rows = stored_rows(engine)
    assert [row.raw for row in rows] == [line.decode().rstrip() for line in data.splitlines()]
    first = rows[0]
    assert first.source == "smdr:avaya-ipo" and first.tenant_id == acme.id
    assert first.link == "pbx1" and first.direction == "in"
    # 09:28:41 in Berlin on 28 June (summer time, UTC+2) is 07:28:41 UTC.
    assert first.started_at == datetime(2008, 6, 28, 7, 28, 41, tzinfo=UTC)
    parsed = [record for _, record in read_bytes(data)]
    assert [(r.trunk, r.extension, r.number, r.direction, r.ring_seconds, r.duration_seconds)
            for r in rows] == [
        (p.trunk, p.extension, p.number, p.direction, p.ring_seconds, p.duration_seconds)
        for p in parsed]
    assert (first.extension, first.number) == ("4324", "8004206")
    assert len({row.record_key for row in rows}) == 4


@pytest.fixture
def outage(backend, db_url):  # noqa: F811
    """(URL the command uses, switch with cut()/restore()), as tests/db/test_spool.py."""
    if backend == "sqlite":
        switch = SqliteLock(make_url(db_url).database)
        yield db_url, switch
    else:
        url = make_url(db_url)
        switch = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
        yield (url.set(host="127.0.0.1", port=switch.port).render_as_string(hide_password=False),
               switch)
    switch.close()


class TerminalServer:
    """A serial-to-TCP terminal server on loopback: the test decides when each line goes."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(30)
        self.port = self._listener.getsockname()[1]
        self.connection: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        try:
            self.connection, _ = self._listener.accept()
        except OSError:
            pass

    def send(self, lines: list[bytes]) -> None:
        until(lambda: self.connection is not None, what="the listener connecting")
        self.connection.sendall(b"".join(lines))

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self._listener.close()


def spooled(path) -> int:
    try:
        with open(path, "rb") as handle:
            return handle.read().count(b"\n")
    except FileNotFoundError:
        return 0


def test_a_database_outage_mid_stream_loses_nothing_and_doubles_nothing(
        outage, engine, acme, tmp_path):  # noqa: F811
    url, switch = outage
    lines = record_lines(fixture("siemens-hipath-serial.txt"))
    assert len(lines) == 27
    spool = tmp_path / "calls.spool"
    server = TerminalServer()
    process = listen(f"serial+tcp://127.0.0.1:{server.port}", url, spool, "--count",
                     str(len(lines)), "--seconds", "60", "--retry-seconds", "0.3")
    try:
        server.send(lines[:10])
        until(lambda: len(stored_rows(engine)) == 10, what="the first ten records stored")
        switch.cut()
        try:
            server.send(lines[10:20])
            until(lambda: spooled(spool) == 10, what="ten records spooled")
        finally:
            switch.restore()
        server.send(lines[20:])
        out, err = finished(process)
    finally:
        server.close()
        switch.restore()
    assert process.returncode == 0, err
    # Those spooled were replayed before the command ended: nothing left waiting.
    assert "0 duplicate" in err and "waiting" not in err, err
    rows = stored_rows(engine)
    # Every record once, in the order the PBX printed them (identical lines stay apart).
    assert [row.raw for row in rows] == raws_of(lines)
    assert len({row.record_key for row in rows}) == 27
    assert all(row.tenant_id == acme.id and row.source == "smdr:siemens-hipath" for row in rows)
    # 10.04.19 23:19:06 in Berlin (summer time, UTC+2) is 21:19:06 UTC.
    assert rows[0].started_at == datetime(2019, 4, 10, 21, 19, 6, tzinfo=UTC)
    assert spooled(spool) == 0


def test_without_a_database_the_records_are_printed_as_before(tmp_path):
    server = TerminalServer()
    process = cti_process("smdr", "listen", f"serial+tcp://127.0.0.1:{server.port}", "--json",
                          "--count", "2", "--seconds", "30")
    try:
        server.send(record_lines(fixture("avaya-ip-office.csv"))[:2])
        out, err = finished(process)
    finally:
        server.close()
    assert process.returncode == 0, err
    assert len(out.splitlines()) == 2 and '"format": "avaya-ipo"' in out


@pytest.mark.parametrize(("args", "message"), [
    (["--timezone", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
    (["--database", "postgresql://x/y"], "unsupported database"),
    (["--database", "mysql+pymysql://root@127.0.0.1:1/cti"], "Can't connect"),
    (["--tenant", "nobody"], "no tenant 'nobody'"),
])
def test_bad_zone_url_tenant_or_an_unreachable_database_is_a_one_line_error(
        args, message, tmp_path, sqlite_template):  # noqa: F811
    database = f"sqlite:///{sqlite_template}"
    process = cti_process("smdr", "listen", "serial+tcp://127.0.0.1:9", "--database", database,
                          "--spool", str(tmp_path / "s.spool"), "--seconds", "20", *args)
    out, err = finished(process)
    assert process.returncode != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("cti: error: ") and message in err, err


def test_with_reconnect_a_reopened_port_replaying_its_buffer_stores_nothing_twice(
        sqlite_template, tmp_path):  # noqa: F811
    database = f"sqlite:///{tmp_path / 'cti.db'}"
    with open(sqlite_template, "rb") as src, open(tmp_path / "cti.db", "wb") as dst:
        dst.write(src.read())
    lines = record_lines(fixture("avaya-ip-office.csv"))
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(30)

    def terminal_server() -> None:
        first, _ = listener.accept()
        first.sendall(b"".join(lines[:2]))
        time.sleep(0.3)
        first.close()
        again, _ = listener.accept()
        with again:
            again.sendall(b"".join(lines))
            time.sleep(5)

    thread = threading.Thread(target=terminal_server, daemon=True)
    thread.start()
    process = cti_process("smdr", "listen", f"serial+tcp://127.0.0.1:{listener.getsockname()[1]}",
                          "--database", database, "--spool", str(tmp_path / "s.spool"),
                          "--reconnect", "0.2", "--count", "6", "--seconds", "30")
    try:
        out, err = finished(process)
    finally:
        listener.close()
    assert process.returncode == 0, err
    assert "4 stored, 2 duplicate, 0 spooled" in err
    assert "reopening in 0.2 s" in err
    stored = make_engine(database)
    try:
        assert [row.raw for row in stored_rows(stored)] == raws_of(lines)
    finally:
        stored.dispose()


def raws_of(lines: list[bytes]) -> list[str]:
    return [record.raw for _, record in read_bytes(b"".join(lines))]
