"""Stored results: the tally sealed at close, daily-assessment deductions and bonus
awards (with who recorded them and when), and organizers bound by a one-time code.

The stored tally keeps the ballot-chain head and count it was computed from, so
``minping verify`` can show the published figures still match the ballots.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, Session, SQLModel, select

from flows.campaign import Campaign
from storage.models import utcnow
from storage.types import AwareDateTime


class StoredTally(SQLModel, table=True):
    """The tally computed by ``minping close``: one row per campaign."""

    __tablename__ = "tally"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    chain_head: str = Field(max_length=64)  # the ballot chain when the campaign closed
    chain_count: int
    data: dict = Field(sa_column=Column(JSON, nullable=False))  # reports.tally.to_json
    computed_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))


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
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime(), nullable=False))
    # `minping record void`: kept on record, no longer counted.
    voided_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    voided_by: str | None = Field(default=None, max_length=80)
    void_reason: str | None = Field(default=None, max_length=500)


class OrganizerBinding(SQLModel, table=True):
    """A chat bound as organizer of a campaign by redeeming a one-time organizer code."""

    __tablename__ = "organizer_binding"
    __table_args__ = (UniqueConstraint("campaign_id", "chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    bound_at: datetime = Field(default_factory=utcnow, sa_column=Column(AwareDateTime(), nullable=False))


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
# Records are never deleted: ``void_event`` marks one as no longer counting, with who,
# when and why. ``events`` (what the tally counts) leaves voided records out;
# ``list_events`` (the record book, for ``minping record list`` and exports) keeps them,
# with ``voided_at``/``voided_by``/``void_reason`` set.
OTHER = "other"  # DESIGN §3: a deduction "other (as recorded)": its points are given when recorded


class UnknownItem(ValueError):
    pass


def record_event(session: Session, campaign: Campaign, evaluee_key: str, kind: str, item: str,
                 recorded_by: str, note: str | None = None, now: datetime | None = None,
                 points: float | None = None) -> ScoreEvent:
    """Record a deduction or bonus. The points come from the campaign file, except for a
    deduction ``other`` not defined there, whose ``points`` (and ``note``, the reason)
    are given by the organizer."""
    if evaluee_key not in {e.key for e in campaign.evaluees}:
        raise UnknownItem(f"no evaluee '{evaluee_key}' in campaign '{campaign.id}' "
                          f"(evaluees: {', '.join(e.key for e in campaign.evaluees)})")
    table = {"deduction": campaign.scoring.deductions, "bonus": campaign.scoring.bonus}.get(kind)
    if table is None:
        raise UnknownItem(f"kind must be 'deduction' or 'bonus', got '{kind}'")
    if item in table:
        if points is not None:
            raise UnknownItem(f"'{item}' is worth {table[item]:g} points by the campaign file; --points is only "
                              f"for '{OTHER}' deductions")
        points = float(table[item])
    elif kind == "deduction" and item == OTHER:
        if points is None or not 0 < points <= campaign.scoring.daily_base:
            raise UnknownItem(f"an '{OTHER}' deduction needs --points N, more than 0 and at most the daily "
                              f"assessment's {campaign.scoring.daily_base:g}")
        if not (note or "").strip():
            raise UnknownItem(f"an '{OTHER}' deduction needs --note saying what happened (it is shown to the evaluee)")
    else:
        known = ", ".join(table) or "none defined"
        extra = f", or '{OTHER}' with --points N" if kind == "deduction" else ""
        raise UnknownItem(f"'{item}' is not a {kind} of campaign '{campaign.id}' (defined: {known}{extra})")
    ev = ScoreEvent(campaign_id=campaign.id, evaluee_key=evaluee_key, kind=kind, item=item,
                    points=float(points), note=note, recorded_by=recorded_by, recorded_at=now or utcnow())
    session.add(ev)
    session.flush()
    return ev


def duplicates(session: Session, campaign_id: str, evaluee_key: str, kind: str, item: str) -> list[ScoreEvent]:
    """Counting records of the same kind and item for the same evaluee (a second entry
    of one event is the usual mistake; ``minping record`` asks before adding it)."""
    return list(session.exec(select(ScoreEvent).where(
        ScoreEvent.campaign_id == campaign_id, ScoreEvent.evaluee_key == evaluee_key, ScoreEvent.kind == kind,
        ScoreEvent.item == item, ScoreEvent.voided_at.is_(None)).order_by(ScoreEvent.id)))


def events(session: Session, campaign_id: str) -> list[ScoreEvent]:
    """The records that count (voided ones left out), in the order recorded."""
    return list(session.exec(select(ScoreEvent).where(ScoreEvent.campaign_id == campaign_id,
                                                      ScoreEvent.voided_at.is_(None)).order_by(ScoreEvent.id)))


def list_events(session: Session, campaign_id: str, evaluee_key: str | None = None) -> list[ScoreEvent]:
    """Every record, voided ones included (``voided_at`` set), in the order recorded."""
    q = select(ScoreEvent).where(ScoreEvent.campaign_id == campaign_id)
    if evaluee_key is not None:
        q = q.where(ScoreEvent.evaluee_key == evaluee_key)
    return list(session.exec(q.order_by(ScoreEvent.id)))


def void_event(session: Session, campaign_id: str, event_id: int, reason: str, voided_by: str,
               now: datetime | None = None) -> ScoreEvent:
    """Mark a record as not counting (kept on record with who, when and why)."""
    ev = session.get(ScoreEvent, event_id)
    if ev is None or ev.campaign_id != campaign_id:
        raise UnknownItem(f"campaign '{campaign_id}' has no record {event_id} (see: minping record list {campaign_id})")
    if ev.voided_at is not None:
        raise UnknownItem(f"record {event_id} was already voided by {ev.voided_by}: {ev.void_reason}")
    if not reason.strip():
        raise UnknownItem("--reason must say why the record is voided")
    ev.voided_at, ev.voided_by, ev.void_reason = now or utcnow(), voided_by, reason.strip()
    session.add(ev)
    session.flush()
    return ev


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
