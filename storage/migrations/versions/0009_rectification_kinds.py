"""rectification kinds (issue 13): an item may be answered "no rectification needed"
(praise, or outside the evaluee's remit) with a reason, kept apart from the plans

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rectification_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default='plan'))


def downgrade() -> None:
    with op.batch_alter_table('rectification_plan', schema=None) as batch_op:
        batch_op.drop_column('kind')
