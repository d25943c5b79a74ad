"""Storing campaign definitions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, delete, func, select

from flows.campaign import Campaign
from storage.models import (
    CampaignRow,
    CategoryRow,
    Conversation,
    EvalueeRow,
    Membership,
    RaterGroupRow,
    utcnow,
)


class CampaignLocked(Exception):
    """The campaign already has raters or ballots; its structure can no longer change."""


class BadPrevious(ValueError):
    """``previous:`` names a campaign that cannot be this one's earlier round."""


class UnknownCampaign(LookupError):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no such campaign '{campaign_id}' (load one with: minping campaign load FILE)")
        self.campaign_id = campaign_id


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


def check_previous(session: Session, campaign: Campaign) -> None:
    """``previous:`` must name a stored, closed campaign sharing evaluee keys with this
    one (its tally, frozen at close, is what the trend compares with)."""
    if campaign.previous is None:
        return
    row = session.get(CampaignRow, campaign.previous)
    if row is None:
        raise BadPrevious(f"previous: no campaign '{campaign.previous}' is loaded "
                          f"(load the earlier round first; loaded: {', '.join(list_ids(session)) or 'none'})")
    if not row.closed:
        raise BadPrevious(f"previous: campaign '{campaign.previous}' is not closed yet; a trend compares with a "
                          f"closed round (minping close {campaign.previous})")
    mine = {e.key for e in campaign.evaluees}
    theirs = {e["key"] for e in row.definition.get("evaluees", [])}
    if not mine & theirs:
        raise BadPrevious(f"previous: campaign '{campaign.previous}' shares no evaluee key with '{campaign.id}' "
                          f"(its evaluees: {', '.join(sorted(theirs))}); the same unit must keep the same key")


def list_ids(session: Session) -> list[str]:
    return list(session.exec(select(CampaignRow.id).order_by(CampaignRow.id)))


def reload_refusal(session: Session, campaign: Campaign, now: datetime | None = None) -> str | None:
    """Why re-loading ``campaign`` over the stored one must be refused (None: it may be
    stored, after the organizer reviewed the changes). Once people have answered, only
    texts, dates, weights and schedules may change: keys that ballots refer to may not;
    an open campaign with ballots or raters answering stays open."""
    from flows.changes import phase_at

    row = session.get(CampaignRow, campaign.id)
    if row is None:
        return None
    now = now or datetime.now(UTC)
    old = Campaign.model_validate(row.definition)
    if row.closed:
        return f"campaign '{campaign.id}' is closed and can no longer change"
    ballots = row.sealed_count  # in the chain or still in envelopes
    members = session.exec(
        select(func.count()).select_from(Membership).where(Membership.campaign_id == campaign.id)).one()
    started = ballots + members
    if started and _structure(old) != _structure(campaign):
        return (f"campaign '{campaign.id}' already has raters; its evaluees, dimensions, scale and "
                "rater groups can no longer change (texts, dates, weights and the schedule can)")
    # Raters were promised a sealed count and a minimum group size for anonymity:
    # a reload may tighten these, never loosen them.
    if started and old.sealed and not campaign.sealed:
        return (f"campaign '{campaign.id}' already has raters and was announced as sealed; "
                "it stays sealed until `minping close`")
    if started and campaign.min_group_size < old.min_group_size:
        return (f"campaign '{campaign.id}' already has raters; min_group_size may rise but "
                f"not fall below {old.min_group_size} (it protects their anonymity)")
    from storage.draw import DrawRow

    if session.get(DrawRow, campaign.id) is not None:
        moved = [f"{g.key} {g.sample} → {campaign.group(g.key).sample}" for g in old.rater_groups
                 if g.key in {x.key for x in campaign.rater_groups} and campaign.group(g.key).sample != g.sample]
        if moved:
            return (f"the draw of campaign '{campaign.id}' is committed with its published sample sizes; they "
                    f"can no longer change ({', '.join(moved)}). Before the reveal, withdraw the commitment "
                    f"with `minping sample {campaign.id} --uncommit`, then load, then commit again")
    before = phase(row, now)
    after = phase_at(campaign.opens, campaign.closes, row.closed, now)
    if before == "open" and after != "open":
        drafts = session.exec(select(func.count()).select_from(Conversation).where(
            Conversation.campaign_id == campaign.id, Conversation.flow == "questionnaire")).one()
        if ballots or drafts:
            made = (f"upcoming again (opens {campaign.opens:%Y-%m-%d %H:%M})" if after == "upcoming"
                    else f"past its closing time (closes {campaign.closes:%Y-%m-%d %H:%M})")
            return (f"campaign '{campaign.id}' is open with {ballots} ballot(s) and {drafts} rater(s) in the middle "
                    f"of answering: the new file would make it {made}, and they would be turned away. Keep it "
                    f"open (opens in the past, closes in the future); to end it, use `minping close {campaign.id}`")
    return None


def store_campaign(session: Session, campaign: Campaign, source: str, now: datetime | None = None) -> LoadResult:
    """Insert or update a campaign; an update is refused (``CampaignLocked``) for the
    reasons of ``reload_refusal``. ``previous:`` is checked (``check_previous``)."""
    check_previous(session, campaign)
    row = session.get(CampaignRow, campaign.id)
    definition = campaign.model_dump(mode="json")
    if row is not None:
        if (refusal := reload_refusal(session, campaign, now)) is not None:
            raise CampaignLocked(refusal)
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
    if row.closed or now >= row.closes:
        return "closed"
    if now < row.opens:
        return "upcoming"
    return "open"


def _utc(t: datetime) -> datetime:
    # SQLite keeps no offset: store every instant in UTC so it reads back right.
    return t.astimezone(UTC)


def close(session: Session, campaign_id: str) -> CampaignRow:
    """Mark the campaign closed: no ballot is accepted after this commits. The UPDATE
    takes the row lock first, so a submission in flight either comes before (and is
    counted) or sees ``closed`` (``storage.ballots.submit_ballot`` refuses it)."""
    from sqlmodel import update

    session.exec(update(CampaignRow).where(col(CampaignRow.id) == campaign_id).values(closed=True))
    row = get_row(session, campaign_id)
    session.refresh(row)
    return row
