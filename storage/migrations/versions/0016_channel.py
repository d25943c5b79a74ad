"""the channel seam (issue 17): persons, outbox rows and handled updates carry a channel

A person is identified by (channel, chat_id) — ``chat_id`` is the address within the
channel — instead of the Telegram chat id alone; an outbox row says which channel's
sender sends it; update ids are deduplicated per channel. Everything that exists is
Telegram's (the server default).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# SQLite's unique constraint from 0001 has no name: batch mode reflects it under this one.
CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _channel() -> sa.Column:
    return sa.Column('channel', sa.String(length=20), server_default='telegram', nullable=False)


def _old_unique(bind) -> str:
    """The name of person's unique constraint on chat_id (PostgreSQL named it itself)."""
    if bind.dialect.name == 'sqlite':
        return 'uq_person_chat_id'
    for uc in sa.inspect(bind).get_unique_constraints('person'):
        if uc['column_names'] == ['chat_id']:
            return uc['name']
    raise RuntimeError("person has no unique constraint on chat_id")


def _rebuild_processed_update(with_channel: bool) -> None:
    """SQLite: a new primary key means a new table (batch mode would warn about it)."""
    key = ['channel', 'update_id'] if with_channel else ['update_id']
    op.create_table('_processed_update_new',
                    *([_channel()] if with_channel else []),
                    sa.Column('update_id', sa.BigInteger(), autoincrement=False, nullable=False),
                    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint(*key))
    op.execute("INSERT INTO _processed_update_new (update_id, handled_at) "
               "SELECT update_id, handled_at FROM processed_update")
    op.drop_table('processed_update')
    op.rename_table('_processed_update_new', 'processed_update')


def upgrade() -> None:
    bind = op.get_bind()
    old = _old_unique(bind)
    with op.batch_alter_table('person', naming_convention=CONVENTION) as batch_op:
        batch_op.add_column(_channel())
        batch_op.drop_constraint(old, type_='unique')
        batch_op.create_unique_constraint('uq_person_channel_chat_id', ['channel', 'chat_id'])

    with op.batch_alter_table('outbox') as batch_op:
        batch_op.add_column(_channel())
        batch_op.drop_index('ix_outbox_chat_id')
        batch_op.create_index('ix_outbox_channel_chat_id', ['channel', 'chat_id', 'id'], unique=False)

    if bind.dialect.name == 'sqlite':
        _rebuild_processed_update(with_channel=True)
    else:
        pk = sa.inspect(bind).get_pk_constraint('processed_update')['name']
        op.add_column('processed_update', _channel())
        op.drop_constraint(pk, 'processed_update', type_='primary')
        op.create_primary_key(pk, 'processed_update', ['channel', 'update_id'])


def downgrade() -> None:
    """Only Telegram's outbox rows and update ids survive a downgrade (the old schema
    knows no other channel); persons of another channel refuse it."""
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT COUNT(*) FROM person WHERE channel <> 'telegram'")).scalar()
    if others:
        raise RuntimeError(f"{others} person(s) of other channels than Telegram: the schema before 0016 "
                           "cannot hold them (their conversations and memberships would be lost)")
    op.execute("DELETE FROM processed_update WHERE channel <> 'telegram'")
    op.execute("DELETE FROM outbox WHERE channel <> 'telegram'")
    if bind.dialect.name == 'sqlite':
        _rebuild_processed_update(with_channel=False)
    else:
        pk = sa.inspect(bind).get_pk_constraint('processed_update')['name']
        op.drop_constraint(pk, 'processed_update', type_='primary')
        op.drop_column('processed_update', 'channel')
        op.create_primary_key(pk, 'processed_update', ['update_id'])

    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_index('ix_outbox_channel_chat_id')
        batch_op.create_index('ix_outbox_chat_id', ['chat_id', 'id'], unique=False)
        batch_op.drop_column('channel')

    with op.batch_alter_table('person') as batch_op:
        batch_op.drop_constraint('uq_person_channel_chat_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_person_chat_id' if bind.dialect.name == 'sqlite' else 'person_chat_id_key', ['chat_id'])
        batch_op.drop_column('channel')
