"""Storing campaign definitions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, func, select

from flows.campaign import Campaign
from storage.models import Ballot, CampaignRow, CategoryRow, EvalueeRow, Membership, RaterGroupRow, utcnow


class CampaignLocked(Exception):
    """The campaign already has raters or ballots; its structure can no longer change."""


class UnknownCampaign(LookupError):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no campaign '{campaign_id}' (load one with: minping campaign load FILE)")


def genesis_hash(campaign_id: str) -> str:
    return hashlib.sha256(f"minping-genesis:{campaign_id}".encode()).hexdigest()


@dataclass(frozen=True)
class LoadResult:
    campaign_id: str
    created: bool


def _structure(c: Campaign) -> tuple:
    return (
        [e.key for e in c.evaluees],
        [(e.own_unit, e.category) for e in c.evaluees],
        [d.key for d in c.dimensions],
        [s.key for s in c.scale],
        [(g.key, g.rates, g.open) for g in c.rater_groups],
    )


def store_campaign(session: Session, campaign: Campaign, source: str) -> LoadResult:
    """Insert or update a campaign. Once people have answered, only texts, dates,
    weights and schedules may change: keys that ballots refer to may not."""
    row = session.get(CampaignRow, campaign.id)
    definition = campaign.model_dump(mode="json")
    if row is not None:
        old = Campaign.model_validate(row.definition)
        started = session.exec(select(func.count()).select_from(Ballot).where(Ballot.campaign_id == campaign.id)).one()
        started += session.exec(
            select(func.count()).select_from(Membership).where(Membership.campaign_id == campaign.id)
        ).one()
        if started and _structure(old) != _structure(campaign):
            raise CampaignLocked(
                f"campaign '{campaign.id}' already has raters; its evaluees, dimensions, scale and "
                "rater groups can no longer change (texts, dates, weights and the schedule can)"
            )
        if row.closed:
            raise CampaignLocked(f"campaign '{campaign.id}' is closed and can no longer change")
        # Raters were promised a sealed count and a minimum group size for anonymity:
        # a reload may tighten these, never loosen them.
        if started and old.sealed and not campaign.sealed:
            raise CampaignLocked(f"campaign '{campaign.id}' already has raters and was announced as sealed; "
                                 "it stays sealed until `minping close`")
        if started and campaign.min_group_size < old.min_group_size:
            raise CampaignLocked(f"campaign '{campaign.id}' already has raters; min_group_size may rise but "
                                 f"not fall below {old.min_group_size} (it protects their anonymity)")
        for table in (CategoryRow, EvalueeRow, RaterGroupRow):
            session.exec(delete(table).where(col(table.campaign_id) == campaign.id))
        row.title, row.definition, row.source = campaign.title, definition, source
        row.opens, row.closes, row.sealed = _utc(campaign.opens), _utc(campaign.closes), campaign.sealed
        row.loaded_at = utcnow()
        created = False
    else:
        row = CampaignRow(
            id=campaign.id, title=campaign.title, definition=definition, source=source,
            opens=_utc(campaign.opens), closes=_utc(campaign.closes), sealed=campaign.sealed,
            chain_head=genesis_hash(campaign.id),
        )
        created = True
    session.add(row)
    session.flush()
    for i, c in enumerate(campaign.categories):
        session.add(CategoryRow(campaign_id=campaign.id, key=c.key, label=c.label, position=i))
    for i, e in enumerate(campaign.evaluees):
        session.add(EvalueeRow(campaign_id=campaign.id, key=e.key, category_key=e.category, kind=e.kind,
                               unit=e.own_unit, name=e.name, position=i))
    for i, g in enumerate(campaign.rater_groups):
        session.add(RaterGroupRow(campaign_id=campaign.id, key=g.key, label=g.label, weight=g.weight,
                                  sample=g.sample, open=g.open, rates=g.rates, position=i))
    return LoadResult(campaign.id, created)


def get_campaign(session: Session, campaign_id: str) -> Campaign:
    row = session.get(CampaignRow, campaign_id)
    if row is None:
        raise UnknownCampaign(campaign_id)
    return Campaign.model_validate(row.definition)


_PHASE_COLUMNS = select(CampaignRow.opens, CampaignRow.closes, CampaignRow.closed).where(
    CampaignRow.id == bindparam("campaign_id"))


def get_row(session: Session, campaign_id: str) -> CampaignRow:
    row = session.get(CampaignRow, campaign_id)
    if row is None:
        raise UnknownCampaign(campaign_id)
    return row


def phase_row(session: Session, campaign_id: str):  # noqa: ANN201
    """Only the columns ``phase`` reads: loading the whole row parses the stored
    definition (JSON), which a chat step does not need."""
    row = session.execute(_PHASE_COLUMNS, {"campaign_id": campaign_id}).first()
    if row is None:
        raise UnknownCampaign(campaign_id)
    return row


def list_campaigns(session: Session) -> list[CampaignRow]:
    return list(session.exec(select(CampaignRow).order_by(CampaignRow.opens)))


def phase(row: CampaignRow, now: datetime | None = None) -> str:
    """upcoming | open | closed."""
    now = now or datetime.now(UTC)
    if row.closed or now >= _aware(row.closes):
        return "closed"
    if now < _aware(row.opens):
        return "upcoming"
    return "open"


def _utc(t: datetime) -> datetime:
    # SQLite keeps no offset: store every instant in UTC so it reads back right.
    return t.astimezone(UTC)


def _aware(t: datetime) -> datetime:
    # SQLite returns naive datetimes (stored as UTC).
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def close(session: Session, campaign_id: str) -> CampaignRow:
    """Mark the campaign closed: no ballot is accepted after this commits. The UPDATE
    takes the row lock first, so a submission in flight either comes before (and is
    counted) or sees ``closed`` (``storage.ballots.submit_ballot`` refuses it)."""
    from sqlmodel import update

    session.exec(update(CampaignRow).where(col(CampaignRow.id) == campaign_id).values(closed=True))
    row = get_row(session, campaign_id)
    session.refresh(row)
    return row
