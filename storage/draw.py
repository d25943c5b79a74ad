"""The draw's records: the frozen pool per sampled rater group, the seed and its
commitment, and who was drawn in which round (``Membership.drawn_round``).

The procedure itself is pure and lives in ``flows.sampling``; this module freezes the
pool from the memberships, keeps the seed secret until reveal and records the result.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import JSON, Column, UniqueConstraint, func
from sqlmodel import Field, Session, SQLModel, col, delete, select

from flows import sampling
from flows.campaign import Campaign
from storage.types import AwareDateTime, MemberStatus


class DrawRow(SQLModel, table=True):
    """One per campaign: the pseudonym key, the seed (secret until reveal), the commitment."""

    __tablename__ = "draw"
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    secret: str = Field(max_length=64)  # HMAC key of the pseudonyms; never published
    seed: str = Field(max_length=64)  # the committed seed, published at reveal
    pool_digest: str = Field(max_length=64)
    commitment: str = Field(max_length=64)
    committed_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    revealed_at: datetime | None = Field(default=None, sa_column=Column(AwareDateTime(), nullable=True))
    # The public draw named at commit (``flows.sampling``: a draw nobody can choose) and
    # its result as entered at reveal. None: committed without one (legacy, --no-beacon).
    beacon: str | None = Field(default=None, max_length=300)
    beacon_value: str | None = Field(default=None, max_length=300)


class PoolEntry(SQLModel, table=True):
    """A membership in a frozen pool, known to the public only by its pseudonym."""

    __tablename__ = "draw_pool"
    __table_args__ = (UniqueConstraint("campaign_id", "membership_id"),)
    campaign_id: str = Field(foreign_key="campaign.id", primary_key=True, max_length=40)
    pseudonym: str = Field(primary_key=True, max_length=16)
    group_key: str = Field(max_length=40)
    membership_id: int = Field(foreign_key="membership.id")
    # Own-unit groups are drawn per unit (a stratum each); None for other groups.
    unit: str | None = Field(default=None, max_length=40)


class WithdrawnDraw(SQLModel, table=True):
    """A commitment withdrawn with ``minping sample --uncommit`` before its reveal. Kept
    on record with its seed, so anyone can see what that draw would have been."""

    __tablename__ = "draw_withdrawn"
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: str = Field(foreign_key="campaign.id", max_length=40, index=True)
    seed: str = Field(max_length=64)
    pool_digest: str = Field(max_length=64)
    commitment: str = Field(max_length=64)
    committed_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    withdrawn_at: datetime = Field(sa_column=Column(AwareDateTime(), nullable=False))
    withdrawn_by: str = Field(max_length=80)
    reason: str | None = Field(default=None, max_length=500)
    beacon: str | None = Field(default=None, max_length=300)
    # The pools as published at that commitment (stratum -> sample and pseudonyms): with
    # the seed and, once held, the named public draw's result, anyone computes whom that
    # draw would have drawn — a withdrawal after its public draw shows what it avoided.
    pool: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class DrawError(Exception):
    """A draw step that cannot be done now (clear message for the organizer)."""


@dataclass
class Commit:
    pools: dict[str, list[str]]  # stratum -> pseudonyms
    samples: dict[str, int]  # stratum -> sample
    pool_digest: str
    commitment: str


@dataclass
class Reveal:
    seed: str  # the committed seed, now public
    drawn: dict[str, list[str]]
    short: list[tuple[str, int, int]] = field(default_factory=list)  # (stratum, pool size, sample)
    draw_seed: str = ""  # what orders the pools: the seed combined with the public draw's value


def draw_seed(row: DrawRow) -> str:
    """The seed that orders the pools: the committed seed with the public draw's value,
    or (committed without a public draw) the committed seed itself."""
    if row.beacon is None:
        return row.seed
    if row.beacon_value is None:
        raise DrawError("the draw is not revealed yet: the public draw's value is not known")
    return sampling.beacon_seed(row.seed, row.beacon_value)


def check_beacon(beacon: str | None) -> str | None:
    """The public draw's name as stored and bound by the commitment (stripped)."""
    if beacon is None:
        return None
    name = " ".join(beacon.split())
    if not name:
        raise DrawError("--beacon names the public draw whose result will make the draw (e.g. "
                        "\"中国福利彩票双色球 2026-12-03 开奖号码\"); it is empty")
    if len(name) > sampling.BEACON_MAX:
        raise DrawError(f"the public draw's name is {len(name)} characters long; at most {sampling.BEACON_MAX}")
    return name


