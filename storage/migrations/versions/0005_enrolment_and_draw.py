"""enrolment and draw (issue 4): consent, draw rounds, invitations, reminders on
membership; the frozen pool and the committed seed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('draw',
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pool_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('commitment', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('campaign_id')
    )
    op.create_table('draw_pool',
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('pseudonym', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('group_key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.ForeignKeyConstraint(['membership_id'], ['membership.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'pseudonym'),
    sa.UniqueConstraint('campaign_id', 'membership_id')
    )
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consented', sa.Boolean(), nullable=False, server_default=sa.true()))
        batch_op.add_column(sa.Column('drawn_round', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('invited_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reminders_sent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('only_evaluee', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.drop_column('only_evaluee')
        batch_op.drop_column('reminders_sent')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('drawn_round')
        batch_op.drop_column('consented')
    op.drop_table('draw_pool')
    op.drop_table('draw')
