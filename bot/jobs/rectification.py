"""Scheduled rectification work, computed from data at each tick (idempotent: every
message has a dedupe key, every state change is checked before it is made):

* ``rectification_reminders``: reminders before each plan's and each round's deadline,
  overdue notices to the evaluee's contacts, escalation of overdue items to organizers;
* ``rectification_followup``: starts the follow-up survey once a round's deadline day
  has ended, closes it after ``bot.app.followup.FOLLOWUP_DAYS`` (or when all have
  answered), reports the rate and opens a further round below the threshold.

Each round is handled in its own transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from bot.app import followup, rectification
from bot.jobs import Job
from storage import campaigns
from storage import rectification as rs
from storage.db import session_scope


def _round_ids(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return [r.id for r in rs.all_open_rounds(s)]


def rectification_reminders(engine: Engine, now: datetime) -> int:
    n = 0
    for rid in _round_ids(engine):
        with session_scope(engine) as s:
            rnd = s.get(rs.RectRound, rid)
            if rnd is None or rnd.survey_started_at is not None:
                continue  # the round is over: the follow-up has its say
            campaign = campaigns.get_campaign(s, rnd.campaign_id)
            n += rectification.remind(s, campaign, rnd, now)
    return n


def rectification_followup(engine: Engine, now: datetime) -> int:
    n = 0
    for rid in _round_ids(engine):
        with session_scope(engine) as s:
            rnd = s.get(rs.RectRound, rid)
            if rnd is None or rnd.survey_closed_at is not None:
                continue
            campaign = campaigns.get_campaign(s, rnd.campaign_id)
            if rnd.survey_started_at is None:
                if now >= rs.end_of(rnd.deadline, campaign.timezone) and not rs.items(s, campaign.id, rnd.evaluee_key):
                    rnd.survey_started_at = rnd.survey_closed_at = now  # no opinions: nothing to judge
                    s.add(rnd)
                elif now >= rs.end_of(rnd.deadline, campaign.timezone):
                    # Last call first: overdue notices and escalation of this round.
                    n += rectification.remind(s, campaign, rnd, now)
                    n += followup.start_survey(s, campaign, rnd, now)
            elif followup.survey_due_to_close(s, rnd, now):
                n += followup.close_survey(s, campaign, rnd, now)
    return n


JOBS: dict[str, Job] = {
    "rectification_reminders": rectification_reminders,
    "rectification_followup": rectification_followup,
}
