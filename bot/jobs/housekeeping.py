"""Scheduled housekeeping: forget what is no longer needed.

``processed_update`` remembers every Telegram update id so that a redelivered update has
no second effect. Telegram redelivers an unconfirmed update for at most 24 hours, so ids
older than ``KEEP_UPDATES`` can go; without this the table grows by one row per tap.
(Outbox rows are kept: their ``dedupe_key`` is what makes a repeat impossible.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine

from bot.jobs import Job
from storage import updates
from storage.db import session_scope

KEEP_UPDATES = timedelta(days=7)


def prune_updates(engine: Engine, now: datetime) -> int:
    # Update ids carry real times: a rehearsal's clock ahead of real time must not prune
    # ids Telegram may still redeliver.
    with session_scope(engine) as s:
        return updates.prune(s, min(now, datetime.now(UTC)) - KEEP_UPDATES)


JOBS: dict[str, Job] = {"prune_updates": prune_updates}
