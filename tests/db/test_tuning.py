"""db.tuning: the recommendations as pure functions of given sizes and settings, and the findings
read from a real SQLite file and the real MariaDB server (whose global settings are shared:
nothing here changes them)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from db import tuning
from db.engine import make_engine
from db.tuning import MB, Finding

GB = 1024 * MB


@pytest.mark.parametrize(("data", "chunk", "expected"), [
    (724 * MB, 0, 1 * GB),            # the 1M-customer bench data: 905 MB with growth -> 1 GB
    (0, 0, 128 * MB),                 # an empty database still gets InnoDB's default
    (102 * MB, 0, 128 * MB),          # 127.5 MB with growth fits in one step
    (103 * MB, 0, 256 * MB),          # 128.75 MB does not
    (100 * MB, 96 * MB, 192 * MB),    # 128 MB rounded up to the server's chunk size
    (724 * MB, 128 * MB, 1 * GB),     # already a multiple of the chunk
])
def test_the_buffer_pool_holds_the_data_plus_a_quarter_in_whole_steps(data, chunk, expected):
    assert tuning.recommended_buffer_pool(data, chunk) == expected


def test_a_pool_smaller_than_the_data_is_below_recommendation_and_says_how_to_fix_it():
    finding = tuning.buffer_pool_finding(128 * MB, 724 * MB)
    assert not finding.ok and finding.current == 128 * MB and finding.recommended == GB
    assert finding.statement == f"SET GLOBAL innodb_buffer_pool_size={GB}"
    assert finding.persist == "innodb_buffer_pool_size = 1024M"
    assert finding.line().startswith("below: innodb_buffer_pool_size 128 MB < data+indexes "
                                     "724 MB plus a quarter: screen-pop lookups read disk; "
                                     "recommend >= 1024 MB")


def test_a_pool_holding_the_data_with_room_to_grow_is_enough():
    assert tuning.buffer_pool_finding(GB, 724 * MB).ok
    assert tuning.buffer_pool_finding(GB, 819 * MB).ok
    assert not tuning.buffer_pool_finding(GB, 820 * MB).ok   # 1025 MB with growth


def test_connections_are_counted_per_cti_server_twice_over():
    assert tuning.recommended_max_connections(servers=3, per_server=7) == 42
    low = tuning.max_connections_finding(41, servers=3, per_server=7)
    assert not low.ok and low.statement == "SET GLOBAL max_connections=42"
    assert tuning.max_connections_finding(42, servers=3, per_server=7).ok


@pytest.mark.parametrize(("value", "ok"), [(1, True), (2, False), (0, False)])
def test_call_records_are_flushed_at_every_commit(value, ok):
    finding = tuning.flush_log_finding(value)
    assert finding.ok is ok and finding.recommended == 1
    assert (finding.statement is None) is ok


@pytest.mark.parametrize(("mode", "ok"), [
    ("STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION", True),
    ("STRICT_ALL_TABLES", True),
    ("NO_ENGINE_SUBSTITUTION", False),
    ("", False),
])
def test_sql_mode_must_be_strict_and_is_never_set_globally(mode, ok):
    finding = tuning.sql_mode_finding(mode)
    assert finding.ok is ok and finding.statement is None


def test_tables_outside_utf8mb4_are_named_and_never_rebuilt_online():
    assert tuning.charset_finding("utf8mb4", []).ok
    finding = tuning.charset_finding("latin1", ["customers", "tickets"])
    assert not finding.ok and finding.statement is None
    assert "customers, tickets" in finding.why


@pytest.mark.parametrize(("version", "ok"), [
    ("10.11.19-MariaDB-0+deb12u1", True), ("10.6.5-MariaDB", True), ("10.4.32-MariaDB", False),
    ("8.0.36", True), ("5.7.44-log", False),
])
def test_old_server_releases_are_below_recommendation(version, ok):
    assert tuning.version_finding(version).ok is ok


def test_sqlite_reports_what_the_engine_configures(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'cti.db'}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
        findings = {f.setting: f for f in tuning.check(engine)}
    finally:
        engine.dispose()
    assert findings["journal_mode"].ok and findings["journal_mode"].current == "wal"
    assert findings["mmap_size"].current == 256 * MB
    assert findings["cache_size"].current == 16 * MB
    assert findings["page_cache"].ok and findings["page_cache"].current > 0


def test_an_in_memory_sqlite_database_has_nothing_to_tune():
    engine = make_engine("sqlite://")
    try:
        findings = tuning.check(engine)
    finally:
        engine.dispose()
    assert [f.setting for f in findings] == ["journal_mode"] and findings[0].ok


@pytest.fixture
def mysql_engine(mysql_url):
    engine = make_engine(mysql_url)
    yield engine
    engine.dispose()


def _server(engine, expression: str):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT {expression}")).scalar_one()


def test_mariadb_findings_are_read_from_the_server(mysql_engine):
    findings = {f.setting: f for f in tuning.check(mysql_engine, servers=2, per_server=7)}
    assert list(findings) == ["innodb_buffer_pool_size", "innodb_flush_log_at_trx_commit",
                              "max_connections", "character_set", "sql_mode", "version"]
    pool = findings["innodb_buffer_pool_size"]
    data = int(_server(mysql_engine, "SUM(data_length + index_length) FROM "
                       "information_schema.tables WHERE table_schema = DATABASE()"))
    chunk = int(_server(mysql_engine, "@@innodb_buffer_pool_chunk_size"))
    assert data > 0 and pool.current == int(_server(mysql_engine, "@@innodb_buffer_pool_size"))
    assert pool.recommended == tuning.recommended_buffer_pool(data, chunk)
    assert pool.ok is (pool.current >= data * tuning.GROWTH)
    assert findings["max_connections"].current == int(_server(mysql_engine, "@@max_connections"))
    assert findings["max_connections"].recommended == 28
    assert findings["innodb_flush_log_at_trx_commit"].current == int(
        _server(mysql_engine, "@@innodb_flush_log_at_trx_commit"))
    assert findings["sql_mode"].current == _server(mysql_engine, "@@sql_mode")
    assert findings["version"].current == _server(mysql_engine, "VERSION()")
    assert findings["character_set"].current == "utf8mb4" and findings["character_set"].ok


def test_the_benchmarks_sizes_are_the_servers(mysql_engine):
    with mysql_engine.connect() as conn:
        sizes = tuning.sizes_mb(conn)
        assert sizes == {
            "buffer_pool_mb": round(int(_server(mysql_engine, "@@innodb_buffer_pool_size")) / MB),
            "data_mb": round(tuning.data_size(conn) / MB),
        }


def test_applying_the_value_in_force_changes_nothing(mysql_engine):
    """The apply path end to end on the shared server: SET GLOBAL to the size already in force,
    wait for InnoDB, read it back unchanged."""
    current = int(_server(mysql_engine, "@@innodb_buffer_pool_size"))
    same = Finding("innodb_buffer_pool_size", current, current, False, "test",
                   statement=f"SET GLOBAL innodb_buffer_pool_size={current}",
                   persist=f"innodb_buffer_pool_size = {current // MB}M")
    changes = tuning.apply(mysql_engine, [same, tuning.flush_log_finding(1)])
    assert [(c.setting, c.before, int(c.after)) for c in changes] == [
        ("innodb_buffer_pool_size", current, current)]
    assert int(_server(mysql_engine, "@@innodb_buffer_pool_size")) == current


def test_findings_within_recommendation_are_not_applied(mysql_engine):
    findings = [f for f in tuning.check(mysql_engine) if f.ok]
    assert findings and tuning.apply(mysql_engine, findings) == []
