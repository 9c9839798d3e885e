"""Every repository test runs twice: on SQLite and on the real MariaDB of CTI_TEST_MYSQL_URL.

The MariaDB half migrates one throwaway database per run (unique name, dropped at the end) and
empties its tables after each test; the SQLite half copies a migrated file per test. Without
CTI_TEST_MYSQL_URL the MariaDB half is skipped, saying so.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import URL, make_url

from cti.numbers import DialPlan
from db import tenants
from db.engine import make_engine
from db.migrate import upgrade
from db.models import Base
from db.passwords import hash_password
from db.records import Tenant

MYSQL_ENV = "CTI_TEST_MYSQL_URL"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("db-template") / "template.db")
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def mysql_server_url() -> URL:
    url = os.environ.get(MYSQL_ENV)
    if not url:
        pytest.skip(f"{MYSQL_ENV} is not set: MariaDB half skipped (CI sets it)")
    return make_url(url)


@pytest.fixture(scope="session")
def mysql_url(mysql_server_url: URL) -> Iterator[URL]:
    """A migrated throwaway database on the shared MariaDB server, dropped after the run."""
    name = f"cti_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = make_engine(mysql_server_url)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    url = mysql_server_url.set(database=name)
    try:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "mysql"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a migrated, empty database of the test's back end."""
    if backend == "sqlite":
        path = tmp_path / "cti.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("mysql_url")
    yield url.render_as_string(hide_password=False)
    _empty_tables(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _empty_tables(url: URL) -> None:
    """Every row hangs off a tenant (ON DELETE CASCADE) except call records and audit entries
    that name none, so three statements empty the database; the check keeps that true."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in ("call_records", "audit_log", "tenants"):
            conn.execute(Base.metadata.tables[table].delete())
        tables = Base.metadata.sorted_tables
        filled = conn.execute(select(*(select(t).exists().label(t.name) for t in tables))).one()
        left = {t.name for t, full in zip(tables, filled, strict=True) if full}
    engine.dispose()
    assert not left, f"rows left behind in {sorted(left)}"


@pytest.fixture
def cheap_hash():
    """scrypt at a tiny cost for test users: same format and verification, little CPU time."""
    return lambda password: hash_password(password, n=16, r=1, p=1)


@pytest.fixture
def acme(engine: Engine) -> Tenant:
    """A German tenant (trunk prefix 0, international prefix 00)."""
    with engine.begin() as conn:
        return tenants.create_tenant(
            conn, "acme", "Acme GmbH", dial_plan=DialPlan.for_country("49"),
            time_zone="Europe/Berlin",
        )


@pytest.fixture
def globex(engine: Engine) -> Tenant:
    """A North American tenant (trunk prefix 1, international prefix 011, 10-digit numbers)."""
    with engine.begin() as conn:
        return tenants.create_tenant(
            conn, "globex", "Globex Corp", dial_plan=DialPlan.for_country("1"),
            time_zone="America/New_York",
        )
