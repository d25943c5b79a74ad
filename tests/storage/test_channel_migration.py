"""Migration 0016 (the channel seam): what exists becomes Telegram's, and back."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect, text

from flows.campaign import Campaign
from storage import campaigns, people
from storage.db import alembic_config, session_scope
from tests.factories import campaign_data

pytestmark = pytest.mark.postgres


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _enrolled(engine) -> list[tuple]:
    """The rater enrolled before the migrations: their membership still points at them."""
    return _rows(engine, "SELECT p.chat_id, m.group_key FROM membership m JOIN person p ON p.id = m.person_id")


def test_upgrade_makes_everything_telegrams_and_downgrade_undoes_it(engine):
    cfg = alembic_config(engine)
    with session_scope(engine) as s:  # a rater with a membership: rebuilding person must keep it
        campaign = Campaign.model_validate(campaign_data())
        campaigns.store_campaign(s, campaign, "")
        people.enrol(s, campaign.id, people.get_or_create_person(s, 43, "zh"), "public")
    command.downgrade(cfg, "0015")
    assert _enrolled(engine) == [(43, "public")]
    assert "channel" not in {c["name"] for c in inspect(engine).get_columns("person")}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO person (chat_id, locale, status, created_at) "
                          "VALUES (42, 'zh', 'active', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO processed_update (update_id, handled_at) VALUES (7, CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO outbox (chat_id, kind, text, buttons, status, attempts, parts_sent, "
                          "not_before, created_at) VALUES (42, 'notice', 'hi', '[]', 'pending', 0, 0, "
                          "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))

    command.upgrade(cfg, "head")
    assert _rows(engine, "SELECT channel, chat_id FROM person ORDER BY chat_id") == [("telegram", 42), ("telegram", 43)]
    assert _enrolled(engine) == [(43, "public")]
    assert _rows(engine, "SELECT channel, update_id FROM processed_update") == [("telegram", 7)]
    assert _rows(engine, "SELECT channel, chat_id FROM outbox") == [("telegram", 42)]
    insp = inspect(engine)
    assert insp.get_pk_constraint("processed_update")["constrained_columns"] == ["channel", "update_id"]
    assert [u["column_names"] for u in insp.get_unique_constraints("person")] == [["channel", "chat_id"]]
    assert "ix_outbox_channel_chat_status" in {i["name"] for i in insp.get_indexes("outbox")}
    with engine.begin() as conn:  # the same address and update id on another channel
        conn.execute(text("INSERT INTO person (channel, chat_id, locale, status, created_at) "
                          "VALUES ('web', 42, 'zh', 'active', CURRENT_TIMESTAMP)"))
        conn.execute(text("INSERT INTO processed_update (channel, update_id, handled_at) "
                          "VALUES ('web', 7, CURRENT_TIMESTAMP)"))

    # A person of another channel has no place in the old schema: the downgrade refuses.
    with pytest.raises(RuntimeError, match="other channels"):
        command.downgrade(cfg, "0015")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM person WHERE channel = 'web'"))
    command.downgrade(cfg, "0015")
    assert _rows(engine, "SELECT chat_id FROM person ORDER BY chat_id") == [(42,), (43,)]
    assert _enrolled(engine) == [(43, "public")]
    assert _rows(engine, "SELECT update_id FROM processed_update") == [(7,)]  # Telegram's stays
    insp = inspect(engine)
    assert [u["column_names"] for u in insp.get_unique_constraints("person")] == [["chat_id"]]
    assert "ix_outbox_chat_id" in {i["name"] for i in insp.get_indexes("outbox")}
    command.upgrade(cfg, "head")  # and up again
    assert _rows(engine, "SELECT channel, chat_id FROM person ORDER BY chat_id") == [("telegram", 42), ("telegram", 43)]
    assert _enrolled(engine) == [(43, "public")]
