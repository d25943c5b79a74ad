"""Appending sealed ballots to the chain in shuffled batches (``storage/ballots.py``):
once a campaign has ``chain_batch`` envelopes waiting, or its oldest has waited
``chain_batch_minutes``. ``minping close`` appends the rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.jobs import Job
from flows.campaign import Campaign
from storage import ballots
from storage.db import session_scope
from storage.models import CampaignRow


def append_batches(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as s:
        waiting = list(s.exec(select(CampaignRow.id).where(CampaignRow.pending_since.is_not(None),
                                                           CampaignRow.closed.is_(False))))
    appended = 0
    for campaign_id in waiting:
        with session_scope(engine) as s:
            row = s.get(CampaignRow, campaign_id)
            campaign = Campaign.model_validate(row.definition)
            n = ballots.pending(s, campaign_id)
            if ballots.due(row, n, campaign.chain_batch, campaign.chain_batch_minutes, now):
                appended += ballots.append_envelopes(s, campaign_id)
        if appended:
            ballots.scrub(engine)
    return appended


JOBS: dict[str, Job] = {"append_ballots": append_batches}
