"""Progress figures per rater group (what organizers may see while a campaign is open)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, func, select

from flows.campaign import Campaign
from storage.models import Ballot, Conversation, Membership


@dataclass(frozen=True)
class GroupProgress:
    group: str
    enrolled: int
    started: int      # has a draft in progress
    submitted: int
    opted_out: int
    ballots: int      # ballots sealed for this group (equals submitted)


def group_progress(session: Session, campaign: Campaign) -> list[GroupProgress]:
    cid = campaign.id
    members = dict.fromkeys([g.key for g in campaign.rater_groups], None)
    counts = {k: {"enrolled": 0, "submitted": 0, "opted_out": 0, "started": 0} for k in members}
    for group_key, status, submitted, n in session.exec(
        select(Membership.group_key, Membership.status, Membership.submitted, func.count())
        .where(Membership.campaign_id == cid)
        .group_by(Membership.group_key, Membership.status, Membership.submitted)
    ):
        c = counts.setdefault(group_key, {"enrolled": 0, "submitted": 0, "opted_out": 0, "started": 0})
        c["enrolled"] += n
        c["submitted"] += n if submitted else 0
        c["opted_out"] += n if status == "opted_out" else 0
    for group_key, n in session.exec(
        select(Membership.group_key, func.count())
        .join(Conversation, (Conversation.person_id == Membership.person_id) & (Conversation.campaign_id == cid))
        .where(Membership.campaign_id == cid, Conversation.flow == "questionnaire")
        .group_by(Membership.group_key)
    ):
        counts[group_key]["started"] = n
    ballots = dict(session.exec(
        select(Ballot.group_key, func.count()).where(Ballot.campaign_id == cid).group_by(Ballot.group_key)
    ).all())
    return [GroupProgress(group=k, ballots=ballots.get(k, 0), **c) for k, c in counts.items()]
