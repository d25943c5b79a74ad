"""Invitations and reminders for drawn raters, through the outbox.

* ``invite``: every drawn, consented, not yet invited, reachable (person ``active``) and
  not opted-out member of a revealed draw gets one invitation (dedupe key per membership).
  ``minping invite`` calls it; the ``invite_on_open`` job calls it once the campaign is
  open if ``schedule.invite_on_open`` is set.
* ``remind``: ``schedule.reminders_after_hours`` after the invitation, each reminder once
  (dedupe key per membership and reminder), to invited members who have not submitted,
  are not opted out and are reachable, while the campaign is open. Open-group and
  after-service raters who started and did not finish get them too, counted from when
  they could start (``invited_at``: the opening notice, or their start; each
  after-service visit anew). A missed reminder is
  not sent late after a later one fell due: only the latest due one goes out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, exists
from sqlalchemy.engine import Engine
from sqlmodel import Session, or_, select

from bot.jobs import Job
from bot.miniapp.links import app_url
from flows import chat
from flows.campaign import Campaign
from storage import campaigns, draw, outbox
from storage.db import session_scope
from storage.models import Conversation, MemberStatus, Membership, Person, PersonStatus


def invite_candidates(session: Session, campaign: Campaign) -> list[tuple[Membership, Person]]:
    if not draw.revealed(session, campaign.id):
        return []
    return list(session.exec(
        select(Membership, Person).join(Person, Person.id == Membership.person_id)
        .where(Membership.campaign_id == campaign.id, Membership.drawn_round.is_not(None),
               Membership.invited_at.is_(None), Membership.consented, Membership.status != MemberStatus.OPTED_OUT,
               Membership.submitted.is_(False), Person.status == PersonStatus.ACTIVE)
        .order_by(Membership.id)).all())


def invite_one(session: Session, campaign: Campaign, member: Membership, person: Person, now: datetime) -> bool:
    n = len(campaign.evaluees_for(member.group_key, member.unit))
    msg = chat.invitation(campaign, person.locale, member.group_key, n, app_url())
    row = outbox.enqueue(session, person.chat_id, "invitation", msg.text, msg.buttons,
                         dedupe_key=f"invite:{campaign.id}:{member.id}", campaign_id=campaign.id,
                         channel=person.channel)
    member.invited_at = now
    if member.status in (MemberStatus.ENROLLED, MemberStatus.DRAWN):
        member.status = MemberStatus.INVITED
    session.add(member)
    return row is not None


def invite(session: Session, campaign: Campaign, now: datetime,
           progress: Callable[[], None] | None = None) -> int:
    sent = 0
    for member, person in invite_candidates(session, campaign):
        sent += invite_one(session, campaign, member, person, now)
        if progress is not None:
            progress()
    return sent


def remind(session: Session, campaign: Campaign, now: datetime) -> int:
    hours = campaign.schedule.reminders_after_hours
    if not hours:
        return 0
    # Drawn raters from their invitation; open-group and after-service raters who
    # started and did not finish (partials) from when they could start.
    started = exists().where(Conversation.person_id == Membership.person_id,
                             Conversation.campaign_id == campaign.id, Conversation.flow == "questionnaire")
    # Only members with a reminder due now are read: the one after the ``k`` sent is due
    # ``sorted(hours)[k]`` hours after the invitation. (Reading every waiting member each
    # tick took ~1 s and ~30 MB at 10,000 conversations, holding SQLite's write lock.)
    due_now = or_(*(and_(Membership.reminders_sent == k, Membership.invited_at <= now - timedelta(hours=h))
                    for k, h in enumerate(sorted(hours))))
    rows = session.exec(
        select(Membership, Person).join(Person, Person.id == Membership.person_id)
        .where(Membership.campaign_id == campaign.id, Membership.invited_at.is_not(None),
               Membership.submitted.is_(False), Membership.status != MemberStatus.OPTED_OUT,
               due_now, Person.status == PersonStatus.ACTIVE,
               or_(Membership.drawn_round.is_not(None), started))).all()
    sent = 0
    for member, person in rows:
        due = sum(1 for h in hours if member.invited_at + timedelta(hours=h) <= now)
        if due <= member.reminders_sent:
            continue
        msg = chat.reminder(campaign, person.locale, app_url())
        visit = f"v{member.visits}:" if member.visits > 1 else ""  # after-service: each visit its own
        sent += outbox.enqueue(session, person.chat_id, "reminder", msg.text, msg.buttons,
                               dedupe_key=f"remind:{campaign.id}:{member.id}:{visit}{due}",
                               campaign_id=campaign.id, channel=person.channel) is not None
        member.reminders_sent = due
        session.add(member)
    return sent


def _open_campaigns(session: Session, now: datetime) -> list[Campaign]:
    return [campaigns.get_campaign(session, row.id) for row in campaigns.list_campaigns(session)
            if campaigns.phase(row, now) == "open"]


def reminders_job(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as s:
        return sum(remind(s, c, now) for c in _open_campaigns(s, now))


def invite_on_open_job(engine: Engine, now: datetime) -> int:
    with session_scope(engine) as s:
        return sum(invite(s, c, now) for c in _open_campaigns(s, now) if c.schedule.invite_on_open)


JOBS: dict[str, Job] = {"reminders": reminders_job, "invite_on_open": invite_on_open_job}
