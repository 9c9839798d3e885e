"""`cti bench screenpop-db` and `cti bench screenpop` share one cached data set per back end and
customer count: whichever runs first generates it, the other reuses it as it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from cti.cli import main
from db import customers, tenants
from db.engine import make_engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def mysql_server_url() -> URL:
    url = os.environ.get("CTI_TEST_MYSQL_URL")
    if not url:
        pytest.skip("CTI_TEST_MYSQL_URL is not set: MariaDB half skipped (CI sets it)")
    return make_url(url)


def _screenpop(*argv: str) -> dict:
    """The end-to-end benchmark in a child process (it runs and stops a reactor of its own)."""
    done = subprocess.run(
        [sys.executable, "-m", "cti.cli", "bench", "screenpop", "--calls", "5", "--rate", "10",
         "--agents", "4", "--json", *argv],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _screenpop_db(capsys, *argv: str) -> dict:
    assert main(["bench", "screenpop-db", "--json", "--lookups", "20", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_end_to_end_bench_reuses_the_lookup_bench_data_on_sqlite(tmp_path, capsys):
    cache = ["--customers", "120", "--cache-dir", str(tmp_path)]
    assert _screenpop_db(capsys, *cache, "--no-mysql")["sqlite"]["generated"] is True
    pops = _screenpop(*cache)
    assert pops["generated"] == 0 and pops["found"] == 5
    assert _screenpop_db(capsys, *cache, "--no-mysql")["sqlite"]["generated"] is False
    engine = make_engine(f"sqlite:///{tmp_path / 'screenpop-120.db'}")
    try:
        with engine.connect() as conn:
            assert [t.code for t in tenants.list_tenants(conn)] == ["bench"]
            assert customers.count_customers(conn, tenants.get_tenant(conn, "bench")) == 120
    finally:
        engine.dispose()


def test_the_lookup_bench_reuses_the_end_to_end_bench_data_on_sqlite(tmp_path, capsys):
    cache = ["--customers", "90", "--cache-dir", str(tmp_path)]
    assert _screenpop(*cache)["generated"] == 90
    assert _screenpop_db(capsys, *cache, "--no-mysql")["sqlite"]["generated"] is False


def test_both_benches_share_the_mariadb_database(mysql_server_url, tmp_path, capsys):
    server = mysql_server_url.render_as_string(hide_password=False)
    database = mysql_server_url.set(database="cti_bench_screenpop_110")
    try:
        first = _screenpop_db(capsys, "--customers", "110", "--cache-dir", str(tmp_path),
                              "--mysql-url", server)
        assert first["mysql"]["generated"] is True and first["mysql"]["found"] > 0
        pops = _screenpop("--customers", "110", "--database",
                          database.render_as_string(hide_password=False))
        assert pops["database"] == "mysql" and pops["generated"] == 0 and pops["found"] == 5
        again = _screenpop_db(capsys, "--customers", "110", "--cache-dir", str(tmp_path),
                              "--mysql-url", server)
        assert again["mysql"]["generated"] is False
    finally:
        admin = make_engine(mysql_server_url)
        with admin.begin() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS cti_bench_screenpop_110"))
        admin.dispose()
