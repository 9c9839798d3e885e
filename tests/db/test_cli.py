"""`cti db ...` and `cti bench screenpop-db`: what a user types, what they see, exit statuses."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

import db.seed
from cti.cli import main
from db import customers, tenants
from db.engine import make_engine
from db.migrate import head_revision


def test_upgrade_builds_an_empty_database_then_says_it_is_current(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["db", "upgrade", "--database", url]) == 0
    head = head_revision()
    assert f"migrated from empty to {head}" in capsys.readouterr().out
    assert main(["db", "upgrade", "--database", url]) == 0
    assert f"already at revision {head}" in capsys.readouterr().out


def test_the_database_url_comes_from_the_environment(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CTI_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["db", "upgrade"]) == 0
    assert (tmp_path / "env.db").exists()


def test_commands_on_an_unmigrated_database_say_what_to_do(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    assert main(["db", "seed", "--demo", "--database", url]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run `cti db upgrade` first" in err


def test_unreachable_or_unsupported_databases_fail_in_one_line(capsys):
    assert main(["db", "upgrade", "--database", "mysql+pymysql://root@127.0.0.1:1/x"]) == 1
    assert main(["db", "upgrade", "--database", "postgresql://localhost/x"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert "Can't connect" in err[0] and "unsupported database 'postgresql'" in err[1]
    assert len(err) == 2


def test_seed_prints_the_demo_logins(db_url, capsys, monkeypatch, cheap_hash):
    monkeypatch.setattr(db.seed, "hash_password", cheap_hash)
    assert main(["db", "seed", "--demo", "--customers", "20", "--database", db_url]) == 0
    out = capsys.readouterr().out
    assert "acme     1001             agent1001" in out and "globex-super" in out
    assert main(["db", "seed", "--demo", "--database", db_url]) == 1
    assert "already present" in capsys.readouterr().err


def test_import_reports_bad_lines_and_export_writes_the_good_ones(db_url, engine, acme,
                                                                   tmp_path, capsys):
    source = tmp_path / "crm.csv"
    source.write_text("name,phone\nBob,030 1234567\n,030 7654321\nEve,no number\n",
                      encoding="utf-8")
    assert main(["db", "import-customers", str(source), "--tenant", "acme",
                 "--database", db_url]) == 1
    captured = capsys.readouterr()
    assert captured.out.strip() == "imported 1 customers into acme, skipped 2"
    assert captured.err.splitlines() == [f"{source}:3: skipped: name is empty",
                                         f"{source}:4: skipped: not a phone number: 'no number'"]
    out = tmp_path / "out.csv"
    assert main(["db", "export-customers", "--tenant", "acme", "--output", str(out),
                 "--database", db_url]) == 0
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith(",Bob,")
    with engine.begin() as conn:
        assert customers.screen_pop(conn, acme, "+49301234567").customer.name == "Bob"


def test_unknown_tenants_and_missing_files_are_one_line_errors(db_url, acme, capsys):
    assert main(["db", "export-customers", "--tenant", "nope", "--database", db_url]) == 1
    assert main(["db", "import-customers", "/nonexistent.csv", "--tenant", "acme",
                 "--database", db_url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == ["cti: error: no tenant 'nope' (known: acme)",
                   "cti: error: /nonexistent.csv: No such file or directory"]


def test_generate_creates_the_tenant_and_adds_customers(db_url, engine, capsys):
    for _ in range(2):
        assert main(["db", "generate", "--tenant", "load", "--customers", "300",
                     "--database", db_url]) == 0
    with engine.begin() as conn:
        assert customers.count_customers(conn, tenants.get_tenant(conn, "load")) == 600


def test_the_screenpop_bench_reports_both_back_ends(backend, request, tmp_path, capsys):
    argv = ["bench", "screenpop-db", "--json", "--customers", "300", "--lookups", "50",
            "--cache-dir", str(tmp_path)]
    if backend == "sqlite":
        argv.append("--no-mysql")
    else:
        server = request.getfixturevalue("mysql_server_url")
        argv += ["--mysql-url", server.render_as_string(hide_password=False)]
    try:
        assert main(argv) == 0
        result = json.loads(capsys.readouterr().out)
        for key in (["sqlite"] if backend == "sqlite" else ["sqlite", "mysql"]):
            figures = result[key]
            assert figures["customers"] == 300 and figures["lookups"] == 50
            assert 0 < figures["p50_ms"] <= figures["p99_ms"]
        assert main(argv) == 0
        again = json.loads(capsys.readouterr().out)
        assert again["sqlite"]["generated"] is False
    finally:
        if backend == "mysql":
            admin = make_engine(make_url(request.getfixturevalue("mysql_server_url")))
            with admin.begin() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS cti_bench_screenpop_300"))
            admin.dispose()


@pytest.mark.parametrize("argv", [["db"], ["db", "seed"], ["db", "upgrade", "--bogus"],
                                  ["db", "generate", "--tenant", "x", "--customers", "-1"]])
def test_bad_arguments_are_one_line_errors(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_upgrade_creates_a_missing_mysql_database(mysql_server_url, capsys):
    name = f"cti_test_cli_{uuid.uuid4().hex[:8]}"
    url = mysql_server_url.set(database=name).render_as_string(hide_password=False)
    try:
        assert main(["db", "upgrade", "--database", url]) == 0
        assert f"migrated from empty to {head_revision()}" in capsys.readouterr().out
        assert main(["db", "upgrade", "--database", url]) == 0
        assert "already at revision" in capsys.readouterr().out
    finally:
        admin = make_engine(mysql_server_url)
        with admin.begin() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        admin.dispose()
    no_name = mysql_server_url._replace(database=None).render_as_string(hide_password=False)
    assert main(["db", "upgrade", "--database", no_name]) == 1
    assert "names no database" in capsys.readouterr().err
