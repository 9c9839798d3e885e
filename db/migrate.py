"""Alembic run from code, with the migrations shipped inside the package.

`cti db upgrade` must work from an installed package with no alembic.ini in the current
directory, so the configuration is built here and the connection handed to env.py directly.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Migrate the database to `revision` (default the newest); returns the revision reached."""
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return current_revision(engine)


def downgrade(engine: Engine, revision: str) -> str | None:
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    return current_revision(engine)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def schema_problem(engine: Engine) -> str | None:
    """What stops the database being used at this version of the code, as the end of a sentence
    naming the database ("... has no schema: run `cti db upgrade` first"), or None if nothing."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        return "has no schema: run `cti db upgrade` first"
    if current != head:
        return f"is at revision {current}, not {head}: run `cti db upgrade`"
    return None
