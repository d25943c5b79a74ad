"""tally at scale (issue 19): the answer index covers a ballot's answers

The chain walk of ``minping verify`` and the tally of ``minping close`` read every
answer of a campaign ballot by ballot; with the answer's columns in the index, they read
the index alone. It replaces the index on ``ballot_id`` (its first column).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_answer_ballot_content', 'answer',
                    ['ballot_id', 'evaluee_key', 'dimension_key', 'option_key'], unique=False)
    op.drop_index('ix_answer_ballot', table_name='answer')


def downgrade() -> None:
    op.create_index('ix_answer_ballot', 'answer', ['ballot_id'], unique=False)
    op.drop_index('ix_answer_ballot_content', table_name='answer')
