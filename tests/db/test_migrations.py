"""Alembic migrations build the schema from an empty database, and it is exactly the models'."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from db import migrate
from db.engine import make_engine
from db.models import Base


def _differences(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)


def test_the_migrated_schema_matches_the_models(engine):
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert _differences(engine) == []


def test_migrations_run_down_to_empty_and_up_again(engine):
    assert migrate.downgrade(engine, "base") is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())


def test_upgrading_an_up_to_date_database_changes_nothing(engine):
    assert migrate.upgrade(engine) == migrate.head_revision()
    assert _differences(engine) == []


def test_upgrade_builds_a_new_sqlite_file_from_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_migrations_ship_inside_the_package_with_no_alembic_ini():
    assert (migrate.MIGRATIONS / "env.py").is_file()
    assert any(migrate.MIGRATIONS.glob("versions/*.py"))
    assert migrate.MIGRATIONS.parent.name == "db"
