"""Openings reach people: whoever enrolled in an open group, or through an
after-service link, before the campaign opened was told "it opens on …" and nothing
since. When the campaign is open, each of them gets one message with a start button
(through the outbox; dedupe key per membership and visit), so nobody has to think of
/resume. Computed from the data at every tick: a bot that was down at the opening
time sends the messages when it is back.

Drawn raters are not concerned: they get their invitation (``bot.jobs.reminders``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from bot.jobs import Job
from flows import chat
from flows.campaign import Campaign
from storage import campaigns, outbox
from storage.db import session_scope
from storage.models import Conversation, MemberStatus, Membership, Person, PersonStatus


def waiting(session: Session, campaign: Campaign) -> list[tuple[Membership, Person]]:
    """Consented members of open groups or after-service links who were never able to
    start (``invited_at`` unset: set when someone starts while the campaign is open, or
    by this notice), have not started or submitted, are reachable, not opted out."""
    unsampled = [g.key for g in campaign.rater_groups if g.open or not g.sample]
    started = exists().where(Conversation.person_id == Membership.person_id,
                             Conversation.campaign_id == campaign.id, Conversation.flow == "questionnaire")
    return list(session.exec(
        select(Membership, Person).join(Person, Person.id == Membership.person_id)
        .where(Membership.campaign_id == campaign.id, Membership.consented, Membership.submitted.is_(False),
               Membership.status != MemberStatus.OPTED_OUT, Membership.drawn_round.is_(None), Person.status == PersonStatus.ACTIVE,
               or_(Membership.group_key.in_(unsampled), Membership.only_evaluee.is_not(None)),
               Membership.invited_at.is_(None), ~started)
        .order_by(Membership.id)).all())


def notify(session: Session, campaign: Campaign, now: datetime) -> int:
    sent = 0
    for member, person in waiting(session, campaign):
        n = 1 if member.only_evaluee else len(campaign.evaluees_for(member.group_key, member.unit))
        locale = person.locale if person.locale in campaign.locales else campaign.default_locale
        msg = chat.opened(campaign, locale, member.group_key, n)
        row = outbox.enqueue(session, person.chat_id, "invitation", msg.text, msg.buttons,
                             dedupe_key=f"opened:{campaign.id}:{member.id}:{member.visits}",
                             campaign_id=campaign.id, channel=person.channel)
        if row is not None:
            sent += 1
        member.invited_at = now  # told once; reminders to partials count from here
        session.add(member)
    return sent


def openings_job(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as s:
        done = 0
        for row in campaigns.list_campaigns(s):
            if campaigns.phase(row, now) == "open":
                done += notify(s, campaigns.get_campaign(s, row.id), now)
        return done


JOBS: dict[str, Job] = {"openings": openings_job}
