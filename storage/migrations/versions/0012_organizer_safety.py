"""organizer safety (issue 12): voided score records, revocable links, draw strata per
unit and withdrawn commitments, after-service visits, the rehearsal clock

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('score_event') as batch:
        batch.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('voided_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True))
        batch.add_column(sa.Column('void_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
    with op.batch_alter_table('link') as batch:
        batch.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('draw_pool') as batch:
        batch.add_column(sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True))
    with op.batch_alter_table('membership') as batch:
        batch.add_column(sa.Column('visits', sa.Integer(), server_default='1', nullable=False))
    op.create_table('draw_withdrawn',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('seed', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('pool_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('commitment', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('committed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_draw_withdrawn_campaign_id'), 'draw_withdrawn', ['campaign_id'], unique=False)
    op.create_table('minping_meta',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )


def downgrade() -> None:
    op.drop_table('minping_meta')
    op.drop_index(op.f('ix_draw_withdrawn_campaign_id'), table_name='draw_withdrawn')
    op.drop_table('draw_withdrawn')
    with op.batch_alter_table('membership') as batch:
        batch.drop_column('visits')
    with op.batch_alter_table('draw_pool') as batch:
        batch.drop_column('unit')
    with op.batch_alter_table('link') as batch:
        batch.drop_column('revoked_at')
    with op.batch_alter_table('score_event') as batch:
        batch.drop_column('void_reason')
        batch.drop_column('voided_by')
        batch.drop_column('voided_at')
