"""Progress figures per rater group (what organizers may see while a campaign is open).

For sampled groups the response rates follow AAPOR: RR1 = submitted ÷ drawn (complete
responses only), RR2 = (submitted + partials) ÷ drawn, where a partial is a drawn rater
who started and has not submitted. Open groups have no draw and no rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, exists, or_
from sqlmodel import Session, func, select

from flows.campaign import Campaign
from storage.models import Ballot, Conversation, Membership, Person


@dataclass(frozen=True)
class GroupProgress:
    group: str
    enrolled: int
    started: int      # has a draft in progress (a partial)
    submitted: int
    opted_out: int
    ballots: int      # ballots sealed for this group (equals submitted)
    # The draw (issue 4): zero for open groups.
    pool: int = 0
    drawn: int = 0
    invited: int = 0
    unreachable: int = 0
    drawn_submitted: int = 0
    drawn_partials: int = 0
    open: bool = False

    @property
    def rr1(self) -> float | None:
        return self.drawn_submitted / self.drawn if self.drawn else None

    @property
    def rr2(self) -> float | None:
        return (self.drawn_submitted + self.drawn_partials) / self.drawn if self.drawn else None


_FIELDS = ("enrolled", "submitted", "opted_out", "started", "unreachable", "drawn", "invited",
           "drawn_submitted", "drawn_partials")


def group_progress(session: Session, campaign: Campaign) -> list[GroupProgress]:
    """Counted by the database (one GROUP BY), so a digest stays fast at any size."""
    from storage.draw import counts as pool_counts

    cid = campaign.id
    started = exists().where(Conversation.person_id == Membership.person_id, Conversation.campaign_id == cid,
                             Conversation.flow == "questionnaire")
    drawn = Membership.drawn_round.is_not(None)
    partial = and_(started, Membership.submitted.is_(False))

    def n(*conditions):  # noqa: ANN202
        return func.coalesce(func.sum(case((and_(*conditions), 1), else_=0)), 0)

    rows = session.exec(
        select(Membership.group_key, func.count(), n(Membership.submitted.is_(True)),
               n(Membership.status == "opted_out"), n(partial), n(Person.status == "unreachable"),
               n(drawn), n(drawn, Membership.invited_at.is_not(None)), n(drawn, Membership.submitted.is_(True)),
               n(drawn, partial))
        .join(Person, Person.id == Membership.person_id)
        # Not enrolled until they agree (a submitted ballot implies they did).
        .where(Membership.campaign_id == cid, or_(Membership.consented.is_(True), Membership.submitted.is_(True)))
        .group_by(Membership.group_key)
    ).all()
    counts = {g.key: dict.fromkeys(_FIELDS, 0) for g in campaign.rater_groups}
    for key, *figures in rows:
        counts[key] = {f: int(v) for f, v in zip(_FIELDS, figures, strict=True)}
    ballots = dict(session.exec(
        select(Ballot.group_key, func.count()).where(Ballot.campaign_id == cid).group_by(Ballot.group_key)
    ).all())
    pools = pool_counts(session, cid)
    opened = {g.key: g.open or not g.sample for g in campaign.rater_groups}
    return [GroupProgress(group=k, ballots=ballots.get(k, 0), pool=pools.get(k, 0), open=opened.get(k, False), **c)
            for k, c in counts.items()]
