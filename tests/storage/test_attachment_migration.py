"""Migration 0017: the outbox's pictures move to ``attachment``, once per content, and back."""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from sqlalchemy import inspect, text

from storage import outbox
from storage.db import alembic_config, session_scope

pytestmark = pytest.mark.postgres

CHART, OTHER = b"\x89PNG" + b"a" * 3000, b"\x89PNG" + b"b" * 3000


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_upgrade_stores_each_picture_once_and_downgrade_puts_them_back(engine):
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0016")
    assert "attachment" not in inspect(engine).get_table_names()
    with engine.begin() as conn:  # three organizers' digests: two with the same chart; one text
        for chat, data in ((1, CHART), (2, CHART), (3, OTHER), (4, None)):
            conn.execute(text("INSERT INTO outbox (chat_id, kind, text, buttons, attachment, status, attempts, "
                              "parts_sent, not_before, created_at) VALUES (:chat, 'digest', '图', '[]', :data, "
                              "'pending', 0, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"chat": chat, "data": data})

    command.upgrade(cfg, "head")
    assert "attachment" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
    stored = _rows(engine, "SELECT sha256 FROM attachment ORDER BY sha256")
    assert stored == sorted([(hashlib.sha256(CHART).hexdigest(),), (hashlib.sha256(OTHER).hexdigest(),)])
    with session_scope(engine) as s:
        ids = [r[0] for r in _rows(engine, "SELECT id FROM outbox ORDER BY chat_id")]
        assert [outbox.attachment_data(s, i) for i in ids] == [CHART, CHART, OTHER, None]

    command.downgrade(cfg, "0016")
    assert "attachment" not in inspect(engine).get_table_names()
    got = _rows(engine, "SELECT chat_id, attachment FROM outbox ORDER BY chat_id")
    assert [(c, bytes(a) if a is not None else None) for c, a in got] == [(1, CHART), (2, CHART), (3, OTHER),
                                                                        (4, None)]
    command.upgrade(cfg, "head")
