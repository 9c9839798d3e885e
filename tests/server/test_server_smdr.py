"""`cti server` with [[links]] kind = "smdr": call records from a PBX's SMDR port.

Real parts: an in-process server, the PBX's port as a real pty pair or a loopback terminal
server (serial+tcp://), the real sample lines, a real SQLite file or the real MariaDB; the
MariaDB outage is a loopback proxy cutting every connection (tests/db's TcpProxy).
"""

from __future__ import annotations

import os
import pty
from datetime import UTC, datetime

import pytest
import pytest_twisted
from sqlalchemy import select
from sqlalchemy.engine import make_url
from twisted.internet import defer, reactor
from twisted.internet.protocol import Factory, Protocol

from cti.errors import CLIError
from cti.server import testing
from cti.server.config import LinkConfig, parse
from db import models as m
from drivers.serial.smdr import read_bytes
from tests.db.test_spool import TcpProxy
from tests.server.test_server_mariadb import mariadb_url  # noqa: F401 - shared fixture

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "drivers", "serial", "fixtures")


def fixture_lines(name: str) -> list[bytes]:
    with open(os.path.join(FIXTURES, name), "rb") as handle:
        return [line for line in handle.read().splitlines(keepends=True) if list(read_bytes(line))]


def raws(lines: list[bytes]) -> list[str]:
    return [record.raw for _, record in read_bytes(b"".join(lines))]


def smdr_link(url: str, **options) -> LinkConfig:
    return LinkConfig(name="pbx1-smdr", url=url, devices=(), timezone="Europe/Berlin",
                      tenant="acme", retry_seconds=0.2, options={"kind": "smdr", **options})


def rows_of(running) -> defer.Deferred:
    def query(conn):
        return list(conn.execute(select(m.CallRecord).order_by(m.CallRecord.id)))

    return running.server.database.run(query)


def sleep(seconds: float) -> defer.Deferred:
    d = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


@defer.inlineCallbacks
def until(predicate, timeout: float = 20.0, what: str = "condition"):
    """Polls `predicate` (which may return a Deferred) until true; bounded."""
    for _ in range(int(timeout / 0.05)):
        try:
            if (yield defer.maybeDeferred(predicate)):
                return
        except Exception:
            pass
        yield sleep(0.05)
    raise AssertionError(f"{what} not met within {timeout} s")


class TerminalServer(Protocol):
    """A terminal server port that replays what it has buffered to every new connection, as
    some do after a reconnect: the keys must make that replay store nothing twice."""

    def __init__(self, box: TerminalServerBox) -> None:
        self.box = box

    def connectionMade(self) -> None:
        self.box.connections.append(self)
        self.transport.write(b"".join(self.box.buffer))


class TerminalServerBox:
    def __init__(self) -> None:
        self.buffer: list[bytes] = []
        self.connections: list[TerminalServer] = []
        self.port = reactor.listenTCP(0, Factory.forProtocol(lambda: TerminalServer(self)),
                                      interface="127.0.0.1")

    @property
    def url(self) -> str:
        return f"serial+tcp://127.0.0.1:{self.port.getHost().port}"

    def send(self, lines: list[bytes]) -> None:
        self.buffer += lines
        self.connections[-1].transport.write(b"".join(lines))

    def drop(self) -> None:
        self.connections[-1].transport.loseConnection()

    def close(self) -> defer.Deferred:
        for connection in self.connections:
            connection.transport.loseConnection()
        return self.port.stopListening()


def test_smdr_link_options_are_checked_when_the_server_is_built(tmp_path):
    from cti.server.app import Server

    config = testing.server_config(f"sqlite:///{tmp_path / 'x.db'}",
                                   [smdr_link("serial+tcp://127.0.0.1:9", format="meridian")],
                                   database_spool=str(tmp_path / "s.spool"))
    with pytest.raises(CLIError, match="link pbx1-smdr: unknown SMDR format 'meridian'"):
        Server(config, reactor)
    config = testing.server_config(f"sqlite:///{tmp_path / 'x.db'}",
                                   [smdr_link("serial+tcp://127.0.0.1:9", baud=9600)],
                                   database_spool=str(tmp_path / "s.spool"))
    with pytest.raises(CLIError, match="unknown option 'baud' for an SMDR link"):
        Server(config, reactor)


