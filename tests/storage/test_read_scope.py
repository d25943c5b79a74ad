"""``read_scope``: the digest worker reads a campaign's figures in it while the bot
writes. On SQLite it must not hold the write lock (a tap of the bot in another process
would wait for the whole read), and nothing may be written through it on any backend."""

from __future__ import annotations

import pytest
import sqlalchemy
from sqlmodel import select

from storage.db import make_engine, no_wait, read_scope, session_scope
from storage.models import Person


def test_a_long_read_does_not_make_writers_wait(engine):
    with session_scope(engine) as s:
        s.add(Person(chat_id=1))
    other = make_engine(engine.url.render_as_string(hide_password=False))  # as another process would
    try:
        with read_scope(engine) as reader:
            assert [p.chat_id for p in reader.exec(select(Person))] == [1]
            with no_wait(), session_scope(other) as writer:  # SQLite: Busy if the reader held the lock
                writer.add(Person(chat_id=2))
            # one snapshot: the reader still sees the world as it began
            assert [p.chat_id for p in reader.exec(select(Person))] == [1]
    finally:
        other.dispose()
    with read_scope(engine) as s:
        assert sorted(p.chat_id for p in s.exec(select(Person))) == [1, 2]


def test_nothing_is_written_through_a_read_scope(engine):
    with pytest.raises(sqlalchemy.exc.DBAPIError):
        with read_scope(engine) as s:
            s.add(Person(chat_id=7))
            s.flush()
    with session_scope(engine) as s:  # the pooled connection writes again afterwards
        s.add(Person(chat_id=8))
    with read_scope(engine) as s:
        assert [p.chat_id for p in s.exec(select(Person))] == [8]
