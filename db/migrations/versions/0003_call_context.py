"""call_contexts and call_context_ids: a live call's attached data, notes and customer

Kept in the server's memory only until now, they were lost when the server restarted under
calls still in progress.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('call_contexts',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('link', sa.String(length=64), nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', BIG_ID, nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('notes', sa.JSON(), nullable=False),
    sa.Column('ended_at', db.types.UTCDateTime(), nullable=True),
    sa.Column('updated_at', db.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_call_contexts_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_call_contexts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_contexts'))
    )
    with op.batch_alter_table('call_contexts', schema=None) as batch_op:
        batch_op.create_index('ix_call_contexts_tenant_id_updated_at', ['tenant_id', 'updated_at'], unique=False)

    op.create_table('call_context_ids',
    sa.Column('context_id', BIG_ID, nullable=False),
    sa.Column('call_id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('link', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['call_contexts.id'], name=op.f('fk_call_context_ids_context_id_call_contexts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_call_context_ids_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('context_id', 'call_id', name=op.f('pk_call_context_ids'))
    )
    with op.batch_alter_table('call_context_ids', schema=None) as batch_op:
        batch_op.create_index('ix_call_context_ids_tenant_id_link', ['tenant_id', 'link', 'call_id'], unique=False)


def downgrade() -> None:
    op.drop_table('call_context_ids')
    op.drop_table('call_contexts')
