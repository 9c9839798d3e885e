"""call_contexts.calling / called / ani / dnis: a live call's numbers

A switch's snapshot lists a call's devices, not its numbers: a restarted server rebuilt calls
with calling and called null. Stored beside the call's context, they come back with it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

NUMBERS = ('calling', 'called', 'ani', 'dnis')


def upgrade() -> None:
    with op.batch_alter_table('call_contexts') as batch:
        for name in NUMBERS:
            batch.add_column(sa.Column(name, sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call_contexts') as batch:
        for name in reversed(NUMBERS):
            batch.drop_column(name)
