"""retention (issue 16): a campaign's personal data can be purged

- campaign.purged_at: when its personal data was deleted (``minping purge``, the job)
- membership.person_id nullable: a purged campaign keeps its memberships (status,
  submitted, draw rounds: what ``verify`` and the draw need) without the person
- rectification_round.asked_forgotten / answered_forgotten: follow-up counts kept when
  the rows naming who was asked are deleted
- outbox.campaign_id: which campaign a message was about (purge deletes them)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table('rectification_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('asked_forgotten', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('answered_forgotten', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
        batch_op.create_index('ix_outbox_campaign_id', ['campaign_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_campaign_id')
        batch_op.drop_column('campaign_id')
    with op.batch_alter_table('rectification_round', schema=None) as batch_op:
        batch_op.drop_column('answered_forgotten')
        batch_op.drop_column('asked_forgotten')
    with op.batch_alter_table('membership', schema=None) as batch_op:
        batch_op.alter_column('person_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
