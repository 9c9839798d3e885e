"""Commands that need the schema say what is wrong with the database and what to run."""

from __future__ import annotations

from cti.cli import main
from db import migrate
from db.engine import make_engine


def test_an_empty_database_has_no_schema(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert migrate.schema_problem(engine) == "has no schema: run `cti db upgrade` first"
    finally:
        engine.dispose()


def test_a_database_behind_the_code_names_both_revisions(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine, "0001")
        head = migrate.head_revision()
        assert migrate.schema_problem(engine) == (
            f"is at revision 0001, not {head}: run `cti db upgrade`")
        assert main(["db", "seed", "--demo", "--database", url]) == 1
        assert capsys.readouterr().err.splitlines() == [
            f"cti: error: database {url} is at revision 0001, not {head}: run `cti db upgrade`"]
        migrate.upgrade(engine)
        assert migrate.schema_problem(engine) is None
    finally:
        engine.dispose()
