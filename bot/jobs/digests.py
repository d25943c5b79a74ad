"""Scheduled organizer digests: ``schedule.digest_cron`` in the campaign's time zone.

At each scheduler tick, for every campaign with a digest cron that is open (or closed
less than ``AFTER_CLOSE`` ago), ``storage.schedule.due_firing`` says whether a firing is
due (missed firings within ``GRACE`` run once; older ones are skipped and logged).
``fire_once`` records the firing in the same transaction as one ``digest_request`` per
organizer; a worker process draws the charts and writes the outbox rows
(``bot/digest_worker.py``: matplotlib never runs in the bot's process). Each request and
its rows have a dedupe key per (campaign, organizer, firing): exactly one digest per
organizer per firing, across restarts and several processes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import uuid4

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs import Job
from flows.campaign import Campaign
from storage import campaigns, people, schedule
from storage import digest_requests as requests
from storage import tally as store
from storage.db import session_scope
from storage.models import PersonStatus

log = logging.getLogger(__name__)
JOB = "digest"
GRACE = timedelta(hours=1)
AFTER_CLOSE = timedelta(days=3)  # results digests keep coming for a few days after close


def reachable(session: Session, chat_id: int) -> tuple[bool, str | None]:
    """(may we write to this chat, its locale). Organizers from the campaign file may
    not have talked to the bot yet: they are tried (the sender handles a refusal)."""
    person = people.find_person(session, chat_id)
    if person is None:
        return True, None
    return person.status == PersonStatus.ACTIVE, person.locale


def request_now(session: Session, campaign_id: str, chat_id: int, locale: str, now: datetime) -> None:
    """An organizer's ``/digest``: a request the worker process draws (``bot/digest_worker.py``)."""
    requests.request(session, campaign_id, chat_id, locale, now, f"digest:{campaign_id}:{chat_id}:now:{uuid4().hex}")


def run_digests(engine: Engine, now: datetime) -> int:
    """Ask for the due digests; returns how many organizers get one."""
    done = 0
    with session_scope(engine) as s:
        rows = campaigns.list_campaigns(s)
    for row in rows:
        if row.opens is None:
            continue
        with session_scope(engine) as s:
            row = campaigns.get_row(s, row.id)
            campaign = Campaign.model_validate(row.definition)
            cron = campaign.schedule.digest_cron
            if not cron or now < row.opens or now > row.closes + AFTER_CLOSE:
                continue
            firing = schedule.due_firing(s, JOB, campaign.id, cron, campaign.timezone, now, GRACE)
            if firing is None or not schedule.fire_once(s, JOB, campaign.id, firing):
                continue
            sent = 0
            for chat_id in store.organizers(s, campaign):
                ok, locale = reachable(s, chat_id)
                if not ok:
                    continue
                locale = locale if locale in campaign.locales else campaign.default_locale
                requests.request(s, campaign.id, chat_id, locale, now,
                                 f"digest:{campaign.id}:{chat_id}:{firing.isoformat()}")
                sent += 1
            done += sent
            log.info("digest for %s at %s: %d organizer(s)", campaign.id, firing.isoformat(), sent)
    return done


JOBS: dict[str, Job] = {JOB: run_digests}
