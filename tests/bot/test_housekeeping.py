"""Housekeeping: old update ids are forgotten, recent ones still stop a redelivery."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.jobs.housekeeping import prune_updates
from bot.jobs import all_jobs
from storage import updates
from storage.db import session_scope
from storage.models import ProcessedUpdate

pytestmark = pytest.mark.postgres


def test_old_update_ids_are_pruned_recent_ones_kept(engine):
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        for uid in (1, 2, 3):
            assert updates.first_time(s, uid)
    with session_scope(engine) as s:  # 1 and 2 were handled long ago
        s.execute(update(ProcessedUpdate).where(ProcessedUpdate.update_id.in_((1, 2)))
                  .values(handled_at=now - timedelta(days=8)))
    assert prune_updates(engine, now) == 2
    assert prune_updates(engine, now) == 0
    with session_scope(engine) as s:
        assert s.exec(select(ProcessedUpdate.update_id)).all() == [3]
        assert not updates.first_time(s, 3)  # a recent redelivery is still refused


def test_housekeeping_is_a_scheduled_job():
    assert all_jobs()["prune_updates"] is prune_updates
