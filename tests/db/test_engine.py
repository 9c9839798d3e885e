"""Each back end's engine is set up as this product needs it."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy.exc import IntegrityError

from cti.errors import CLIError
from db.engine import database_url, make_engine


def test_sqlite_runs_in_wal_mode_with_foreign_keys_enforced(sqlite_template, tmp_path):
    shutil.copyfile(sqlite_template, tmp_path / "cti.db")
    engine = make_engine(f"sqlite:///{tmp_path / 'cti.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with pytest.raises(IntegrityError):
            conn.exec_driver_sql("INSERT INTO skills (tenant_id, name) VALUES (424242, 'x')")
    engine.dispose()


def test_mysql_talks_utf8mb4_read_committed_and_pings_before_use(mysql_url):
    engine = make_engine(mysql_url)
    assert engine.pool._pre_ping and engine.pool._recycle > 0
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT @@character_set_client").scalar() == "utf8mb4"
        assert conn.exec_driver_sql("SELECT @@tx_isolation").scalar() == "READ-COMMITTED"
        with pytest.raises(IntegrityError):
            conn.exec_driver_sql("INSERT INTO skills (tenant_id, name) VALUES (424242, 'x')")
    engine.dispose()


def test_the_url_defaults_to_the_environment_then_cti_db(monkeypatch):
    monkeypatch.delenv("CTI_DATABASE_URL", raising=False)
    assert database_url() == "sqlite:///cti.db"
    monkeypatch.setenv("CTI_DATABASE_URL", "sqlite:///other.db")
    assert database_url() == "sqlite:///other.db"
    assert database_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_unsupported_or_malformed_urls_are_user_errors():
    with pytest.raises(CLIError, match="unsupported database"):
        make_engine("postgresql://localhost/cti")
    with pytest.raises(CLIError, match="bad database URL"):
        make_engine("not a url")
