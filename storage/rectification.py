"""Feedback to evaluees and rectification: tables and queries.

* ``evaluee_contact``: who speaks for an evaluee in the bot (bound with a single-use
  ``evaluee`` code; organizers unbind). Several contacts per evaluee.
* ``feedback_notice`` / ``notice_item``: the rectification notice (整改通知书) of an
  evaluee, published once after close; items are the scrubbed opinions, numbered in a
  random order. An item carries no ballot id: nothing links it back to a ballot.
* ``rectification_round``: round 1 starts at publication; a round has a deadline (a date
  in the campaign's time zone, the round ends when that day ends), a follow-up survey
  and its result. A further round is opened when the result is below the threshold.
* ``rectification_plan``: a measure answering one or more items (owner, deadline,
  progress, done); or (``kind`` praise / remit) the contact's statement that the items
  need no rectification, the measure holding the reason: counted apart, never overdue.
* ``followup_asked`` / ``followup_answer``: the follow-up survey. Like ballots, the answer
  rows carry no person and no time (a random id, the round, the option); the person keeps
  only "asked" and "answered".

Functions flush but never commit: the caller owns the transaction.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Column, Date, Text, UniqueConstraint, func, update
from sqlmodel import Field, Session, SQLModel, select

from storage.models import CHANNEL_DEFAULT, MemberStatus, Membership, Person, PersonStatus, _ts
from storage.types import AwareDateTime, PlanStatus


class EvalueeContact(SQLModel, table=True):
    __tablename__ = "evaluee_contact"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    evaluee_key: str = Field(max_length=40)
    person_id: int = Field(foreign_key="person.id", index=True)
    bound_at: datetime = _ts()
    unbound_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))


class FeedbackNotice(SQLModel, table=True):
    __tablename__ = "feedback_notice"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    evaluee_key: str = Field(primary_key=True, max_length=40)
    published_at: datetime = _ts()
    dropped: int = 0  # opinions left empty after scrubbing


class NoticeItem(SQLModel, table=True):
    __tablename__ = "notice_item"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    evaluee_key: str = Field(primary_key=True, max_length=40)
    number: int = Field(primary_key=True)
    text: str = Field(sa_column=Column(Text, nullable=False))  # scrubbed, as typed otherwise


class RectRound(SQLModel, table=True):
    __tablename__ = "rectification_round"
    __table_args__ = (UniqueConstraint("campaign_id", "evaluee_key", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    evaluee_key: str = Field(max_length=40)
    number: int
    started_at: datetime = _ts()
    deadline: date = Field(sa_column=Column(Date, nullable=False))
    survey_started_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    survey_closed_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    valid: int | None = None  # follow-up answers other than 不了解
    satisfied: int | None = None
    rate: float | None = None
    # Who was asked is forgotten at purge (storage/retention.py); how many is kept.
    asked_forgotten: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    answered_forgotten: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class RectPlan(SQLModel, table=True):
    __tablename__ = "rectification_plan"
    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rectification_round.id", index=True)
    items: list = Field(sa_column=Column(JSON, nullable=False))  # item numbers
    measure: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(max_length=200)
    deadline: date = Field(sa_column=Column(Date, nullable=False))
    status: str = Field(default=PlanStatus.PLANNED, max_length=10)
    # plan | praise (the item praises: nothing to rectify) | remit (outside the evaluee's
    # remit); for the last two ``measure`` is the reason given.
    kind: str = Field(default="plan", max_length=10, sa_column_kwargs={"server_default": "plan"})
    progress: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    progress_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    done_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    created_at: datetime = _ts()


class FollowupAsked(SQLModel, table=True):
    __tablename__ = "followup_asked"
    round_id: int = Field(foreign_key="rectification_round.id", primary_key=True)
    person_id: int = Field(foreign_key="person.id", primary_key=True)
    answered: bool = False


class FollowupAnswer(SQLModel, table=True):
    """Anonymous like a ballot: random id, no person, no time."""

    __tablename__ = "followup_answer"
    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="rectification_round.id", index=True)
    option_key: str | None = Field(default=None, max_length=40)  # None = 不了解


# --- time ---------------------------------------------------------------------------------
def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def end_of(day: date, tz: str) -> datetime:
    """The instant a deadline day ends in the campaign's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))


# --- contacts -----------------------------------------------------------------------------
class OtherEvaluee(Exception):
    """The person already speaks for another evaluee of this campaign."""

    def __init__(self, evaluee_key: str) -> None:
        super().__init__(evaluee_key)
        self.evaluee_key = evaluee_key


def contact_of(session: Session, campaign_id: str, person_id: int) -> EvalueeContact | None:
    return session.exec(select(EvalueeContact).where(
        EvalueeContact.campaign_id == campaign_id, EvalueeContact.person_id == person_id,
        EvalueeContact.unbound_at.is_(None))).first()


