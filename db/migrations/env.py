"""Alembic environment, driven from db.migrate (no alembic.ini at run time).

db.migrate hands over an open connection in ``config.attributes["connection"]``; batch mode is
on so that SQLite, which cannot ALTER most things, gets table rebuilds instead.
"""

from __future__ import annotations

from alembic import context

from db.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through db.migrate (cti db upgrade), not bare alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
