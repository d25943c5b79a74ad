"""a draw nobody can choose and the verification kit (issue 15): the public draw named
at commit and its result entered at reveal; the ballot chain's version (2: opinions
enter a ballot's hash as their SHA-256, so that the chain can be checked from a kit
that never holds an opinion's text)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import secrets

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('draw') as batch:
        batch.add_column(sa.Column('beacon', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch.add_column(sa.Column('beacon_value', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
    with op.batch_alter_table('draw_withdrawn') as batch:
        batch.add_column(sa.Column('beacon', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True))
        batch.add_column(sa.Column('pool', sa.JSON(), nullable=True))
    with op.batch_alter_table('campaign') as batch:
        batch.add_column(sa.Column('chain_version', sa.Integer(), server_default='1', nullable=False))
        batch.add_column(sa.Column('opinion_key', sqlmodel.sql.sqltypes.AutoString(length=64), server_default='',
                                   nullable=False))
    # Each campaign its own secret key for the opinions' digests (storage/ballots.py).
    conn = op.get_bind()
    for (cid,) in conn.execute(sa.text("SELECT id FROM campaign")).fetchall():
        conn.execute(sa.text("UPDATE campaign SET opinion_key = :k WHERE id = :id"),
                     {"k": secrets.token_hex(32), "id": cid})
    # A campaign whose chain is still empty starts with the new version (its envelopes
    # are hashed only when they are appended).
    op.execute("UPDATE campaign SET chain_version = 2 WHERE chain_count = 0")


def downgrade() -> None:
    with op.batch_alter_table('campaign') as batch:
        batch.drop_column('opinion_key')
        batch.drop_column('chain_version')
    with op.batch_alter_table('draw_withdrawn') as batch:
        batch.drop_column('pool')
        batch.drop_column('beacon')
    with op.batch_alter_table('draw') as batch:
        batch.drop_column('beacon_value')
        batch.drop_column('beacon')