def bind(session: Session, campaign_id: str, evaluee_key: str, person_id: int) -> EvalueeContact:
    """Make the person a contact of the evaluee (idempotent). One evaluee per person and
    campaign: the chat has one rectification conversation per campaign."""
    current = contact_of(session, campaign_id, person_id)
    if current is not None:
        if current.evaluee_key != evaluee_key:
            raise OtherEvaluee(current.evaluee_key)
        return current
    contact = EvalueeContact(campaign_id=campaign_id, evaluee_key=evaluee_key, person_id=person_id)
    session.add(contact)
    session.flush()
    return contact


def unbind(session: Session, campaign_id: str, evaluee_key: str, chat_id: int, now: datetime,
           channel: str = CHANNEL_DEFAULT) -> bool:
    res = session.execute(
        update(EvalueeContact)
        .where(EvalueeContact.campaign_id == campaign_id, EvalueeContact.evaluee_key == evaluee_key,
               EvalueeContact.unbound_at.is_(None),
               EvalueeContact.person_id.in_(select(Person.id).where(Person.channel == channel, Person.chat_id == chat_id)))
        .values(unbound_at=now))
    return bool(res.rowcount)


def contacts(session: Session, campaign_id: str, evaluee_key: str, *, reachable: bool = False) -> list[Person]:
    """The evaluee's bound contacts (with ``reachable``: only those we may message)."""
    stmt = (select(Person).join(EvalueeContact, EvalueeContact.person_id == Person.id)
            .where(EvalueeContact.campaign_id == campaign_id, EvalueeContact.evaluee_key == evaluee_key,
                   EvalueeContact.unbound_at.is_(None)).order_by(EvalueeContact.id))
    if reachable:
        stmt = stmt.where(Person.status == PersonStatus.ACTIVE)
    return list(session.exec(stmt))


# --- notices ------------------------------------------------------------------------------
def notice(session: Session, campaign_id: str, evaluee_key: str) -> FeedbackNotice | None:
    return session.get(FeedbackNotice, (campaign_id, evaluee_key))


def store_notice(session: Session, campaign_id: str, evaluee_key: str, texts: list[str], dropped: int,
                 now: datetime) -> FeedbackNotice:
    """Store a notice with its items numbered 1.. in the order given (shuffle first)."""
    row = FeedbackNotice(campaign_id=campaign_id, evaluee_key=evaluee_key, published_at=now, dropped=dropped)
    session.add(row)
    session.add_all(NoticeItem(campaign_id=campaign_id, evaluee_key=evaluee_key, number=i, text=t)
                    for i, t in enumerate(texts, 1))
    session.flush()
    return row


def items(session: Session, campaign_id: str, evaluee_key: str) -> list[NoticeItem]:
    return list(session.exec(select(NoticeItem).where(
        NoticeItem.campaign_id == campaign_id, NoticeItem.evaluee_key == evaluee_key).order_by(NoticeItem.number)))


# --- rounds and plans ------------------------------------------------------------------------
def open_round(session: Session, campaign_id: str, evaluee_key: str, number: int, deadline: date,
               now: datetime) -> RectRound:
    row = RectRound(campaign_id=campaign_id, evaluee_key=evaluee_key, number=number, deadline=deadline,
                    started_at=now)
    session.add(row)
    session.flush()
    return row


def current_round(session: Session, campaign_id: str, evaluee_key: str) -> RectRound | None:
    return session.exec(select(RectRound).where(
        RectRound.campaign_id == campaign_id, RectRound.evaluee_key == evaluee_key)
        .order_by(RectRound.number.desc())).first()


def rounds(session: Session, campaign_id: str, evaluee_key: str | None = None) -> list[RectRound]:
    stmt = select(RectRound).where(RectRound.campaign_id == campaign_id)
    if evaluee_key is not None:
        stmt = stmt.where(RectRound.evaluee_key == evaluee_key)
    return list(session.exec(stmt.order_by(RectRound.evaluee_key, RectRound.number)))


def all_open_rounds(session: Session) -> list[RectRound]:
    """Rounds whose follow-up survey is not closed yet (work for the jobs)."""
    return list(session.exec(select(RectRound).where(RectRound.survey_closed_at.is_(None)).order_by(RectRound.id)))


def plans(session: Session, round_id: int) -> list[RectPlan]:
    return list(session.exec(select(RectPlan).where(RectPlan.round_id == round_id).order_by(RectPlan.id)))


def all_plans(session: Session, campaign_id: str) -> list[tuple[RectRound, RectPlan]]:
    """Every round's plans of a campaign, by evaluee, round and filing order."""
    return list(session.exec(select(RectRound, RectPlan).join(RectPlan, RectPlan.round_id == RectRound.id)
                             .where(RectRound.campaign_id == campaign_id)
                             .order_by(RectRound.evaluee_key, RectRound.number, RectPlan.id)))


