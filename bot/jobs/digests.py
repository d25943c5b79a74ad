"""Scheduled organizer digests: ``schedule.digest_cron`` in the campaign's time zone.

At each scheduler tick, for every campaign with a digest cron that is open (or closed
less than ``AFTER_CLOSE`` ago), ``storage.schedule.due_firing`` says whether a firing is
due (missed firings within ``GRACE`` run once; older ones are skipped and logged).
``fire_once`` records the firing in the same transaction as the outbox rows, and every
row has a dedupe key per (campaign, organizer, firing): exactly one digest per organizer
per firing, across restarts and several processes.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from html import escape

from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.jobs import Job
from flows.campaign import Campaign
from reports import digest as digests
from storage import campaigns, outbox, people, schedule
from storage import tally as store
from storage.db import session_scope

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
    return person.status == "active", person.locale


def enqueue_digest(session: Session, campaign: Campaign, chat_id: int, digest: digests.Digest,
                   dedupe: str | None) -> int:
    """Queue one digest: its text, then each chart as a photo (in order, one chat)."""
    n = 0
    if outbox.enqueue(session, chat_id, "digest", digest.text,
                      dedupe_key=f"{dedupe}:text" if dedupe else None) is not None:
        n += 1
    for chart in digest.charts:
        if outbox.enqueue(session, chat_id, "digest", escape(chart.title), attachment=chart.png,
                          filename=f"{chart.name}.png", attachment_kind="photo",
                          dedupe_key=f"{dedupe}:{chart.name}" if dedupe else None) is not None:
            n += 1
    return n


def send_now(session: Session, campaign: Campaign, chat_id: int, locale: str, now: datetime,
             dedupe: str | None = None) -> digests.Digest:
    d = digests.build(session, campaign, locale, now)
    enqueue_digest(session, campaign, chat_id, d, dedupe)
    return d


def run_digests(engine: Engine, now: datetime) -> int:
    """Queue the due digests; returns how many organizers got one."""
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
            if not cron or now < campaigns._aware(row.opens) or now > campaigns._aware(row.closes) + AFTER_CLOSE:
                continue
            firing = schedule.due_firing(s, JOB, campaign.id, cron, campaign.timezone, now, GRACE)
            if firing is None or not schedule.fire_once(s, JOB, campaign.id, firing):
                continue
            cache: dict[str, digests.Digest] = {}
            sent = 0
            for chat_id in store.organizers(s, campaign):
                ok, locale = reachable(s, chat_id)
                if not ok:
                    continue
                locale = locale if locale in campaign.locales else campaign.default_locale
                if locale not in cache:
                    cache[locale] = digests.build(s, campaign, locale, now)
                enqueue_digest(s, campaign, chat_id, cache[locale],
                               f"digest:{campaign.id}:{chat_id}:{firing.isoformat()}")
                sent += 1
            done += sent
            log.info("digest for %s at %s: %d organizer(s)", campaign.id, firing.isoformat(), sent)
    return done


JOBS: dict[str, Job] = {JOB: run_digests}
