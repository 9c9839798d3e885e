"""call_records.source widened to 32 characters

SMDR records name their format in the source ("smdr:siemens-hipath" is 19 characters), which
MariaDB in strict mode refused at 16.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.alter_column('source', existing_type=sa.String(length=16),
                           type_=sa.String(length=32), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('call_records') as batch:
        batch.alter_column('source', existing_type=sa.String(length=32),
                           type_=sa.String(length=16), existing_nullable=False)
