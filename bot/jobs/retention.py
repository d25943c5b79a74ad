"""Scheduled retention: a campaign's personal data is purged ``retention_days`` after its
last rectification round closed (``storage/retention.py``), each campaign in its own
transaction. Campaigns without ``retention_days`` are left to ``minping purge``."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.engine import Engine

from bot.jobs import Job
from storage import retention
from storage.db import session_scope

log = logging.getLogger(__name__)


def purge_due(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as s:
        due = retention.due_campaigns(s, now)
    for campaign_id in due:
        with session_scope(engine) as s:
            done = retention.purge(s, campaign_id, now)
        if not done.already:
            log.info("retention: campaign %s purged: %d person(s) forgotten, %d kept for other campaigns, "
                     "%d membership(s) unlinked, %d message(s) deleted", campaign_id, done.persons_deleted,
                     done.persons_kept, done.memberships_cut, done.messages)
    return len(due)


JOBS: dict[str, Job] = {"retention": purge_due}
