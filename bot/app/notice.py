"""Publishing the rectification notices (整改通知书) after close: each evaluee's own
results and the opinions, scrubbed and in random order; sent to every bound contact."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.app import effects
from flows import evaluee as ev
from flows import rectification as rf
from flows.campaign import Campaign
from flows.messages import Message
from reports import notice
from reports import tally as tallies
from reports.results import Tally
from storage import ballots, campaigns, outbox
from storage import rectification as rs
from storage import tally as tally_store
from storage.models import Person


class NotClosed(Exception):
    pass


@dataclass
class Published:
    evaluees: int = 0  # notices created now
    items: int = 0
    dropped: int = 0  # opinions empty after scrubbing
    messages: int = 0  # outbox rows written
    contacts_missing: list[str] | None = None


def tally_of(session: Session, campaign: Campaign) -> Tally:
    row = campaigns.get_row(session, campaign.id)
    if not row.closed:
        raise NotClosed(f"campaign '{campaign.id}' is not closed yet: run `minping close {campaign.id}` first")
    result = tallies.stored(session, campaign.id)
    if result is None:
        raise NotClosed(f"campaign '{campaign.id}' has no stored tally: run `minping close {campaign.id}` first")
    return result


def publish(session: Session, campaign: Campaign, now: datetime, rng: random.Random | None = None) -> Published:
    """Create each evaluee's notice (once) and send it to every contact that has not had
    it yet. Re-running sends the notice to contacts bound since; nothing twice."""
    result = tally_of(session, campaign)
    rng = rng or random.Random(secrets.randbits(64))
    out = Published(contacts_missing=[])
    for e in campaign.evaluees:
        if rs.notice(session, campaign.id, e.key) is None:
            kept, dropped = notice.scrubbed(campaign, result.evaluees[e.key],
                                            ballots.opinions(session, campaign.id, e.key))
            rng.shuffle(kept)  # random order: the position says nothing about the ballot
            rs.store_notice(session, campaign.id, e.key, kept, dropped, now)
            deadline = rs.local_today(now, campaign.timezone) + timedelta(days=campaign.rectification.deadline_days)
            rs.open_round(session, campaign.id, e.key, 1, deadline, now)
            out.evaluees += 1
            out.items += len(kept)
            out.dropped += dropped
        people = rs.contacts(session, campaign.id, e.key, reachable=True)
        if not rs.contacts(session, campaign.id, e.key):
            out.contacts_missing.append(e.key)
        for person in people:
            out.messages += enqueue_notice(session, campaign, result, e.key, person)
    return out


def notice_messages(session: Session, campaign: Campaign, result: Tally, evaluee_key: str,
                    locale: str) -> list[Message]:
    rnd = rs.current_round(session, campaign.id, evaluee_key)
    items = [(i.number, i.text) for i in rs.items(session, campaign.id, evaluee_key)]
    records = [(e.kind, e.item, e.points, e.note) for e in tally_store.events(session, campaign.id)
               if e.evaluee_key == evaluee_key]
    return notice.notice_messages(campaign, result.evaluees[evaluee_key], result.evaluees, items,
                                  rnd.deadline, locale, rf.action("m", rnd.id), rnd.number, records)


@effects.applies(ev.EnqueueNotice)
def _enqueue_notice(session: Session, eff: ev.EnqueueNotice, campaign: Campaign, **_: object) -> None:
    """A contact bound after the notice was published gets it now, through the outbox."""
    assert campaign.id == eff.campaign_id
    enqueue_notice(session, campaign, tally_of(session, campaign), eff.evaluee_key, session.get(Person, eff.person_id))


def enqueue_notice(session: Session, campaign: Campaign, result: Tally, evaluee_key: str, person: Person) -> int:
    n = 0
    for i, m in enumerate(notice_messages(session, campaign, result, evaluee_key, person.locale)):
        key = f"fb:{campaign.id}:{evaluee_key}:{person.id}:{i}"
        n += outbox.enqueue(session, person.chat_id, "feedback", m.text, m.buttons, dedupe_key=key,
                            campaign_id=campaign.id, channel=person.channel) is not None
    return n