def check_beacon_value(value: str) -> str:
    """The public draw's result as entered (stripped); refused when empty or too long."""
    text = value.strip()
    try:
        sampling.canonical_beacon(text)
    except ValueError:
        raise DrawError("--beacon-value is empty: enter the public draw's result as announced, e.g. "
                        "\"03 07 12 19 25 31 + 09\"") from None
    if len(text) > sampling.BEACON_MAX:
        raise DrawError(f"--beacon-value is {len(text)} characters long; at most {sampling.BEACON_MAX}")
    return text


@dataclass(frozen=True)
class Preview:
    """One stratum as it would be frozen now (``preview``)."""

    stratum: sampling.Stratum
    pool: int


def _iso(t: datetime) -> str:
    """A stored time as published: UTC, with its offset (SQLite returns it naive)."""
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)).isoformat()


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
    """The frozen pools by stratum name."""
    out: dict[str, list[str]] = {}
    for g, unit, p in session.exec(select(PoolEntry.group_key, PoolEntry.unit, PoolEntry.pseudonym)
                                   .where(PoolEntry.campaign_id == campaign_id)):
        out.setdefault(sampling.stratum_name(g, unit), []).append(p)
    return sampling.canonical_pool(out)


def _eligible(session: Session, campaign: Campaign):  # noqa: ANN202
    """Who enters the pool: consented, not opted out, not an after-service rater."""
    from storage.models import Membership

    return session.exec(select(Membership).where(
        Membership.campaign_id == campaign.id, Membership.group_key.in_(sampled_groups(campaign)),
        Membership.consented, Membership.status != MemberStatus.OPTED_OUT, Membership.only_evaluee.is_(None))
        .order_by(Membership.id)).all()


def _stratum_of(campaign: Campaign, group_key: str, unit: str | None) -> str | None:
    g = campaign.group(group_key)
    if g.rates != "own_unit":
        return g.key
    return sampling.stratum_name(g.key, unit) if unit in campaign.units else None


def preview(session: Session, campaign: Campaign) -> list[Preview]:
    """Pool size against sample per stratum, as ``commit`` would freeze them now
    (nothing written)."""
    sizes: dict[str, int] = {}
    for m in _eligible(session, campaign):
        name = _stratum_of(campaign, m.group_key, m.unit)
        if name is not None:
            sizes[name] = sizes.get(name, 0) + 1
    return [Preview(st, sizes.get(st.name, 0)) for st in sampling.strata(campaign)]


def commit(session: Session, campaign: Campaign, now: datetime, *, fixed: bytes | None = None,
           beacon: str | None = None) -> Commit:
    """Freeze each stratum's pool (consented, not opted out, not an after-service
    rater) and commit to a fresh seed and to ``beacon``, the public draw (not yet
    held) whose result will be combined with the seed. Once per campaign, unless
    withdrawn (``uncommit``) before the reveal. ``beacon=None``: the legacy draw, whose
    seed alone decides the sample (so its committer could choose it).

    ``fixed``: derive the pseudonym key and the seed from these bytes instead of fresh
    randomness. Only ``minping demo --seed`` uses it (a repeatable demo); a real draw
    never does, since a seed known in advance lets its holder choose the sample."""
    if committed(session, campaign.id):
        raise DrawError(f"the pool of campaign '{campaign.id}' is already frozen and committed")
    beacon = check_beacon(beacon)
    strata = sampling.strata(campaign)
    if not strata:
        raise DrawError(f"campaign '{campaign.id}' has no sampled rater group (all are open)")
    secret = secrets.token_bytes(32) if fixed is None else hashlib.sha256(b"pseudonyms:" + fixed).digest()
    by_stratum: dict[str, list[str]] = {st.name: [] for st in strata}
    for m in _eligible(session, campaign):
        name = _stratum_of(campaign, m.group_key, m.unit)
        if name is None:
            continue  # an own-unit member without a known unit rates nobody
        p = sampling.pseudonym(secret, campaign.id, m.id)
        by_stratum[name].append(p)
        session.add(PoolEntry(campaign_id=campaign.id, pseudonym=p, group_key=m.group_key, membership_id=m.id,
                              unit=m.unit if campaign.group(m.group_key).rates == "own_unit" else None))
    seed = secrets.token_hex(32) if fixed is None else hashlib.sha256(b"seed:" + fixed).hexdigest()
    digest = sampling.pool_digest(by_stratum)
    row = DrawRow(campaign_id=campaign.id, secret=secret.hex(), seed=seed, pool_digest=digest,
                  commitment=sampling.commitment(seed, digest, beacon), committed_at=now, beacon=beacon)
    session.add(row)
    session.flush()
    return Commit(sampling.canonical_pool(by_stratum), {st.name: st.sample for st in strata}, digest,
                  row.commitment)


