"""Stored results: the tally sealed at close, daily-assessment deductions and bonus
awards (with who recorded them and when), and organizers bound by a one-time code.

The stored tally keeps the ballot-chain head and count it was computed from, so
``minping verify`` can show the published figures still match the ballots.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from flows.campaign import Campaign
from storage.models import utcnow


class StoredTally(SQLModel, table=True):
    """The tally computed by ``minping close``: one row per campaign."""

    __tablename__ = "tally"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    chain_head: str = Field(max_length=64)  # the ballot chain when the campaign closed
    chain_count: int
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # reports.tally.to_json
    computed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ScoreEvent(SQLModel, table=True):
    """A daily-assessment deduction or a bonus award for one evaluee."""

    __tablename__ = "score_event"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    evaluee_key: str = Field(max_length=40)
    kind: str = Field(max_length=10)  # deduction | bonus
    item: str = Field(max_length=40)  # a key of scoring.deductions / scoring.bonus
    points: float  # as in the campaign file when recorded
    note: str | None = Field(default=None, max_length=500)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


class OrganizerBinding(SQLModel, table=True):
    """A chat bound as organizer of a campaign by redeeming a one-time organizer code."""

    __tablename__ = "organizer_binding"
    __table_args__ = (UniqueConstraint("campaign_id", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    bound_at: datetime = Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


# --- organizers ---------------------------------------------------------------------
def _chat_id(person) -> int:  # noqa: ANN001  (a Person or a chat id)
    return person if isinstance(person, int) else person.chat_id


def is_organizer(session: Session, campaign: Campaign, person) -> bool:  # noqa: ANN001
    """Listed in the campaign file, or bound with an organizer code."""
    chat_id = _chat_id(person)
    if chat_id in campaign.organizers:
        return True
    return session.exec(select(OrganizerBinding.id).where(
        OrganizerBinding.campaign_id == campaign.id, OrganizerBinding.chat_id == chat_id)).first() is not None


def organizers(session: Session, campaign: Campaign) -> list[int]:
    """Chat ids of every organizer: the file's first, then bound ones, no repeats."""
    bound = session.exec(select(OrganizerBinding.chat_id).where(OrganizerBinding.campaign_id == campaign.id)
                         .order_by(OrganizerBinding.id)).all()
    return list(dict.fromkeys([*campaign.organizers, *bound]))


def bind_organizer(session: Session, campaign_id: str, chat_id: int) -> bool:
    """Bind ``chat_id``; False if it was bound already."""
    if session.exec(select(OrganizerBinding.id).where(
            OrganizerBinding.campaign_id == campaign_id, OrganizerBinding.chat_id == chat_id)).first():
        return False
    session.add(OrganizerBinding(campaign_id=campaign_id, chat_id=chat_id))
    session.flush()
    return True


def campaigns_of(session: Session, chat_id: int, candidates: list[Campaign]) -> list[Campaign]:
    return [c for c in candidates if is_organizer(session, c, chat_id)]


# --- deductions and bonuses -----------------------------------------------------------
class UnknownItem(ValueError):
    pass


def record_event(session: Session, campaign: Campaign, evaluee_key: str, kind: str, item: str,
                 recorded_by: str, note: str | None = None, now: datetime | None = None) -> ScoreEvent:
    """Record a deduction or bonus; the points come from the campaign file."""
    if evaluee_key not in {e.key for e in campaign.evaluees}:
        raise UnknownItem(f"no evaluee '{evaluee_key}' in campaign '{campaign.id}' "
                          f"(evaluees: {', '.join(e.key for e in campaign.evaluees)})")
    table = {"deduction": campaign.scoring.deductions, "bonus": campaign.scoring.bonus}.get(kind)
    if table is None:
        raise UnknownItem(f"kind must be 'deduction' or 'bonus', got '{kind}'")
    if item not in table:
        known = ", ".join(table) or "none defined"
        raise UnknownItem(f"'{item}' is not a {kind} of campaign '{campaign.id}' (defined: {known})")
    ev = ScoreEvent(campaign_id=campaign.id, evaluee_key=evaluee_key, kind=kind, item=item,
                    points=float(table[item]), note=note, recorded_by=recorded_by, recorded_at=now or utcnow())
    session.add(ev)
    session.flush()
    return ev


def events(session: Session, campaign_id: str) -> list[ScoreEvent]:
    return list(session.exec(select(ScoreEvent).where(ScoreEvent.campaign_id == campaign_id).order_by(ScoreEvent.id)))


# --- the stored tally -------------------------------------------------------------------
def save(session: Session, campaign_id: str, chain_head: str, chain_count: int, data: dict,
         computed_at: datetime) -> None:
    row = session.get(StoredTally, campaign_id)
    if row is None:
        row = StoredTally(campaign_id=campaign_id, chain_head=chain_head, chain_count=chain_count, data=data,
                          computed_at=computed_at)
    else:
        row.chain_head, row.chain_count, row.data, row.computed_at = chain_head, chain_count, data, computed_at
    session.add(row)
    session.flush()


def load(session: Session, campaign_id: str) -> StoredTally | None:
    return session.get(StoredTally, campaign_id)