NO_RECTIFICATION = ("praise", "remit")


def add_plan(session: Session, round_id: int, item_numbers: list[int], measure: str, owner: str,
             deadline: date, kind: str = "plan") -> RectPlan:
    """A plan (``kind`` plan), or a "no rectification needed" answer (praise / remit)
    with its reason as ``measure``."""
    plan = RectPlan(round_id=round_id, items=sorted(set(item_numbers)), measure=measure, owner=owner,
                    deadline=deadline, kind=kind)
    session.add(plan)
    session.flush()
    return plan


def record_progress(session: Session, plan: RectPlan, text: str, now: datetime) -> None:
    plan.progress, plan.progress_at = text, now
    session.add(plan)


def mark_done(session: Session, plan: RectPlan, now: datetime) -> None:
    plan.status, plan.done_at = PlanStatus.DONE, now
    session.add(plan)


# --- follow-up survey ------------------------------------------------------------------------
def raters_of(session: Session, campaign, evaluee_key: str) -> list[Person]:  # noqa: ANN001
    """People we may ask about this evaluee: they submitted a ballot in a group that rates
    it (drawn and open groups alike; an after-service rater only about their one evaluee),
    have not opted out of the campaign (/stop) and are reachable (person status active).
    Which of them wrote which opinion is unknowable: ballots carry no person."""
    members = session.exec(
        select(Membership, Person).join(Person, Person.id == Membership.person_id)
        .where(Membership.campaign_id == campaign.id, Membership.submitted.is_(True),
               Membership.status != MemberStatus.OPTED_OUT, Person.status == PersonStatus.ACTIVE)
        .order_by(Membership.id))
    return [p for m, p in members
            if (m.only_evaluee == evaluee_key if m.only_evaluee is not None
                else any(e.key == evaluee_key for e in campaign.evaluees_for(m.group_key, m.unit)))]


def ask(session: Session, round_id: int, person_id: int) -> bool:
    """Record that the person is asked; False if they were already."""
    if session.get(FollowupAsked, (round_id, person_id)) is not None:
        return False
    session.add(FollowupAsked(round_id=round_id, person_id=person_id))
    session.flush()
    return True


class NotAsked(Exception):
    pass


class AlreadyAnswered(Exception):
    pass


def answer(session: Session, round_id: int, person_id: int, option_key: str | None) -> None:
    """Record one anonymous answer and flip the person's "answered" flag, atomically
    (a conditional UPDATE, so a double tap cannot answer twice)."""
    res = session.execute(update(FollowupAsked)
                          .where(FollowupAsked.round_id == round_id, FollowupAsked.person_id == person_id,
                                 FollowupAsked.answered.is_(False))
                          .values(answered=True))
    if not res.rowcount:
        if session.get(FollowupAsked, (round_id, person_id)) is None:
            raise NotAsked(round_id)
        raise AlreadyAnswered(round_id)
    session.add(FollowupAnswer(id=secrets.token_hex(16), round_id=round_id, option_key=option_key))
    session.flush()


def followup_counts(session: Session, round_id: int) -> tuple[int, int, dict[str | None, int]]:
    """(asked, answered, answers per option key)."""
    asked = session.exec(select(func.count()).select_from(FollowupAsked)
                         .where(FollowupAsked.round_id == round_id)).one()
    answered = session.exec(select(func.count()).select_from(FollowupAsked)
                            .where(FollowupAsked.round_id == round_id, FollowupAsked.answered.is_(True))).one()
    per = dict(session.exec(select(FollowupAnswer.option_key, func.count())
                            .where(FollowupAnswer.round_id == round_id).group_by(FollowupAnswer.option_key)).all())
    rnd = session.get(RectRound, round_id)
    if rnd is not None:  # the people asked before a purge, as counts
        asked, answered = asked + rnd.asked_forgotten, answered + rnd.answered_forgotten
    return int(asked), int(answered), per


def followup_counts_of(session: Session, campaign_id: str) -> list[tuple[RectRound, int, int]]:
    """Per rectification round of the campaign: (round, answers stored, people marked
    answered). Equal unless an answer was added or dropped beside its mark."""
    rounds = list(session.exec(select(RectRound).where(RectRound.campaign_id == campaign_id)
                               .order_by(RectRound.id)))
    out = []
    for rnd in rounds:
        _, answered, per = followup_counts(session, rnd.id)
        out.append((rnd, sum(per.values()), answered))
    return out


def close_survey(session: Session, rnd: RectRound, satisfied: int, valid: int, now: datetime) -> None:
    rnd.survey_closed_at = now
    rnd.satisfied, rnd.valid = satisfied, valid
    rnd.rate = satisfied / valid if valid else None
    session.add(rnd)