def uncommit(session: Session, campaign: Campaign, now: datetime, by: str, reason: str | None = None) -> WithdrawnDraw:
    """Withdraw the commitment before its reveal: the pools are unfrozen and the
    commitment is kept on record with its seed (``withdrawn``), published with the next
    pool list, so a withdrawn draw can be recomputed by anyone."""
    row = get(session, campaign.id)
    if row is None:
        raise DrawError(f"campaign '{campaign.id}' has no committed draw to withdraw")
    if row.revealed_at is not None:
        raise DrawError(f"the draw of campaign '{campaign.id}' was revealed (seed {row.seed}): it is final and "
                        "cannot be withdrawn")
    published = pool_file(session, campaign)["groups"]
    gone = WithdrawnDraw(campaign_id=campaign.id, seed=row.seed, pool_digest=row.pool_digest,
                         commitment=row.commitment, committed_at=row.committed_at, withdrawn_at=now,
                         withdrawn_by=by, reason=reason, beacon=row.beacon, pool=published)
    session.add(gone)
    session.exec(delete(PoolEntry).where(col(PoolEntry.campaign_id) == campaign.id))
    session.delete(row)
    session.flush()
    return gone


def withdrawn(session: Session, campaign_id: str) -> list[WithdrawnDraw]:
    return list(session.exec(select(WithdrawnDraw).where(WithdrawnDraw.campaign_id == campaign_id)
                             .order_by(WithdrawnDraw.id)))


def pool_file(session: Session, campaign: Campaign) -> dict:
    """The list to publish at commit: pseudonyms per stratum, the sample sizes, the
    digest, the commitment, the procedure, and any earlier commitment withdrawn before
    its reveal (with its seed). No names, chat ids or membership ids."""
    row = get(session, campaign.id)
    if row is None:
        raise DrawError(f"campaign '{campaign.id}' has no committed draw yet (run: minping sample {campaign.id} --commit --beacon NAME)")
    p = pools(session, campaign.id)
    out = {"campaign": campaign.id,
           "procedure": sampling.PROCEDURE if row.beacon is None else sampling.PROCEDURE_BEACON,
           "pool_digest": row.pool_digest, "commitment": row.commitment}
    if row.beacon is not None:
        out["beacon"] = row.beacon
        out["beacon_rule"] = sampling.BEACON_RULE
    else:
        out["beacon"] = None
        out["note"] = ("committed without a public draw (--no-beacon): the committed seed alone decides the "
                       "sample, so whoever made the seed could have chosen it")
    out["committed_at"] = _iso(row.committed_at)
    out["groups"] = {st.name: {"sample": st.sample, "pool": p.get(st.name, [])} for st in sampling.strata(campaign)}
    earlier = withdrawn(session, campaign.id)
    if earlier:
        out["withdrawn"] = [{"commitment": w.commitment, "seed": w.seed, "pool_digest": w.pool_digest,
                             "beacon": w.beacon, "committed_at": _iso(w.committed_at),
                             "withdrawn_at": _iso(w.withdrawn_at), "reason": w.reason, "groups": w.pool}
                            for w in earlier]
    return out


def _entries(session: Session, campaign_id: str, group: str | None = None):  # noqa: ANN202
    from storage.models import Membership

    q = (select(PoolEntry, Membership).join(Membership, Membership.id == PoolEntry.membership_id)
         .where(PoolEntry.campaign_id == campaign_id))
    if group is not None:
        q = q.where(PoolEntry.group_key == group)
    return session.exec(q).all()


def _name(e: PoolEntry) -> str:
    return sampling.stratum_name(e.group_key, e.unit)


def _mark(session: Session, members, round_no: int) -> None:  # noqa: ANN001
    for m in members:
        m.drawn_round = round_no
        if m.status == MemberStatus.ENROLLED:
            m.status = MemberStatus.DRAWN
        session.add(m)


def reveal(session: Session, campaign: Campaign, now: datetime, beacon_value: str | None = None) -> Reveal:
    """Draw round 1 of every stratum with the draw seed (the committed seed combined
    with ``beacon_value``, the result of the public draw named at commit); record it."""
    row = get(session, campaign.id)
    if row is None:
        raise DrawError(f"commit the draw first: minping sample {campaign.id} --commit")
    if row.revealed_at is not None:
        raise DrawError(f"the draw of campaign '{campaign.id}' was already revealed (seed {row.seed})")
    if row.beacon is not None and beacon_value is None:
        raise DrawError(f"the draw of campaign '{campaign.id}' was committed to the public draw «{row.beacon}»: "
                        "enter its result with --beacon-value (e.g. \"03 07 12 19 25 31 + 09\"), once it is announced")
    if row.beacon is None and beacon_value is not None:
        raise DrawError(f"the draw of campaign '{campaign.id}' was committed without a public draw (--no-beacon): "
                        "its seed alone makes the draw, there is no --beacon-value to enter")
    if beacon_value is not None:
        if (wrong := sampling.shape_problem(row.beacon, beacon_value)) is not None:
            raise DrawError(wrong)
        row.beacon_value = check_beacon_value(beacon_value)
    seed = draw_seed(row)
    entries = _entries(session, campaign.id)
    result = Reveal(row.seed, {}, draw_seed=seed)
    for st in sampling.strata(campaign):
        by_p = {e.pseudonym: m for e, m in entries if _name(e) == st.name}
        chosen = sampling.draw(seed, by_p, st.sample)
        if len(by_p) < st.sample:
            result.short.append((st.name, len(by_p), st.sample))
        _mark(session, [by_p[p] for p in chosen], 1)
        result.drawn[st.name] = chosen
    row.revealed_at = now
    session.add(row)
    session.flush()
    return result


