"""ballots wait in envelopes and join the chain in shuffled batches (issue 15)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('envelope',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('group_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_envelope_campaign_id'), 'envelope', ['campaign_id'], unique=False)
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sealed_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pending_since', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('chain_batches', sa.Integer(), server_default='0', nullable=False))
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_batch', sa.Integer(), nullable=True))
    # Ballots sealed before this migration are all in the chain.
    op.execute("UPDATE campaign SET sealed_count = chain_count")
    op.execute("UPDATE membership SET chain_batch = 0 WHERE submitted")


def downgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('chain_batch')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('chain_batches')
        batch_op.drop_column('pending_since')
        batch_op.drop_column('sealed_count')
    op.drop_index(op.f('ix_envelope_campaign_id'), table_name='envelope')
    op.drop_table('envelope')