def test_the_toml_of_an_smdr_link():
    config = parse({"links": [{"name": "cdr", "url": "serial:///dev/ttyS1?baud=9600",
                               "kind": "smdr", "format": "avaya-ipo", "tenant": "acme",
                               "timezone": "Europe/Berlin"}]})
    [link] = config.links
    assert link.options == {"kind": "smdr", "format": "avaya-ipo"}
    assert link.timezone == "Europe/Berlin" and link.tenant == "acme"


@pytest_twisted.inlineCallbacks
def test_records_from_a_serial_port_reach_the_tenants_call_records_in_utc(tmp_path):
    lines = fixture_lines("avaya-ip-office.csv")
    master, slave = pty.openpty()
    running = yield testing.start_server(
        tmp_path, links=[smdr_link(f"serial://{os.ttyname(slave)}?baud=9600",
                                   format="avaya-ipo")])
    try:
        [smdr] = running.server.smdr_links
        yield smdr.started
        # Opening a serial port flushes its input: write once the port is held.
        yield until(lambda: smdr.listener.receiver is not None
                    and smdr.listener.receiver.transport is not None, what="port open")
        yield sleep(0.2)
        os.write(master, b"".join(lines))
        yield until(lambda: rows_of(running).addCallback(lambda rows: len(rows) == 4),
                    what="four call records")
        rows = yield rows_of(running)
        tenant = yield running.services.tenant("acme")
    finally:
        yield running.stop()
        os.close(master)
        os.close(slave)
    assert [row.raw for row in rows] == raws(lines)
    assert {(row.tenant_id, row.source, row.link) for row in rows} == {
        (tenant.id, "smdr:avaya-ipo", "pbx1-smdr")}
    # 09:28:41 in Berlin on 28 June (summer time) is 07:28:41 UTC.
    assert rows[0].started_at == datetime(2008, 6, 28, 7, 28, 41, tzinfo=UTC)


@pytest_twisted.inlineCallbacks
def test_a_terminal_server_on_mariadb_going_away_mid_stream_loses_and_doubles_nothing(
        tmp_path, mariadb_url):  # noqa: F811
    lines = fixture_lines("siemens-hipath-serial.txt")
    url = make_url(mariadb_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 3306))
    terminal = TerminalServerBox()
    config = testing.server_config(
        url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False),
        [smdr_link(terminal.url)], database_upgrade=True,
        database_spool=str(tmp_path / "calls.spool"))
    running = yield testing.start_server(config=config)
    recorder = running.server.database.recorder
    try:
        # The tenant arrives after the server: the link waits for it before reading.
        yield running.server.database.run(testing.demo_tenant)
        [smdr] = running.server.smdr_links
        yield smdr.started
        yield until(lambda: terminal.connections, what="the port opened")
        terminal.send(lines[:10])
        yield until(lambda: rows_of(running).addCallback(lambda rows: len(rows) == 10),
                    what="ten records stored")
        proxy.cut()
        try:
            terminal.send(lines[10:20])
            yield until(lambda: recorder.pending == 10, what="ten records spooled")
        finally:
            proxy.restore()
        # The port drops and is reopened; the terminal server replays its whole buffer.
        terminal.drop()
        yield until(lambda: len(terminal.connections) == 2, what="the port reopened")
        terminal.send(lines[20:])
        yield until(lambda: rows_of(running).addCallback(lambda rows: len(rows) == 27),
                    timeout=30, what="all 27 records stored")
        yield sleep(0.3)
        rows = yield rows_of(running)
    finally:
        yield running.stop()
        yield terminal.close()
        proxy.close()
    assert [row.raw for row in rows] == raws(lines)
    assert len({row.record_key for row in rows}) == 27
    # 10 + 10 + the 20 replayed + 7 lines read, all handed to the recorder; the replay stored
    # nothing twice (as duplicates at once, or spooled and dropped on replay by their key).
    assert sum(smdr.ingest.outcomes.values()) == 47
    assert set(smdr.ingest.outcomes) <= {"stored", "duplicate", "spooled"}
    assert recorder.pending == 0
    # 10.04.19 23:19:06 in Berlin (summer time, UTC+2) is 21:19:06 UTC.
    assert rows[0].started_at == datetime(2019, 4, 10, 21, 19, 6, tzinfo=UTC)