def replace(session: Session, campaign: Campaign, group: str) -> list[tuple[str, int, list[str]]]:
    """A replacement round for ``group`` (each of its strata): one replacement for each
    non-responder (not submitted) of the stratum's latest round, the next pseudonyms in
    draw order. The latest round must have been invited first. Returns (stratum, round,
    pseudonyms) for each stratum that had non-responders."""
    row = get(session, campaign.id)
    if row is None or row.revealed_at is None:
        raise DrawError("replacements come after the draw: run minping sample --commit, then --reveal")
    if group not in sampled_groups(campaign):
        raise DrawError(f"'{group}' is not a sampled rater group of campaign '{campaign.id}' "
                        f"(sampled: {', '.join(sampled_groups(campaign)) or 'none'})")
    entries = _entries(session, campaign.id, group)
    by_stratum: dict[str, list] = {}
    for e, m in entries:
        by_stratum.setdefault(_name(e), []).append((e, m))
    drawn_any = False
    todo = []
    for name, members in by_stratum.items():
        drawn = [m for _, m in members if m.drawn_round is not None]
        if not drawn:
            continue
        drawn_any = True
        latest = max(m.drawn_round for m in drawn)
        last = [m for m in drawn if m.drawn_round == latest]
        if any(m.invited_at is None and m.status != MemberStatus.OPTED_OUT and not m.submitted for m in last):
            raise DrawError(f"round {latest} of '{name}' has not been invited yet: run minping invite first")
        k = sum(1 for m in last if not m.submitted)
        if k:
            todo.append((name, latest, k, members))
    if not drawn_any:
        raise DrawError(f"nobody of group '{group}' was drawn (its pool is empty)")
    if not todo:
        raise DrawError(f"group '{group}' has no non-responder in its latest round to replace")
    out = []
    for name, latest, k, members in todo:
        by_p = {e.pseudonym: m for e, m in members}
        rest = [p for p in sampling.order(draw_seed(row), by_p) if by_p[p].drawn_round is None]
        chosen = rest[:k]
        _mark(session, [by_p[p] for p in chosen], latest + 1)
        out.append((name, latest + 1, chosen))
    if not any(chosen for _, _, chosen in out):
        raise DrawError(f"the pool of group '{group}' is exhausted: nobody is left to draw")
    session.flush()
    return out


def drawn_file(session: Session, campaign: Campaign) -> dict:
    """The list to publish at reveal: the seed and the pseudonyms drawn per stratum and round."""
    row = get(session, campaign.id)
    if row is None or row.revealed_at is None:
        raise DrawError(f"campaign '{campaign.id}' has no revealed draw yet")
    rounds: dict[str, list[list[str]]] = {st.name: [[]] for st in sampling.strata(campaign)}
    for e, m in _entries(session, campaign.id):
        if m.drawn_round is not None:
            r = rounds.setdefault(_name(e), [[]])
            while len(r) < m.drawn_round:
                r.append([])
            r[m.drawn_round - 1].append(e.pseudonym)
    out = {"campaign": campaign.id, "seed": row.seed, "commitment": row.commitment, "beacon": row.beacon}
    if row.beacon is not None:
        out |= {"beacon_value": row.beacon_value, "beacon_canonical": sampling.canonical_beacon(row.beacon_value or ""),
                "draw_seed": draw_seed(row)}
    else:
        out["draw_seed"] = row.seed
    out["revealed_at"] = _iso(row.revealed_at)
    out["drawn"] = {g: [sorted(x) for x in r] for g, r in rounds.items()}
    return out


def counts_by_stratum(session: Session, campaign_id: str) -> dict[str, int]:
    """Frozen pool size per stratum."""
    return {name: len(p) for name, p in pools(session, campaign_id).items()}


def counts(session: Session, campaign_id: str) -> dict[str, int]:
    """Pool size per rater group (all its strata)."""
    return dict(session.exec(select(PoolEntry.group_key, func.count()).where(PoolEntry.campaign_id == campaign_id)
                             .group_by(PoolEntry.group_key)).all())
