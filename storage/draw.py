"""The draw's records: the frozen pool per sampled rater group, the seed and its
commitment, and who was drawn in which round (``Membership.drawn_round``).

The procedure itself is pure and lives in ``flows.sampling``; this module freezes the
pool from the memberships, keeps the seed secret until reveal and records the result.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Column, DateTime, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, select

from flows import sampling
from flows.campaign import Campaign


class DrawRow(SQLModel, table=True):
    """One per campaign: the pseudonym key, the seed (secret until reveal), the commitment."""

    __tablename__ = "draw"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    secret: str = Field(max_length=64)  # HMAC key of the pseudonyms; never published
    seed: str = Field(max_length=64)  # published at reveal
    pool_digest: str = Field(max_length=64)
    commitment: str = Field(max_length=64)
    committed_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revealed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


class PoolEntry(SQLModel, table=True):
    """A membership in a frozen pool, known to the public only by its pseudonym."""

    __tablename__ = "draw_pool"
    __table_args__ = (UniqueConstraint("campaign_id", "membership_id"),)
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    pseudonym: str = Field(primary_key=True, max_length=16)
    group_key: str = Field(max_length=40)
    membership_id: int = Field(foreign_key="membership.id")


class DrawError(Exception):
    """A draw step that cannot be done now (clear message for the organizer)."""


@dataclass
class Commit:
    pools: dict[str, list[str]]
    samples: dict[str, int]
    pool_digest: str
    commitment: str


@dataclass
class Reveal:
    seed: str
    drawn: dict[str, list[str]]
    short: list[tuple[str, int, int]] = field(default_factory=list)  # (group, pool size, sample)


def sampled_groups(campaign: Campaign) -> list[str]:
    return [g.key for g in campaign.rater_groups if not g.open and g.sample]


def get(session: Session, campaign_id: str) -> DrawRow | None:
    return session.get(DrawRow, campaign_id)


def committed(session: Session, campaign_id: str) -> bool:
    return get(session, campaign_id) is not None


def revealed(session: Session, campaign_id: str) -> bool:
    row = get(session, campaign_id)
    return row is not None and row.revealed_at is not None


def in_pool(session: Session, membership_id: int) -> bool:
    return session.exec(select(PoolEntry.pseudonym).where(PoolEntry.membership_id == membership_id)).first() is not None


def pools(session: Session, campaign_id: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for g, p in session.exec(select(PoolEntry.group_key, PoolEntry.pseudonym)
                             .where(PoolEntry.campaign_id == campaign_id)):
        out.setdefault(g, []).append(p)
    return sampling.canonical_pool(out)


def commit(session: Session, campaign: Campaign, now: datetime) -> Commit:
    """Freeze each sampled group's pool (consented, not opted out, not an after-service
    rater) and commit to a fresh seed. Once only per campaign."""
    from storage.models import Membership

    if committed(session, campaign.id):
        raise DrawError(f"the pool of campaign '{campaign.id}' is already frozen and committed")
    groups = sampled_groups(campaign)
    if not groups:
        raise DrawError(f"campaign '{campaign.id}' has no sampled rater group (all are open)")
    secret = secrets.token_bytes(32)
    members = session.exec(select(Membership).where(
        Membership.campaign_id == campaign.id, Membership.group_key.in_(groups), Membership.consented,
        Membership.status != "opted_out", Membership.only_evaluee.is_(None))).all()
    by_group: dict[str, list[str]] = {g: [] for g in groups}
    for m in members:
        p = sampling.pseudonym(secret, campaign.id, m.id)
        by_group[m.group_key].append(p)
        session.add(PoolEntry(campaign_id=campaign.id, pseudonym=p, group_key=m.group_key, membership_id=m.id))
    seed = secrets.token_hex(32)
    digest = sampling.pool_digest(by_group)
    row = DrawRow(campaign_id=campaign.id, secret=secret.hex(), seed=seed, pool_digest=digest,
                  commitment=sampling.commitment(seed, digest), committed_at=now)
    session.add(row)
    session.flush()
    return Commit(sampling.canonical_pool(by_group), {g: campaign.group(g).sample for g in groups}, digest,
                  row.commitment)


def pool_file(session: Session, campaign: Campaign) -> dict:
    """The list to publish at commit: pseudonyms per group, sample sizes, the digest,
    the commitment and the procedure. No names, chat ids or membership ids."""
    row = get(session, campaign.id)
    if row is None:
        raise DrawError(f"campaign '{campaign.id}' has no committed draw yet (run: minping sample {campaign.id} --commit)")
    p = pools(session, campaign.id)
    return {"campaign": campaign.id, "procedure": sampling.PROCEDURE, "pool_digest": row.pool_digest,
            "commitment": row.commitment,
            "groups": {g: {"sample": campaign.group(g).sample, "pool": p.get(g, [])} for g in sampled_groups(campaign)}}


def _entries(session: Session, campaign_id: str, group: str | None = None):  # noqa: ANN202
    from storage.models import Membership

    q = (select(PoolEntry, Membership).join(Membership, Membership.id == PoolEntry.membership_id)
         .where(PoolEntry.campaign_id == campaign_id))
    if group is not None:
        q = q.where(PoolEntry.group_key == group)
    return session.exec(q).all()


def _mark(session: Session, members, round_no: int) -> None:  # noqa: ANN001
    for m in members:
        m.drawn_round = round_no
        if m.status == "enrolled":
            m.status = "drawn"
        session.add(m)


def reveal(session: Session, campaign: Campaign, now: datetime) -> Reveal:
    """Draw round 1 of every sampled group with the committed seed; record it."""
    row = get(session, campaign.id)
    if row is None:
        raise DrawError(f"commit the draw first: minping sample {campaign.id} --commit")
    if row.revealed_at is not None:
        raise DrawError(f"the draw of campaign '{campaign.id}' was already revealed (seed {row.seed})")
    entries = _entries(session, campaign.id)
    result = Reveal(row.seed, {})
    for g in sampled_groups(campaign):
        by_p = {e.pseudonym: m for e, m in entries if e.group_key == g}
        n = campaign.group(g).sample
        chosen = sampling.draw(row.seed, by_p, n)
        if len(by_p) < n:
            result.short.append((g, len(by_p), n))
        _mark(session, [by_p[p] for p in chosen], 1)
        result.drawn[g] = chosen
    row.revealed_at = now
    session.add(row)
    session.flush()
    return result


def replace(session: Session, campaign: Campaign, group: str) -> tuple[int, list[str]]:
    """A replacement round for ``group``: one replacement for each non-responder (not
    submitted) of the latest round, the next pseudonyms in draw order. The latest round
    must have been invited first. Returns (round, pseudonyms)."""
    row = get(session, campaign.id)
    if row is None or row.revealed_at is None:
        raise DrawError("replacements come after the draw: run minping sample --commit, then --reveal")
    if group not in sampled_groups(campaign):
        raise DrawError(f"'{group}' is not a sampled rater group of campaign '{campaign.id}' "
                        f"(sampled: {', '.join(sampled_groups(campaign)) or 'none'})")
    entries = _entries(session, campaign.id, group)
    drawn = [m for _, m in entries if m.drawn_round is not None]
    if not drawn:
        raise DrawError(f"nobody of group '{group}' was drawn (its pool is empty)")
    latest = max(m.drawn_round for m in drawn)
    last = [m for m in drawn if m.drawn_round == latest]
    if any(m.invited_at is None and m.status != "opted_out" and not m.submitted for m in last):
        raise DrawError(f"round {latest} of group '{group}' has not been invited yet: run minping invite first")
    k = sum(1 for m in last if not m.submitted)
    if k == 0:
        raise DrawError(f"group '{group}' has no non-responder in round {latest} to replace")
    by_p = {e.pseudonym: m for e, m in entries}
    rest = [p for p in sampling.order(row.seed, by_p) if by_p[p].drawn_round is None]
    if not rest:
        raise DrawError(f"the pool of group '{group}' is exhausted: nobody is left to draw")
    chosen = rest[:k]
    _mark(session, [by_p[p] for p in chosen], latest + 1)
    session.flush()
    return latest + 1, chosen


def drawn_file(session: Session, campaign: Campaign) -> dict:
    """The list to publish at reveal: the seed and the pseudonyms drawn per group and round."""
    row = get(session, campaign.id)
    if row is None or row.revealed_at is None:
        raise DrawError(f"campaign '{campaign.id}' has no revealed draw yet")
    rounds: dict[str, list[list[str]]] = {g: [[]] for g in sampled_groups(campaign)}
    for e, m in _entries(session, campaign.id):
        if m.drawn_round is not None:
            r = rounds.setdefault(e.group_key, [[]])
            while len(r) < m.drawn_round:
                r.append([])
            r[m.drawn_round - 1].append(e.pseudonym)
    return {"campaign": campaign.id, "seed": row.seed, "commitment": row.commitment,
            "drawn": {g: [sorted(x) for x in r] for g, r in rounds.items()}}


def counts(session: Session, campaign_id: str) -> dict[str, int]:
    """Pool size per group."""
    return dict(session.exec(select(PoolEntry.group_key, func.count()).where(PoolEntry.campaign_id == campaign_id)
                             .group_by(PoolEntry.group_key)).all())
