"""Enrolment: joining a rater group through a deep link, and leaving with /stop."""

from __future__ import annotations

from sqlmodel import Session

from bot.chat import Feature
from bot.service import QUESTIONNAIRE, Incoming, Reply, Service
from flows import chat
from storage import campaigns, conversations, people
from storage.models import Link, Person


def on_group_link(svc: Service, s: Session, person: Person, link: Link) -> Reply:
    row = campaigns.get_row(s, link.campaign_id)
    campaign = svc.campaign(s, link.campaign_id)
    if (notice := svc.phase_notice(campaign, row, person.locale)) is not None:
        return Reply([notice])
    try:
        member = people.enrol(s, campaign.id, person, link.group_key, unit=link.unit)
    except people.AlreadyEnrolled as err:
        label = campaign.text(campaign.group(err.group_key).label, person.locale)
        return Reply([chat.say("chat.already_enrolled", person.locale, group=label)])
    if member.status == "opted_out":  # re-opening the link after /stop re-joins
        member.status = "enrolled"
    return svc.begin(s, person, member, campaign)


def on_stop(svc: Service, s: Session, person: Person, inc: Incoming) -> Reply:
    member = svc.membership(s, person)
    if member is None or member.submitted:
        return Reply([chat.say("chat.help", person.locale)])
    member.status = "opted_out"
    s.add(member)
    conv = conversations.load(s, person.id, member.campaign_id, QUESTIONNAIRE)
    if conv is not None:
        s.delete(conv)
    return Reply([chat.say("chat.stopped", person.locale)])


FEATURE = Feature("enrolment", commands={"stop": on_stop}, links={"group": on_group_link})
