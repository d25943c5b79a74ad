"""an outbox row's picture or file is stored once, in its own table (issue 19)

A digest's charts were stored in every organizer's outbox row (~90 KB each, thirty
organizers: thirty copies). They move to ``attachment``, one row per content (SHA-256),
and ``outbox.attachment_sha256`` points at it. On SQLite this also takes the bytes out of
the rows the sender's claim reads: every column after a large value cost reading all of
it (a claim took ~130 ms at a thousand digest rows). The chat index gains the status, so
the claim never reads a chat's sent history either.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""
import hashlib

import sqlalchemy as sa
from alembic import op



revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

BATCH = 200


def upgrade() -> None:
    op.create_table('attachment',
                    sa.Column('sha256', sa.String(length=64), nullable=False),
                    sa.Column('data', sa.LargeBinary(), nullable=False),
                    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('sha256'))
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('attachment_sha256', sa.String(length=64), nullable=True))
    bind = op.get_bind()
    outbox = sa.table('outbox', sa.column('id', sa.Integer), sa.column('attachment', sa.LargeBinary),
                      sa.column('attachment_sha256', sa.String))
    seen: set[str] = set()
    last = 0
    while True:  # in batches: an outbox may hold many charts
        rows = bind.execute(sa.select(outbox.c.id, outbox.c.attachment)
                            .where(outbox.c.id > last, outbox.c.attachment.is_not(None))
                            .order_by(outbox.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row_id, data in rows:
            digest = hashlib.sha256(data).hexdigest()
            if digest not in seen:  # the row's own time, copied in SQL (no type of ours here)
                bind.execute(sa.text("INSERT INTO attachment (sha256, data, used_at) "
                                     "SELECT :sha, attachment, created_at FROM outbox WHERE id = :id"),
                             {"sha": digest, "id": row_id})
                seen.add(digest)
            bind.execute(outbox.update().where(outbox.c.id == row_id).values(attachment_sha256=digest))
        last = rows[-1][0]
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('attachment')
        batch_op.drop_index('ix_outbox_channel_chat_id')
        batch_op.create_index('ix_outbox_channel_chat_status', ['channel', 'chat_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_outbox_attachment_sha256', ['attachment_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(sa.Column('attachment', sa.LargeBinary(), nullable=True))
    op.execute("UPDATE outbox SET attachment = (SELECT data FROM attachment "
               "WHERE attachment.sha256 = outbox.attachment_sha256) WHERE attachment_sha256 IS NOT NULL")
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_index('ix_outbox_attachment_sha256')
        batch_op.drop_index('ix_outbox_channel_chat_status')
        batch_op.create_index('ix_outbox_channel_chat_id', ['channel', 'chat_id', 'id'], unique=False)
        batch_op.drop_column('attachment_sha256')
    op.drop_table('attachment')
